//! ENVI raw rasters: a text `.hdr` beside a flat binary data file, read through memory
//! maps so that scenes far larger than memory can be tiled or chipped.
//!
//! Only the rows a request needs are mapped, and each mapping is dropped as soon as its
//! samples are converted, so tiling a whole scene end to end keeps resident memory at
//! about one strip of tiles, whatever the file's size.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};
use ndarray::{Array2, s};

use crate::error::{Error, Result};

/// ENVI `data type` codes sarlab reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    U8,
    I16,
    I32,
    F32,
    F64,
    /// Complex of two `f32` (real, imaginary).
    ComplexF32,
    /// Complex of two `f64`.
    ComplexF64,
    U16,
    U32,
    I64,
    U64,
}

impl DataType {
    pub const ALL: [DataType; 11] = [
        DataType::U8,
        DataType::I16,
        DataType::I32,
        DataType::F32,
        DataType::F64,
        DataType::ComplexF32,
        DataType::ComplexF64,
        DataType::U16,
        DataType::U32,
        DataType::I64,
        DataType::U64,
    ];

    /// The ENVI code (`data type = 4` is `f32`).
    pub fn code(self) -> u32 {
        match self {
            DataType::U8 => 1,
            DataType::I16 => 2,
            DataType::I32 => 3,
            DataType::F32 => 4,
            DataType::F64 => 5,
            DataType::ComplexF32 => 6,
            DataType::ComplexF64 => 9,
            DataType::U16 => 12,
            DataType::U32 => 13,
            DataType::I64 => 14,
            DataType::U64 => 15,
        }
    }

    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Bytes of one sample (both parts for complex types).
    pub fn size(self) -> usize {
        match self {
            DataType::U8 => 1,
            DataType::I16 | DataType::U16 => 2,
            DataType::I32 | DataType::U32 | DataType::F32 => 4,
            DataType::F64 | DataType::I64 | DataType::U64 | DataType::ComplexF32 => 8,
            DataType::ComplexF64 => 16,
        }
    }

    pub fn is_complex(self) -> bool {
        matches!(self, DataType::ComplexF32 | DataType::ComplexF64)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            DataType::U8 => "u8",
            DataType::I16 => "i16",
            DataType::I32 => "i32",
            DataType::F32 => "f32",
            DataType::F64 => "f64",
            DataType::ComplexF32 => "complex f32",
            DataType::ComplexF64 => "complex f64",
            DataType::U16 => "u16",
            DataType::U32 => "u32",
            DataType::I64 => "i64",
            DataType::U64 => "u64",
        };
        write!(f, "{name} (data type {})", self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `byte order = 0`.
    Little,
    /// `byte order = 1`.
    Big,
}

/// How bands are interleaved in the data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interleave {
    /// Band sequential: every line of band 0, then band 1, ...
    Bsq,
    /// Band interleaved by line: line 0 of every band, then line 1, ...
    Bil,
    /// Band interleaved by pixel: every band of pixel 0, then pixel 1, ...
    Bip,
}

impl Interleave {
    pub fn name(self) -> &'static str {
        match self {
            Interleave::Bsq => "bsq",
            Interleave::Bil => "bil",
            Interleave::Bip => "bip",
        }
    }
}

/// How complex samples become real pixel values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ComplexPart {
    /// `|z|`, the SAR magnitude.
    #[default]
    Magnitude,
    Real,
    Imaginary,
    /// `arg z` in `(−π, π]`.
    Phase,
}

/// A parsed ENVI header.
#[derive(Debug, Clone, PartialEq)]
pub struct EnviHeader {
    /// Columns.
    pub samples: usize,
    /// Rows.
    pub lines: usize,
    pub bands: usize,
    pub data_type: DataType,
    pub byte_order: ByteOrder,
    pub interleave: Interleave,
    /// Bytes to skip at the start of the data file.
    pub header_offset: u64,
    /// `band names`, when given.
    pub band_names: Vec<String>,
    /// Every `key = value` in file order, keys lowercased, braces kept.
    pub fields: Vec<(String, String)>,
}

