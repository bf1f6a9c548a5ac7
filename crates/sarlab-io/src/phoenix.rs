//! MSTAR Phoenix files: target chips (big-endian `f32` magnitude then phase) and full
//! scenes (a 512-byte native header, then big-endian `u16` magnitude then phase).
//!
//! Layout, as checked on the released MSTAR files: an ASCII header of exactly
//! `PhoenixHeaderLength` bytes that starts with a line feed and `[PhoenixHeaderVer01.04]`
//! (DESIGN.md omits the line feed; every released file has it), holds one
//! `Key= value` line per field and ends with `[EndofPhoenixHeader]`; then
//! `native_header_length` bytes (0 for chips); then rows × cols magnitude samples and
//! rows × cols phase samples, row-major. `PhoenixSigSize` is the whole file's size and
//! `Chip_MD5_CheckSum` the MD5 of every byte after the Phoenix header.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::Path;

use md5::{Digest, Md5};
use ndarray::Array2;
use num_complex::Complex32;

use crate::error::{Error, Result};
use crate::hex::hex;

/// First bytes of every Phoenix file.
pub const MAGIC: &[u8] = b"[PhoenixHeaderVer";
const VERSION_LINE: &str = "[PhoenixHeaderVer01.04]";
const END_MARKER: &str = "[EndofPhoenixHeader]";
/// Native header length of MSTAR full scenes.
pub const SCENE_NATIVE_HEADER_LENGTH: usize = 512;
/// Headers longer than this are not Phoenix headers (released files have ~2 KB).
const MAX_HEADER_LENGTH: usize = 1 << 20;

/// Whether `prefix` (the first bytes of a file) starts a Phoenix header. The released
/// MSTAR files begin with a line feed before `[PhoenixHeaderVer01.04]`, so leading
/// whitespace is allowed.
pub fn is_phoenix(prefix: &[u8]) -> bool {
    let start = prefix
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    prefix[start..].starts_with(MAGIC)
}

/// How the samples after the header are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// Target chips: `f32` linear magnitude and phase in radians.
    ChipF32,
    /// Full scenes: `u16` magnitude and phase counts after a native header.
    SceneU16,
}

impl SampleKind {
    fn bytes_per_sample(self) -> usize {
        match self {
            SampleKind::ChipF32 => 4,
            SampleKind::SceneU16 => 2,
        }
    }
}

/// A parsed Phoenix header: the fields a study uses, typed, plus every field as written.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoenixHeader {
    /// Bytes from the start of the file to the first byte after the Phoenix header.
    pub header_length: usize,
    /// `PhoenixSigSize`: the whole file's size, when given.
    pub sig_size: Option<u64>,
    pub native_header_length: usize,
    pub rows: usize,
    pub cols: usize,
    /// `TargetType`, e.g. `t72_tank`: the class of a chip.
    pub target_type: Option<String>,
    /// `TargetSerNum`, e.g. `132`.
    pub serial: Option<String>,
    /// `TargetAz`, degrees.
    pub azimuth_deg: Option<f64>,
    /// `DesiredDepression`, degrees (17 for the SOC train set, 15 for test).
    pub depression_deg: Option<f64>,
    /// `MeasuredDepression`, degrees.
    pub measured_depression_deg: Option<f64>,
    /// `RangeResolution` and `CrossRangeResolution`, metres.
    pub range_resolution_m: Option<f64>,
    pub cross_range_resolution_m: Option<f64>,
    /// `RangePixelSpacing` and `CrossRangePixelSpacing`, metres.
    pub range_pixel_spacing_m: Option<f64>,
    pub cross_range_pixel_spacing_m: Option<f64>,
    /// `Chip_MD5_CheckSum`, lowercase hex.
    pub md5: Option<String>,
    /// Every `Key= value` line in file order (values trimmed).
    pub fields: Vec<(String, String)>,
}

impl PhoenixHeader {
    /// The value of a field as written, e.g. `get("Polarization") == Some("HH")`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn sample_kind(&self) -> SampleKind {
        if self.native_header_length == 0 {
            SampleKind::ChipF32
        } else {
            SampleKind::SceneU16
        }
    }

    /// Bytes after the Phoenix header: native header plus both sample blocks.
    pub fn payload_length(&self) -> u64 {
        let samples = (self.rows * self.cols) as u64;
        self.native_header_length as u64
            + 2 * samples * self.sample_kind().bytes_per_sample() as u64
    }

    /// Size the whole file must have.
    pub fn expected_file_size(&self) -> u64 {
        self.header_length as u64 + self.payload_length()
    }

    /// Parses the header at the start of `bytes` (the whole file, or at least its
    /// header). `path` only names the file in errors. Never panics on any input.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |message: String| Error::Header {
            path: path.to_path_buf(),
            format: "Phoenix",
            message,
        };
        if !is_phoenix(bytes) {
            return Err(bad(format!(
                "does not start with `{}`",
                String::from_utf8_lossy(MAGIC)
            )));
        }
        let window = &bytes[..bytes.len().min(MAX_HEADER_LENGTH)];
        let end = find(window, END_MARKER.as_bytes()).ok_or_else(|| {
            bad(format!(
                "no `{END_MARKER}` line in the first {} bytes (file truncated?)",
                window.len()
            ))
        })?;
        let text = std::str::from_utf8(&window[..end])
            .map_err(|e| bad(format!("header is not ASCII text: {e}")))?;

        let mut fields = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            // Blank lines and the `[PhoenixHeaderVer..]` line carry no field.
            if line.trim().is_empty() || line.trim_start().starts_with('[') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(bad(format!(
                    "header line {} is `{line}`, expected `Key= value`",
                    number + 1
                )));
            };
            fields.push((key.trim().to_owned(), value.trim().to_owned()));
        }

        let lookup = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let required =
            |key: &str| lookup(key).ok_or_else(|| bad(format!("required key `{key}` is missing")));
        let integer = |key: &str, value: &str| {
            value.parse::<u64>().map_err(|_| {
                bad(format!(
                    "`{key}` is `{value}`, expected a non-negative integer"
                ))
            })
        };
        let float = |key: &str| -> Result<Option<f64>> {
            lookup(key)
                .filter(|v| !v.is_empty())
                .map(|v| match v.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(x),
                    _ => Err(bad(format!("`{key}` is `{v}`, expected a number"))),
                })
                .transpose()
        };
        let text_field = |key: &str| lookup(key).filter(|v| !v.is_empty()).map(str::to_owned);

        let header_length = integer("PhoenixHeaderLength", required("PhoenixHeaderLength")?)?;
        let rows = integer("NumberOfRows", required("NumberOfRows")?)?;
        let cols = integer("NumberOfColumns", required("NumberOfColumns")?)?;
        let native_header_length = match lookup("native_header_length") {
            Some(v) => integer("native_header_length", v)?,
            None => 0,
        };
        let sig_size = lookup("PhoenixSigSize")
            .map(|v| integer("PhoenixSigSize", v))
            .transpose()?;

        let marker_end = (end + END_MARKER.len()) as u64;
        if header_length < marker_end || header_length > MAX_HEADER_LENGTH as u64 {
            return Err(bad(format!(
                "PhoenixHeaderLength is {header_length}, but `{END_MARKER}` ends at byte {marker_end}"
            )));
        }
        if rows == 0 || cols == 0 {
            return Err(bad(format!(
                "image is {rows}x{cols}, expected at least one row and one column"
            )));
        }
        // Reject sizes that cannot be addressed before any arithmetic can overflow.
        if rows.checked_mul(cols).is_none_or(|n| n > (1 << 34)) {
            return Err(bad(format!(
                "image of {rows}x{cols} samples is implausibly large"
            )));
        }
        if native_header_length > (1 << 30) {
            return Err(bad(format!(
                "native_header_length is {native_header_length}, implausibly large"
            )));
        }
        let md5 = text_field("Chip_MD5_CheckSum").map(|v| v.to_ascii_lowercase());
        if let Some(sum) = &md5
            && (sum.len() != 32 || !sum.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(bad(format!(
                "`Chip_MD5_CheckSum` is `{sum}`, expected 32 hex digits"
            )));
        }
        Ok(Self {
            header_length: header_length as usize,
            sig_size,
            native_header_length: native_header_length as usize,
            rows: rows as usize,
            cols: cols as usize,
            target_type: text_field("TargetType"),
            serial: text_field("TargetSerNum"),
            azimuth_deg: float("TargetAz")?,
            depression_deg: float("DesiredDepression")?,
            measured_depression_deg: float("MeasuredDepression")?,
            range_resolution_m: float("RangeResolution")?,
            cross_range_resolution_m: float("CrossRangeResolution")?,
            range_pixel_spacing_m: float("RangePixelSpacing")?,
            cross_range_pixel_spacing_m: float("CrossRangePixelSpacing")?,
            md5,
            fields,
        })
    }
}