impl EnviHeader {
    /// A header for a new raster (no extra fields).
    pub fn new(
        samples: usize,
        lines: usize,
        bands: usize,
        data_type: DataType,
        byte_order: ByteOrder,
        interleave: Interleave,
    ) -> Self {
        Self {
            samples,
            lines,
            bands,
            data_type,
            byte_order,
            interleave,
            header_offset: 0,
            band_names: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Parses header text. `path` only names the file in errors. Never panics.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let bad = |message: String| Error::Header {
            path: path.to_path_buf(),
            format: "ENVI",
            message,
        };
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some("ENVI") {
            return Err(bad("first line is not `ENVI`".to_owned()));
        }
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut pending: Option<(String, String)> = None;
        for (number, line) in lines.enumerate() {
            if let Some((key, mut value)) = pending.take() {
                value.push('\n');
                value.push_str(line);
                if line.contains('}') {
                    fields.push((key, value));
                } else {
                    pending = Some((key, value));
                }
                continue;
            }
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(';') {
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                return Err(bad(format!(
                    "line {} is `{trimmed}`, expected `key = value`",
                    number + 2
                )));
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim().to_owned();
            if value.starts_with('{') && !value.contains('}') {
                pending = Some((key, value));
            } else {
                fields.push((key, value));
            }
        }
        if let Some((key, _)) = pending {
            return Err(bad(format!("the `{{` of `{key}` is never closed")));
        }

        let lookup = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let number = |key: &str, default: Option<u64>| -> Result<u64> {
            match (lookup(key), default) {
                (Some(v), _) => v
                    .parse::<u64>()
                    .map_err(|_| bad(format!("`{key}` is `{v}`, expected a non-negative integer"))),
                (None, Some(d)) => Ok(d),
                (None, None) => Err(bad(format!("required key `{key}` is missing"))),
            }
        };
        let samples = number("samples", None)?;
        let lines = number("lines", None)?;
        let bands = number("bands", Some(1))?;
        let code = number("data type", None)?;
        let data_type = u32::try_from(code)
            .ok()
            .and_then(DataType::from_code)
            .ok_or_else(|| {
                bad(format!(
                    "`data type` is {code}, expected one of {}",
                    DataType::ALL.map(|t| t.to_string()).join(", ")
                ))
            })?;
        let byte_order = match number("byte order", Some(0))? {
            0 => ByteOrder::Little,
            1 => ByteOrder::Big,
            other => {
                return Err(bad(format!(
                    "`byte order` is {other}, expected 0 (little-endian) or 1 (big-endian)"
                )));
            }
        };
        let interleave = match lookup("interleave").map(str::to_ascii_lowercase).as_deref() {
            None | Some("bsq") => Interleave::Bsq,
            Some("bil") => Interleave::Bil,
            Some("bip") => Interleave::Bip,
            Some(other) => {
                return Err(bad(format!(
                    "`interleave` is `{other}`, expected bsq, bil or bip"
                )));
            }
        };
        let header_offset = number("header offset", Some(0))?;
        if samples == 0 || lines == 0 || bands == 0 {
            return Err(bad(format!(
                "raster is {samples} samples x {lines} lines x {bands} bands, expected none of them 0"
            )));
        }
        let total = samples
            .checked_mul(lines)
            .and_then(|n| n.checked_mul(bands))
            .and_then(|n| n.checked_mul(data_type.size() as u64))
            .and_then(|n| n.checked_add(header_offset));
        if total.is_none_or(|n| n > (1 << 50)) {
            return Err(bad(format!(
                "raster of {samples} x {lines} x {bands} {data_type} is implausibly large"
            )));
        }
        let band_names = lookup("band names")
            .map(|v| {
                v.trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace())
                    .split(',')
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            samples: samples as usize,
            lines: lines as usize,
            bands: bands as usize,
            data_type,
            byte_order,
            interleave,
            header_offset,
            band_names,
            fields,
        })
    }

    /// Header text for this raster (the fields sarlab reads, then any others).
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "ENVI\nsamples = {}\nlines = {}\nbands = {}\nheader offset = {}\nfile type = ENVI Standard\ndata type = {}\ninterleave = {}\nbyte order = {}\n",
            self.samples,
            self.lines,
            self.bands,
            self.header_offset,
            self.data_type.code(),
            self.interleave.name(),
            match self.byte_order {
                ByteOrder::Little => 0,
                ByteOrder::Big => 1,
            }
        );
        const OWN: [&str; 8] = [
            "samples",
            "lines",
            "bands",
            "header offset",
            "file type",
            "data type",
            "interleave",
            "byte order",
        ];
        for (key, value) in &self.fields {
            if !OWN.contains(&key.as_str()) {
                text.push_str(&format!("{key} = {value}\n"));
            }
        }
        text
    }

    /// Bytes the data file must hold at least.
    pub fn data_length(&self) -> u64 {
        self.header_offset + (self.samples * self.lines * self.bands * self.data_type.size()) as u64
    }

    /// Byte position of one sample in the data file.
    pub fn offset_of(&self, band: usize, row: usize, col: usize) -> u64 {
        let index = match self.interleave {
            Interleave::Bsq => (band * self.lines + row) * self.samples + col,
            Interleave::Bil => (row * self.bands + band) * self.samples + col,
            Interleave::Bip => (row * self.samples + col) * self.bands + band,
        };
        self.header_offset + (index * self.data_type.size()) as u64
    }
}