/// Outcome of checking `Chip_MD5_CheckSum`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Md5Status {
    /// The checksum matches the bytes after the header.
    Ok,
    /// The checksum does not match: the file was altered or damaged.
    Failed { expected: String, actual: String },
    /// The header has no checksum.
    Absent,
    /// Not checked (verification was not asked for, or the format has no checksum).
    NotChecked,
}

impl fmt::Display for Md5Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Md5Status::Ok => f.write_str("ok"),
            Md5Status::Failed { expected, actual } => {
                write!(f, "failed (header says {expected}, data hash {actual})")
            }
            Md5Status::Absent => f.write_str("absent"),
            Md5Status::NotChecked => f.write_str("not checked"),
        }
    }
}

/// A Phoenix file read into memory.
#[derive(Debug, Clone)]
pub struct PhoenixImage {
    pub header: PhoenixHeader,
    /// Linear magnitude for chips; the stored `u16` counts for scenes.
    pub magnitude: Array2<f32>,
    /// Radians in `[0, 2π)` for chips; the stored `u16` counts for scenes.
    pub phase: Array2<f32>,
    /// The native header of a scene (empty for chips).
    pub native_header: Vec<u8>,
    pub md5: Md5Status,
}

impl PhoenixImage {
    /// The complex image `magnitude · e^{i·phase}` of a chip.
    ///
    /// `None` for full scenes: their phase is stored as counts whose scale to radians
    /// the header does not state, and a guessed scale would give wrong numbers.
    pub fn complex(&self) -> Option<Array2<Complex32>> {
        (self.header.sample_kind() == SampleKind::ChipF32).then(|| {
            ndarray::Zip::from(&self.magnitude)
                .and(&self.phase)
                .map_collect(|&m, &p| Complex32::from_polar(m, p))
        })
    }
}

/// Reads only the header of a Phoenix file (the first `PhoenixHeaderLength` bytes).
pub fn read_header(path: &Path) -> Result<PhoenixHeader> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs::File::open(path).map_err(read_err)?;
    let mut prefix = Vec::with_capacity(8192);
    // Released headers are about 2 KB; read more only when the end marker is further.
    let mut limit = 8192;
    loop {
        prefix.clear();
        (&mut file)
            .take(limit)
            .read_to_end(&mut prefix)
            .map_err(read_err)?;
        let found = find(&prefix, END_MARKER.as_bytes()).is_some();
        if found || (prefix.len() as u64) < limit || limit >= MAX_HEADER_LENGTH as u64 {
            break;
        }
        limit *= 8;
        std::io::Seek::rewind(&mut file).map_err(read_err)?;
    }
    PhoenixHeader::parse(&prefix, path)
}