/// An ENVI raster opened for windowed reading.
#[derive(Debug)]
pub struct EnviRaster {
    pub header: EnviHeader,
    pub header_path: PathBuf,
    pub data_path: PathBuf,
    file: fs::File,
}

/// Data-file endings tried next to a header `name.hdr`: `name`, then these.
const DATA_EXTENSIONS: [&str; 6] = ["img", "dat", "raw", "bin", "bsq", "envi"];

impl EnviRaster {
    /// Opens a raster given its `.hdr` or its data file; the other is found beside it
    /// (`x.hdr` ↔ `x`, `x.img`, `x.dat`, `x.raw`, `x.bin`, `x.bsq`, `x.envi`, or `x.img.hdr`).
    pub fn open(path: &Path) -> Result<Self> {
        let (header_path, data_path) = locate_pair(path)?;
        let text = fs::read(&header_path).map_err(|source| Error::Read {
            path: header_path.clone(),
            source,
        })?;
        let text = String::from_utf8_lossy(&text);
        let header = EnviHeader::parse(&text, &header_path)?;
        let file = fs::File::open(&data_path).map_err(|source| Error::Read {
            path: data_path.clone(),
            source,
        })?;
        let actual = file
            .metadata()
            .map_err(|source| Error::Read {
                path: data_path.clone(),
                source,
            })?
            .len();
        if actual < header.data_length() {
            return Err(Error::Size {
                path: data_path,
                expected: header.data_length(),
                actual,
                what: format!(
                    "{} header offset + {} x {} x {} {} samples, from {}",
                    header.header_offset,
                    header.samples,
                    header.lines,
                    header.bands,
                    header.data_type,
                    header_path.display()
                ),
            });
        }
        Ok(Self {
            header,
            header_path,
            data_path,
            file,
        })
    }

    /// Reads `rows × cols` pixels of `band` whose top-left corner is (`row0`, `col0`).
    pub fn read_window(
        &self,
        band: usize,
        (row0, col0): (usize, usize),
        (rows, cols): (usize, usize),
        part: ComplexPart,
    ) -> Result<Array2<f64>> {
        let h = &self.header;
        if band >= h.bands {
            return Err(Error::BandOutOfRange {
                path: self.data_path.clone(),
                band,
                bands: h.bands,
            });
        }
        let fits = |start: usize, len: usize, limit: usize| {
            len > 0 && start.checked_add(len).is_some_and(|end| end <= limit)
        };
        if !fits(row0, rows, h.lines) || !fits(col0, cols, h.samples) {
            return Err(Error::InvalidArgument {
                what: "ENVI window",
                message: format!(
                    "{rows} rows from {row0} x {cols} columns from {col0} is outside the {} x {} raster {}",
                    h.lines,
                    h.samples,
                    self.data_path.display()
                ),
            });
        }
        let start = h.offset_of(band, row0, col0);
        let end = h.offset_of(band, row0 + rows - 1, col0 + cols - 1) + h.data_type.size() as u64;
        let map = self.map(start, end - start)?;
        let mut out = Array2::<f64>::zeros((rows, cols));
        for r in 0..rows {
            for (c, value) in out.row_mut(r).iter_mut().enumerate() {
                let at = (h.offset_of(band, row0 + r, col0 + c) - start) as usize;
                *value = sample_at(&map[at..], h.data_type, h.byte_order, part);
            }
        }
        Ok(out)
    }

    /// Tiles of `band` in row-major order, `tile.0 × tile.1` pixels each (smaller at the
    /// right and bottom edges). Reads one strip of tile rows at a time.
    pub fn tiles(&self, band: usize, tile: (usize, usize), part: ComplexPart) -> Tiles<'_> {
        Tiles {
            raster: self,
            band,
            tile,
            part,
            strip: None,
            next_row: 0,
            next_col: 0,
        }
    }

    /// `size × size` chips of `band` centred on each `(row, col)`; a chip that does not
    /// fit inside the raster is an error naming the centre.
    pub fn chips_at(
        &self,
        band: usize,
        centres: &[(usize, usize)],
        size: usize,
        part: ComplexPart,
    ) -> Result<Vec<Array2<f64>>> {
        let h = &self.header;
        centres
            .iter()
            .map(|&(row, col)| {
                let half = size / 2;
                let fits = size > 0
                    && row >= half
                    && col >= half
                    && row - half + size <= h.lines
                    && col - half + size <= h.samples;
                if !fits {
                    return Err(Error::InvalidArgument {
                        what: "ENVI chip",
                        message: format!(
                            "a {size}x{size} chip centred on row {row}, column {col} does not fit in the {} x {} raster {}",
                            h.lines,
                            h.samples,
                            self.data_path.display()
                        ),
                    });
                }
                self.read_window(band, (row - half, col - half), (size, size), part)
            })
            .collect()
    }

    fn map(&self, offset: u64, len: u64) -> Result<Mmap> {
        // SAFETY: the mapping is read-only and private to this call; its length was
        // checked against the file's size when the raster was opened. Another process
        // truncating the file while it is mapped would fault, as with any mmap reader.
        #[allow(unsafe_code)]
        let map = unsafe {
            MmapOptions::new()
                .offset(offset)
                .len(len as usize)
                .map(&self.file)
        };
        map.map_err(|source| Error::Read {
            path: self.data_path.clone(),
            source,
        })
    }
}

/// One tile from [`EnviRaster::tiles`].
#[derive(Debug, Clone)]
pub struct Tile {
    /// Top-left corner in the raster.
    pub row: usize,
    pub col: usize,
    pub data: Array2<f64>,
}

/// Iterator over the tiles of one band; see [`EnviRaster::tiles`].
#[derive(Debug)]
pub struct Tiles<'a> {
    raster: &'a EnviRaster,
    band: usize,
    tile: (usize, usize),
    part: ComplexPart,
    strip: Option<Array2<f64>>,
    next_row: usize,
    next_col: usize,
}

impl Iterator for Tiles<'_> {
    type Item = Result<Tile>;

    fn next(&mut self) -> Option<Self::Item> {
        let h = &self.raster.header;
        let (tile_rows, tile_cols) = self.tile;
        if tile_rows == 0 || tile_cols == 0 {
            self.next_row = h.lines;
            return Some(Err(Error::InvalidArgument {
                what: "ENVI tiles",
                message: format!("tile size {tile_rows}x{tile_cols} has no pixels"),
            }));
        }
        if self.next_row >= h.lines {
            return None;
        }
        let rows = tile_rows.min(h.lines - self.next_row);
        if self.strip.is_none() {
            match self.raster.read_window(
                self.band,
                (self.next_row, 0),
                (rows, h.samples),
                self.part,
            ) {
                Ok(strip) => self.strip = Some(strip),
                Err(e) => {
                    self.next_row = h.lines;
                    return Some(Err(e));
                }
            }
        }
        let strip = self.strip.as_ref()?;
        let cols = tile_cols.min(h.samples - self.next_col);
        let tile = Tile {
            row: self.next_row,
            col: self.next_col,
            data: strip
                .slice(s![.., self.next_col..self.next_col + cols])
                .to_owned(),
        };
        self.next_col += cols;
        if self.next_col >= h.samples {
            self.next_col = 0;
            self.next_row += rows;
            self.strip = None;
        }
        Some(Ok(tile))
    }
}