/// Reads a whole Phoenix file. With `verify_md5`, the checksum is computed and its
/// status returned in [`PhoenixImage::md5`] (a mismatch is reported, not an error,
/// so that `dataset info` can count failures; [`crate::DatasetIndex::load`] rejects
/// them).
pub fn read(path: &Path, verify_md5: bool) -> Result<PhoenixImage> {
    let bytes = fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes, path, verify_md5)
}

/// Decodes a Phoenix file held in memory; see [`read`].
pub fn decode(bytes: &[u8], path: &Path, verify_md5: bool) -> Result<PhoenixImage> {
    let header = PhoenixHeader::parse(bytes, path)?;
    let actual_size = bytes.len() as u64;
    let expected = header.expected_file_size();
    if actual_size != expected {
        return Err(Error::Size {
            path: path.to_path_buf(),
            expected,
            actual: actual_size,
            what: format!(
                "{} header bytes + {} native header bytes + 2 × {}x{} {} samples",
                header.header_length,
                header.native_header_length,
                header.rows,
                header.cols,
                match header.sample_kind() {
                    SampleKind::ChipF32 => "f32",
                    SampleKind::SceneU16 => "u16",
                }
            ),
        });
    }
    if let Some(sig) = header.sig_size
        && sig != actual_size
    {
        return Err(Error::Size {
            path: path.to_path_buf(),
            expected: sig,
            actual: actual_size,
            what: "PhoenixSigSize".to_owned(),
        });
    }
    let payload = &bytes[header.header_length..];
    let md5 = match (&header.md5, verify_md5) {
        (_, false) => Md5Status::NotChecked,
        (None, true) => Md5Status::Absent,
        (Some(expected), true) => {
            let actual = hex(&Md5::digest(payload));
            if &actual == expected {
                Md5Status::Ok
            } else {
                Md5Status::Failed {
                    expected: expected.clone(),
                    actual,
                }
            }
        }
    };
    let (native_header, samples) = payload.split_at(header.native_header_length);
    let n = header.rows * header.cols;
    let shape = (header.rows, header.cols);
    let (magnitude, phase) = match header.sample_kind() {
        SampleKind::ChipF32 => {
            let values: Vec<f32> = samples
                .chunks_exact(4)
                .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                let block = if i < n { "magnitude" } else { "phase" };
                let at = i % n;
                return Err(Error::NonFinite {
                    path: path.to_path_buf(),
                    row: at / header.cols,
                    col: at % header.cols,
                    what: block,
                });
            }
            split_blocks(values, shape)
        }
        SampleKind::SceneU16 => {
            let values: Vec<f32> = samples
                .chunks_exact(2)
                .map(|b| f32::from(u16::from_be_bytes([b[0], b[1]])))
                .collect();
            split_blocks(values, shape)
        }
    };
    Ok(PhoenixImage {
        header,
        magnitude,
        phase,
        native_header: native_header.to_vec(),
        md5,
    })
}

fn split_blocks(mut values: Vec<f32>, shape: (usize, usize)) -> (Array2<f32>, Array2<f32>) {
    let phase = values.split_off(shape.0 * shape.1);
    // Lengths were checked against the header above.
    let to_array = |v: Vec<f32>| Array2::from_shape_vec(shape, v).expect("block length checked");
    (to_array(values), to_array(phase))
}

/// Samples to write after a Phoenix header.
#[derive(Debug, Clone, Copy)]
pub enum PhoenixSamples<'a> {
    /// A target chip: linear magnitude and phase in radians.
    Chip {
        magnitude: &'a Array2<f32>,
        phase: &'a Array2<f32>,
    },
    /// A full scene: `u16` counts after a native header (512 bytes in MSTAR).
    Scene {
        native_header: &'a [u8],
        magnitude: &'a Array2<u16>,
        phase: &'a Array2<u16>,
    },
}

/// Keys the writer computes itself; values given for them are replaced
/// (the first three are written at the top of the header, the others in place).
const MANAGED_KEYS: [&str; 3] = ["PhoenixHeaderLength", "PhoenixSigSize", "PhoenixSigNum"];