fn sample_at(bytes: &[u8], data_type: DataType, order: ByteOrder, part: ComplexPart) -> f64 {
    fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
        let mut a = [0; N];
        a.copy_from_slice(&bytes[..N]);
        a
    }
    macro_rules! num {
        ($t:ty, $b:expr) => {
            match order {
                ByteOrder::Little => <$t>::from_le_bytes(array($b)),
                ByteOrder::Big => <$t>::from_be_bytes(array($b)),
            }
        };
    }
    let complex = |re: f64, im: f64| -> f64 {
        match part {
            ComplexPart::Magnitude => re.hypot(im),
            ComplexPart::Real => re,
            ComplexPart::Imaginary => im,
            ComplexPart::Phase => im.atan2(re),
        }
    };
    match data_type {
        DataType::U8 => f64::from(bytes[0]),
        DataType::I16 => f64::from(num!(i16, bytes)),
        DataType::U16 => f64::from(num!(u16, bytes)),
        DataType::I32 => f64::from(num!(i32, bytes)),
        DataType::U32 => f64::from(num!(u32, bytes)),
        DataType::I64 => num!(i64, bytes) as f64,
        DataType::U64 => num!(u64, bytes) as f64,
        DataType::F32 => f64::from(num!(f32, bytes)),
        DataType::F64 => num!(f64, bytes),
        DataType::ComplexF32 => complex(
            f64::from(num!(f32, bytes)),
            f64::from(num!(f32, &bytes[4..])),
        ),
        DataType::ComplexF64 => complex(num!(f64, bytes), num!(f64, &bytes[8..])),
    }
}

/// Finds the header and data file of a raster from either of them.
fn locate_pair(path: &Path) -> Result<(PathBuf, PathBuf)> {
    let is_hdr = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("hdr"));
    let not_found = |message: String| Error::Header {
        path: path.to_path_buf(),
        format: "ENVI",
        message,
    };
    if is_hdr {
        let stem = path.with_extension("");
        let mut candidates = vec![stem.clone()];
        candidates.extend(DATA_EXTENSIONS.iter().map(|e| stem.with_extension(e)));
        candidates
            .into_iter()
            .find(|c| c.is_file())
            .map(|data| (path.to_path_buf(), data))
            .ok_or_else(|| {
                not_found(format!(
                    "no data file beside the header (tried {} and {}.{{{}}})",
                    stem.display(),
                    stem.display(),
                    DATA_EXTENSIONS.join(",")
                ))
            })
    } else {
        let mut beside = path.as_os_str().to_owned();
        beside.push(".hdr");
        [path.with_extension("hdr"), PathBuf::from(beside)]
            .into_iter()
            .find(|c| c.is_file())
            .map(|hdr| (hdr, path.to_path_buf()))
            .ok_or_else(|| {
                not_found(format!(
                    "no ENVI header beside the data file (tried {} and {}.hdr)",
                    path.with_extension("hdr").display(),
                    path.display()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Value of pixel (band, row, col) in the test rasters: distinct everywhere and
    /// exactly representable in every data type (including u8).
    fn value(band: usize, row: usize, col: usize) -> f64 {
        ((band * 53 + row * 11 + col * 3) % 250) as f64
    }

    fn encode(value: f64, data_type: DataType, order: ByteOrder) -> Vec<u8> {
        macro_rules! bytes {
            ($v:expr) => {
                match order {
                    ByteOrder::Little => $v.to_le_bytes().to_vec(),
                    ByteOrder::Big => $v.to_be_bytes().to_vec(),
                }
            };
        }
        match data_type {
            DataType::U8 => vec![value as u8],
            DataType::I16 => bytes!(value as i16 - 100),
            DataType::U16 => bytes!(value as u16 * 200),
            DataType::I32 => bytes!(value as i32 - 100_000),
            DataType::U32 => bytes!(value as u32 * 70_000),
            DataType::I64 => bytes!(value as i64 - 7),
            DataType::U64 => bytes!(value as u64 + 9),
            DataType::F32 => bytes!(value as f32 * 0.25),
            DataType::F64 => bytes!(value * 0.5),
            DataType::ComplexF32 => {
                let mut b = bytes!(3.0 * value as f32);
                b.extend(bytes!(4.0 * value as f32));
                b
            }
            DataType::ComplexF64 => {
                let mut b = bytes!(3.0 * value);
                b.extend(bytes!(-4.0 * value));
                b
            }
        }
    }

    /// What sarlab must read back for `value` (magnitude for complex types).
    fn expected(value: f64, data_type: DataType) -> f32 {
        (match data_type {
            DataType::U8 => value,
            DataType::I16 => value - 100.0,
            DataType::U16 => value * 200.0,
            DataType::I32 => value - 100_000.0,
            DataType::U32 => value * 70_000.0,
            DataType::I64 => value - 7.0,
            DataType::U64 => value + 9.0,
            DataType::F32 => value * 0.25,
            DataType::F64 => value * 0.5,
            DataType::ComplexF32 | DataType::ComplexF64 => 5.0 * value,
        }) as f32
    }

    fn write_raster(dir: &Path, header: &EnviHeader, garbage_prefix: usize) -> PathBuf {
        let data = dir.join(format!(
            "r_{}_{:?}_{}.img",
            header.data_type.code(),
            header.byte_order,
            header.interleave.name()
        ));
        let mut bytes = vec![0xAB; garbage_prefix];
        let h = header;
        let mut order: Vec<(usize, usize, usize)> = Vec::new();
        for b in 0..h.bands {
            for r in 0..h.lines {
                for c in 0..h.samples {
                    order.push((b, r, c));
                }
            }
        }
        order.sort_by_key(|&(b, r, c)| h.offset_of(b, r, c));
        for (b, r, c) in order {
            bytes.extend(encode(value(b, r, c), h.data_type, h.byte_order));
        }
        fs::write(&data, bytes).expect("write data");
        fs::write(data.with_extension("hdr"), h.to_text()).expect("write header");
        data
    }

    #[test]
    fn every_type_order_and_interleave_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut checked = 0;
        for data_type in DataType::ALL {
            for order in [ByteOrder::Little, ByteOrder::Big] {
                for interleave in [Interleave::Bsq, Interleave::Bil, Interleave::Bip] {
                    let mut header = EnviHeader::new(7, 5, 3, data_type, order, interleave);
                    header.header_offset = 13;
                    let data = write_raster(dir.path(), &header, 13);
                    for open_by in [data.clone(), data.with_extension("hdr")] {
                        let raster = EnviRaster::open(&open_by).expect("open");
                        assert_eq!(
                            raster.header,
                            EnviHeader::parse(&header.to_text(), &data).expect("parse")
                        );
                        for band in 0..3 {
                            let all = raster
                                .read_window(band, (0, 0), (5, 7), ComplexPart::Magnitude)
                                .expect("read");
                            for ((r, c), v) in all.indexed_iter() {
                                assert_eq!(
                                    *v,
                                    f64::from(expected(value(band, r, c), data_type)),
                                    "{data_type} {order:?} {interleave:?} band {band} ({r},{c})"
                                );
                            }
                            let window = raster
                                .read_window(band, (1, 2), (3, 4), ComplexPart::Magnitude)
                                .expect("window");
                            assert_eq!(window, all.slice(s![1..4, 2..6]));
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 11 * 2 * 3 * 2);
    }

    #[test]
    fn complex_parts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let header = EnviHeader::new(
            4,
            3,
            1,
            DataType::ComplexF64,
            ByteOrder::Big,
            Interleave::Bsq,
        );
        let data = write_raster(dir.path(), &header, 0);
        let raster = EnviRaster::open(&data).expect("open");
        let read = |part| raster.read_window(0, (0, 0), (3, 4), part).expect("read");
        let (re, im, ph) = (
            read(ComplexPart::Real),
            read(ComplexPart::Imaginary),
            read(ComplexPart::Phase),
        );
        assert_eq!(re[[1, 2]], f64::from(3.0 * value(0, 1, 2) as f32));
        assert_eq!(im[[1, 2]], f64::from(-4.0 * value(0, 1, 2) as f32));
        assert!((ph[[1, 2]] - f64::from(-4.0f32).atan2(3.0)).abs() < 1e-6);
    }

    #[test]
    fn tiles_cover_the_raster_exactly_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let header = EnviHeader::new(23, 17, 2, DataType::F32, ByteOrder::Little, Interleave::Bil);
        let data = write_raster(dir.path(), &header, 0);
        let raster = EnviRaster::open(&data).expect("open");
        let full = raster
            .read_window(1, (0, 0), (17, 23), ComplexPart::Magnitude)
            .expect("full");
        let mut covered = Array2::<u8>::zeros((17, 23));
        for tile in raster.tiles(1, (5, 8), ComplexPart::Magnitude) {
            let tile = tile.expect("tile");
            let (rows, cols) = tile.data.dim();
            assert!(rows <= 5 && cols <= 8);
            assert_eq!(
                tile.data,
                full.slice(s![tile.row..tile.row + rows, tile.col..tile.col + cols])
            );
            covered
                .slice_mut(s![tile.row..tile.row + rows, tile.col..tile.col + cols])
                .mapv_inplace(|v| v + 1);
        }
        assert!(covered.iter().all(|&v| v == 1));
        let chips = raster
            .chips_at(1, &[(8, 11), (2, 2)], 4, ComplexPart::Magnitude)
            .expect("chips");
        assert_eq!(chips[0], full.slice(s![6..10, 9..13]));
        assert_eq!(chips[1], full.slice(s![0..4, 0..4]));
        let err = raster
            .chips_at(1, &[(1, 11)], 4, ComplexPart::Magnitude)
            .unwrap_err();
        assert!(err.to_string().contains("row 1, column 11"), "{err}");
    }

    #[test]
    fn bad_headers_and_short_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hdr = dir.path().join("x.hdr");
        let parse = |text: &str| EnviHeader::parse(text, &hdr).unwrap_err().to_string();
        let base = "ENVI\nsamples = 4\nlines = 3\nbands = 1\ndata type = 4\ninterleave = bsq\nbyte order = 0\n";
        let err = parse(&base.replace("data type = 4", "data type = 7"));
        assert!(
            err.contains("x.hdr")
                && err.contains("`data type` is 7")
                && err.contains("(data type 12)"),
            "{err}"
        );
        let err = parse(&base.replace("lines = 3", "lines = three"));
        assert!(err.contains("`lines` is `three`"), "{err}");
        let err = parse(&base.replace("samples = 4\n", ""));
        assert!(err.contains("`samples` is missing"), "{err}");
        let err = parse(&base.replace("bsq", "bsx"));
        assert!(err.contains("`interleave` is `bsx`"), "{err}");
        let err = parse(&base.replace("ENVI", "IDL"));
        assert!(err.contains("ENVI"), "{err}");
        let err = parse(&format!("{base}band names = {{ HH,\n HV"));
        assert!(err.contains("never closed"), "{err}");
        let names = EnviHeader::parse(&format!("{base}band names = {{ HH,\n HV, VV }}\n"), &hdr)
            .expect("parse");
        assert_eq!(names.band_names, ["HH", "HV", "VV"]);

        fs::write(&hdr, base).expect("write");
        fs::write(dir.path().join("x.img"), [0u8; 47]).expect("write");
        let err = EnviRaster::open(&hdr).unwrap_err().to_string();
        assert!(
            err.contains("x.img") && err.contains("48") && err.contains("47"),
            "{err}"
        );
        fs::remove_file(dir.path().join("x.img")).expect("rm");
        let err = EnviRaster::open(&hdr).unwrap_err().to_string();
        assert!(err.contains("no data file"), "{err}");
    }
}