/// Encodes a complete Phoenix file: `fields` (in order; e.g. `TargetType`,
/// `DesiredDepression`, or a header read from another file) plus the keys the writer
/// owns: `PhoenixHeaderLength`, `PhoenixSigSize`, `native_header_length`,
/// `NumberOfRows`/`NumberOfColumns` and `Chip_MD5_CheckSum`, all computed from the data.
pub fn encode(fields: &[(String, String)], samples: PhoenixSamples<'_>) -> Result<Vec<u8>> {
    let invalid = |message: String| Error::InvalidArgument {
        what: "Phoenix writer",
        message,
    };
    let mut payload = Vec::new();
    let (rows, cols, native_len) = match samples {
        PhoenixSamples::Chip { magnitude, phase } => {
            if magnitude.dim() != phase.dim() {
                return Err(invalid(format!(
                    "magnitude is {:?} but phase is {:?}",
                    magnitude.dim(),
                    phase.dim()
                )));
            }
            if let Some(v) = magnitude.iter().chain(phase).find(|v| !v.is_finite()) {
                return Err(invalid(format!("non-finite sample {v}")));
            }
            for v in magnitude.iter().chain(phase) {
                payload.extend_from_slice(&v.to_be_bytes());
            }
            (magnitude.nrows(), magnitude.ncols(), 0)
        }
        PhoenixSamples::Scene {
            native_header,
            magnitude,
            phase,
        } => {
            if magnitude.dim() != phase.dim() {
                return Err(invalid(format!(
                    "magnitude is {:?} but phase is {:?}",
                    magnitude.dim(),
                    phase.dim()
                )));
            }
            if native_header.is_empty() {
                return Err(invalid(
                    "a scene needs a non-empty native header".to_owned(),
                ));
            }
            payload.extend_from_slice(native_header);
            for v in magnitude.iter().chain(phase) {
                payload.extend_from_slice(&v.to_be_bytes());
            }
            (magnitude.nrows(), magnitude.ncols(), native_header.len())
        }
    };
    if rows == 0 || cols == 0 {
        return Err(invalid("image has no pixels".to_owned()));
    }
    let md5 = hex(&Md5::digest(&payload));

    let computed = [
        ("native_header_length", native_len.to_string()),
        ("Chip_MD5_CheckSum", md5),
        ("NumberOfColumns", cols.to_string()),
        ("NumberOfRows", rows.to_string()),
    ];
    // Given fields keep their order; computed keys replace their values in place, and
    // those not given go first. The three length/signature keys are written on top.
    let mut lines: Vec<(String, String)> = Vec::with_capacity(fields.len() + 4);
    for (key, value) in fields {
        if key.is_empty() || key.contains(['=', '\n', '\r']) || key.trim_start().starts_with('[') {
            return Err(invalid(format!("invalid header key `{key}`")));
        }
        if value.contains(['\n', '\r']) {
            return Err(invalid(format!("value of `{key}` contains a line break")));
        }
        if MANAGED_KEYS.contains(&key.as_str()) || lines.iter().any(|(k, _)| k == key) {
            continue;
        }
        let value = computed
            .iter()
            .find(|(k, _)| k == key)
            .map_or_else(|| value.clone(), |(_, v)| v.clone());
        lines.push((key.clone(), value));
    }
    let missing: Vec<(String, String)> = computed
        .iter()
        .filter(|(k, _)| !lines.iter().any(|(l, _)| l == k))
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    lines.splice(0..0, missing);

    // Fixed-width numbers make the header's length independent of its own value.
    let body: String = lines.iter().map(|(k, v)| format!("{k}= {v}\n")).collect();
    let fixed = |length: u64, sig: u64| {
        format!(
            "\n{VERSION_LINE}\nPhoenixHeaderLength= {length:05}\nPhoenixSigSize= {sig:08}\nPhoenixSigNum= 0001\n{body}{END_MARKER}\n"
        )
    };
    let header_length = fixed(0, 0).len() as u64;
    let total = header_length + payload.len() as u64;
    if header_length > 99_999 || total > 99_999_999 {
        return Err(invalid(format!(
            "header of {header_length} bytes or file of {total} bytes exceeds the Phoenix field widths"
        )));
    }
    let mut out = fixed(header_length, total).into_bytes();
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Writes a Phoenix file (see [`encode`]).
pub fn write(path: &Path, fields: &[(String, String)], samples: PhoenixSamples<'_>) -> Result<()> {
    let bytes = encode(fields, samples)?;
    fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::TAU;
    use std::path::PathBuf;

    fn fields() -> Vec<(String, String)> {
        [
            ("TargetType", "t72_tank"),
            ("TargetSerNum", "132"),
            ("TargetAz", "12.5"),
            ("DesiredDepression", "15"),
            ("Polarization", "HH"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    }

    fn chip(rows: usize, cols: usize) -> (Array2<f32>, Array2<f32>) {
        let magnitude = Array2::from_shape_fn((rows, cols), |(r, c)| (r * cols + c) as f32 * 0.01);
        let phase = Array2::from_shape_fn((rows, cols), |(r, c)| ((r + 3 * c) as f32 * 0.1) % TAU);
        (magnitude, phase)
    }

    fn here() -> PathBuf {
        PathBuf::from("test.phx")
    }

    #[test]
    fn chip_round_trips_header_and_samples() {
        let (magnitude, phase) = chip(5, 7);
        let bytes = encode(
            &fields(),
            PhoenixSamples::Chip {
                magnitude: &magnitude,
                phase: &phase,
            },
        )
        .expect("encode");
        let image = decode(&bytes, &here(), true).expect("decode");
        let h = &image.header;
        assert_eq!((h.rows, h.cols), (5, 7));
        assert_eq!(h.sig_size, Some(bytes.len() as u64));
        assert_eq!(h.header_length + 2 * 4 * 35, bytes.len());
        assert_eq!(h.target_type.as_deref(), Some("t72_tank"));
        assert_eq!(h.serial.as_deref(), Some("132"));
        assert_eq!(h.azimuth_deg, Some(12.5));
        assert_eq!(h.depression_deg, Some(15.0));
        assert_eq!(h.get("Polarization"), Some("HH"));
        assert_eq!(image.md5, Md5Status::Ok);
        assert_eq!(image.magnitude, magnitude);
        assert_eq!(image.phase, phase);
        let z = image.complex().expect("chips are complex");
        assert!((z[[2, 3]].norm() - magnitude[[2, 3]]).abs() < 1e-6);

        // Writing the parsed header back gives the same file byte for byte.
        let again = encode(
            &h.fields,
            PhoenixSamples::Chip {
                magnitude: &image.magnitude,
                phase: &image.phase,
            },
        )
        .expect("re-encode");
        assert_eq!(again, bytes);
    }

    #[test]
    fn scene_round_trips_u16_samples_after_native_header() {
        let magnitude = Array2::from_shape_fn((4, 6), |(r, c)| (r * 1000 + c) as u16);
        let phase = Array2::from_shape_fn((4, 6), |(r, c)| (4095 - r * 6 - c) as u16);
        let native = vec![7u8; SCENE_NATIVE_HEADER_LENGTH];
        let bytes = encode(
            &fields(),
            PhoenixSamples::Scene {
                native_header: &native,
                magnitude: &magnitude,
                phase: &phase,
            },
        )
        .expect("encode");
        let image = decode(&bytes, &here(), true).expect("decode");
        assert_eq!(image.header.sample_kind(), SampleKind::SceneU16);
        assert_eq!(image.header.native_header_length, 512);
        assert_eq!(image.native_header, native);
        assert_eq!(image.magnitude, magnitude.mapv(f32::from));
        assert_eq!(image.phase, phase.mapv(f32::from));
        assert_eq!(image.md5, Md5Status::Ok);
        assert!(image.complex().is_none());
    }

    fn valid_bytes() -> Vec<u8> {
        let (magnitude, phase) = chip(3, 3);
        encode(
            &fields(),
            PhoenixSamples::Chip {
                magnitude: &magnitude,
                phase: &phase,
            },
        )
        .expect("encode")
    }

    fn error_of(bytes: &[u8]) -> String {
        decode(bytes, &here(), true)
            .expect_err("must be rejected")
            .to_string()
    }

    #[test]
    fn truncated_file_names_expected_size() {
        let bytes = valid_bytes();
        let err = error_of(&bytes[..bytes.len() - 5]);
        assert!(
            err.contains("test.phx") && err.contains("expected"),
            "{err}"
        );
        let err = error_of(&bytes[..100]);
        assert!(err.contains("EndofPhoenixHeader"), "{err}");
    }

    #[test]
    fn header_length_past_marker_or_end_is_rejected() {
        let mut bytes = valid_bytes();
        let at = find(&bytes, b"PhoenixHeaderLength= ").expect("key") + 21;
        bytes[at..at + 5].copy_from_slice(b"99999");
        let err = error_of(&bytes);
        assert!(err.contains("expected"), "{err}");
        bytes[at..at + 5].copy_from_slice(b"00010");
        let err = error_of(&bytes);
        assert!(err.contains("PhoenixHeaderLength is 10"), "{err}");
    }

    #[test]
    fn missing_or_non_numeric_keys_are_named() {
        let bytes = valid_bytes();
        let replace = |from: &[u8], to: &[u8]| {
            let at = find(&bytes, from).expect("present");
            let mut b = bytes.clone();
            b.splice(at..at + from.len(), to.iter().copied());
            b
        };
        let err = error_of(&replace(b"NumberOfRows= 3", b"NumberOfRows= x"));
        assert!(err.contains("`NumberOfRows` is `x`"), "{err}");
        let err = error_of(&replace(b"NumberOfRows= 3", b"NumberOfRowz= 3"));
        assert!(err.contains("`NumberOfRows` is missing"), "{err}");
        let err = error_of(&replace(b"TargetAz= 12.5", b"TargetAz= north"));
        assert!(err.contains("`TargetAz`"), "{err}");
    }

    #[test]
    fn non_finite_samples_are_rejected_with_position() {
        let mut magnitude = Array2::<f32>::ones((3, 3));
        magnitude[[1, 2]] = f32::NAN;
        let phase = Array2::<f32>::zeros((3, 3));
        assert!(
            encode(
                &fields(),
                PhoenixSamples::Chip {
                    magnitude: &magnitude,
                    phase: &phase
                }
            )
            .is_err()
        );
        // Poke a NaN into a valid file's phase block.
        let mut bytes = valid_bytes();
        let header = PhoenixHeader::parse(&bytes, &here()).expect("parse");
        let at = header.header_length + 4 * 9 + 4 * 4;
        bytes[at..at + 4].copy_from_slice(&f32::NAN.to_be_bytes());
        let err = error_of(&bytes);
        assert!(
            err.contains("phase") && err.contains("row 1, column 1"),
            "{err}"
        );
    }

    #[test]
    fn flipped_payload_byte_fails_md5() {
        let mut bytes = valid_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        let image = decode(&bytes, &here(), true).expect("still decodes");
        assert!(matches!(image.md5, Md5Status::Failed { .. }));
        let unchecked = decode(&bytes, &here(), false).expect("decodes");
        assert_eq!(unchecked.md5, Md5Status::NotChecked);
    }

    #[test]
    fn not_phoenix_is_named() {
        let err = error_of(b"\x89PNG\r\n");
        assert!(err.contains("[PhoenixHeaderVer"), "{err}");
    }
}
