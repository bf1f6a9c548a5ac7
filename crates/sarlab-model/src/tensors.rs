//! The container: the safetensors layout (an 8-byte little-endian header length, a JSON
//! header naming each array's dtype, shape and byte range, then the arrays'
//! little-endian bytes), with sarlab's header and a SHA-256 checksum in its
//! `__metadata__`. Any safetensors reader (`safetensors.numpy.load_file`) opens the
//! arrays; this reader also checks everything before use, so a truncated, padded or
//! altered file is an error, never a panic or a wrong model.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Metadata keys of a sarlab model.
pub(crate) const FORMAT_KEY: &str = "format";
pub(crate) const FORMAT_NAME: &str = "sarlab-model";
pub(crate) const VERSION_KEY: &str = "format_version";
pub(crate) const HEADER_KEY: &str = "sarlab";
pub(crate) const CHECKSUM_KEY: &str = "sha256";

/// A JSON header longer than this is not a model's (they are a few kB).
const MAX_HEADER_BYTES: u64 = 16 << 20;

/// An array's element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dtype {
    F64,
    I64,
    U8,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 => 8,
            Dtype::U8 => 1,
        }
    }
}

/// One array as the header describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorInfo {
    dtype: Dtype,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// One array: its element type, shape and little-endian bytes.
type Array<'a> = (Dtype, Vec<usize>, Cow<'a, [u8]>);

/// Arrays by name, about to be written (owned bytes) or as read (borrowed from the
/// file's bytes, so loading copies each array once, into its values).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Tensors<'a> {
    arrays: BTreeMap<String, Array<'a>>,
}

impl<'a> Tensors<'a> {
    pub(crate) fn put_f64(&mut self, name: &str, shape: Vec<usize>, values: &[f64]) {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.arrays
            .insert(name.to_owned(), (Dtype::F64, shape, Cow::Owned(bytes)));
    }

    pub(crate) fn put_usize(&mut self, name: &str, shape: Vec<usize>, values: &[usize]) {
        let bytes: Vec<u8> = values
            .iter()
            .flat_map(|&v| (v as i64).to_le_bytes())
            .collect();
        self.arrays
            .insert(name.to_owned(), (Dtype::I64, shape, Cow::Owned(bytes)));
    }

    pub(crate) fn put_bools(&mut self, name: &str, values: &[bool]) {
        let bytes: Vec<u8> = values.iter().map(|&b| u8::from(b)).collect();
        self.arrays.insert(
            name.to_owned(),
            (Dtype::U8, vec![values.len()], Cow::Owned(bytes)),
        );
    }

    fn get(&self, name: &str, dtype: Dtype) -> Result<(&[usize], &[u8])> {
        let (found, shape, bytes) = self
            .arrays
            .get(name)
            .ok_or_else(|| Error::Malformed(format!("the array `{name}` is missing")))?;
        if *found != dtype {
            return Err(Error::Malformed(format!(
                "the array `{name}` is {found:?}, expected {dtype:?}"
            )));
        }
        Ok((shape, bytes))
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.arrays.contains_key(name)
    }

    /// The array `name` with its shape, which must have `rank` dimensions.
    pub(crate) fn f64(&self, name: &str, rank: usize) -> Result<(Vec<usize>, Vec<f64>)> {
        let (shape, bytes) = self.get(name, Dtype::F64)?;
        check_rank(name, shape, rank)?;
        let values: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(Error::Malformed(format!(
                "the array `{name}` holds {bad}, a model holds finite numbers only"
            )));
        }
        Ok((shape.to_vec(), values))
    }

    pub(crate) fn usize(&self, name: &str, rank: usize) -> Result<(Vec<usize>, Vec<usize>)> {
        let (shape, bytes) = self.get(name, Dtype::I64)?;
        check_rank(name, shape, rank)?;
        let values = bytes
            .chunks_exact(8)
            .map(|b| {
                let v = i64::from_le_bytes(b.try_into().expect("8 bytes"));
                usize::try_from(v).map_err(|_| {
                    Error::Malformed(format!(
                        "the array `{name}` holds {v}, expected counts and indices"
                    ))
                })
            })
            .collect::<Result<_>>()?;
        Ok((shape.to_vec(), values))
    }

    pub(crate) fn bools(&self, name: &str) -> Result<Vec<bool>> {
        let (shape, bytes) = self.get(name, Dtype::U8)?;
        check_rank(name, shape, 1)?;
        bytes
            .iter()
            .map(|&b| match b {
                0 => Ok(false),
                1 => Ok(true),
                other => Err(Error::Malformed(format!(
                    "the array `{name}` holds {other}, expected 0 or 1"
                ))),
            })
            .collect()
    }

    /// The file: header length, JSON header (padded with spaces to 8 bytes, as
    /// safetensors writes it), data. `metadata` gets the format name, version and
    /// checksum added.
    pub(crate) fn to_bytes(&self, sarlab_header: &str, version: u32) -> Vec<u8> {
        let mut table = serde_json::Map::new();
        let mut data = Vec::new();
        for (name, (dtype, shape, bytes)) in &self.arrays {
            let begin = data.len();
            data.extend_from_slice(bytes);
            let info = TensorInfo {
                dtype: *dtype,
                shape: shape.clone(),
                data_offsets: [begin, data.len()],
            };
            table.insert(
                name.clone(),
                serde_json::to_value(info).expect("plain fields"),
            );
        }
        let checksum = checksum(sarlab_header, &self.canonical_table(), &data);
        let metadata = BTreeMap::from([
            (FORMAT_KEY, FORMAT_NAME.to_owned()),
            (VERSION_KEY, version.to_string()),
            (HEADER_KEY, sarlab_header.to_owned()),
            (CHECKSUM_KEY, checksum),
        ]);
        table.insert(
            "__metadata__".to_owned(),
            serde_json::to_value(metadata).expect("strings"),
        );
        let mut header = serde_json::to_vec(&table).expect("JSON values");
        while !header.len().is_multiple_of(8) {
            header.push(b' ');
        }
        let mut out = Vec::with_capacity(8 + header.len() + data.len());
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&data);
        out
    }

    /// `name dtype shape` per array in name order: what the checksum covers of the
    /// table (offsets follow from it and are checked against the sizes).
    fn canonical_table(&self) -> String {
        self.arrays
            .iter()
            .map(|(name, (dtype, shape, _))| format!("{name} {dtype:?} {shape:?}\n"))
            .collect()
    }

    /// Reads a file's bytes: the arrays and sarlab's header text, after checking the
    /// layout, the format name and version (at most `supported`) and the checksum.
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: &'a [u8], supported: u32) -> Result<(Self, String)> {
        let parsed = Parsed::new(bytes, supported)?;
        parsed.verify()?;
        Ok((parsed.tensors, parsed.header))
    }

    /// Reads a file's bytes as `Tensors::from_bytes` does (layout, format name and
    /// version, checksum), handing the arrays and the header to `build` while the
    /// checksum is computed beside it (the two cost about the same on a large model).
    /// A checksum mismatch is the error whatever `build` found: a changed file may
    /// fail in any way.
    pub(crate) fn read_with<R: Send>(
        bytes: &'a [u8],
        supported: u32,
        build: impl FnOnce(&Tensors<'a>, &str) -> Result<R> + Send,
    ) -> Result<R> {
        let parsed = Parsed::new(bytes, supported)?;
        let (verified, built) = rayon::join(
            || parsed.verify(),
            || build(&parsed.tensors, &parsed.header),
        );
        verified?;
        built
    }
}

/// A file's arrays and header whose checksum is still to be compared.
struct Parsed<'a> {
    tensors: Tensors<'a>,
    header: String,
    data: &'a [u8],
    expected: String,
}

impl<'a> Parsed<'a> {
    fn verify(&self) -> Result<()> {
        let actual = checksum(&self.header, &self.tensors.canonical_table(), self.data);
        if self.expected != actual {
            return Err(Error::Checksum {
                expected: self.expected.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// The layout, format name and version checks of [`Tensors::from_bytes`].
    fn new(bytes: &'a [u8], supported: u32) -> Result<Self> {
        let Some(length) = bytes.get(..8) else {
            return Err(Error::Truncated(format!(
                "{} bytes, shorter than the 8-byte header length",
                bytes.len()
            )));
        };
        let length = u64::from_le_bytes(length.try_into().expect("8 bytes"));
        if length > MAX_HEADER_BYTES {
            return Err(Error::NotAModel(format!(
                "its first 8 bytes announce a {length}-byte header (a model's is a few kB)"
            )));
        }
        let length = length as usize;
        let header = bytes.get(8..8 + length).ok_or_else(|| {
            Error::Truncated(format!(
                "the header announces {length} bytes, the file has {} after the length",
                bytes.len() - 8
            ))
        })?;
        let data = &bytes[8 + length..];
        let table: BTreeMap<String, serde_json::Value> = serde_json::from_slice(header)
            .map_err(|e| Error::NotAModel(format!("its header is not a JSON table ({e})")))?;
        let metadata: BTreeMap<String, String> = match table.get("__metadata__") {
            Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
                Error::NotAModel(format!("its `__metadata__` is not a string table ({e})"))
            })?,
            None => BTreeMap::new(),
        };
        if metadata.get(FORMAT_KEY).map(String::as_str) != Some(FORMAT_NAME) {
            return Err(Error::NotAModel(format!(
                "a safetensors-style file without `{FORMAT_KEY}: {FORMAT_NAME}` in its metadata"
            )));
        }
        let version: u32 = metadata
            .get(VERSION_KEY)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::Malformed(format!("no readable `{VERSION_KEY}`")))?;
        if version > supported || version == 0 {
            return Err(Error::NewerVersion {
                found: version,
                supported,
            });
        }
        let sarlab_header = metadata
            .get(HEADER_KEY)
            .ok_or_else(|| Error::Malformed(format!("no `{HEADER_KEY}` header")))?
            .clone();
        let mut infos: Vec<(String, TensorInfo)> = table
            .into_iter()
            .filter(|(name, _)| name != "__metadata__")
            .map(|(name, value)| {
                serde_json::from_value(value)
                    .map(|info| (name.clone(), info))
                    .map_err(|e| Error::Malformed(format!("the array `{name}`: {e}")))
            })
            .collect::<Result<_>>()?;
        infos.sort_by_key(|(_, info)| info.data_offsets);
        let mut tensors = Tensors::default();
        let mut end = 0;
        for (name, info) in infos {
            let [begin, stop] = info.data_offsets;
            let expected = info
                .shape
                .iter()
                .try_fold(info.dtype.size(), |n, &d| n.checked_mul(d))
                .ok_or_else(|| {
                    Error::Malformed(format!("the array `{name}` has an impossible shape"))
                })?;
            if begin != end || stop < begin || stop - begin != expected {
                return Err(Error::Malformed(format!(
                    "the array `{name}` takes bytes {begin}..{stop}, expected {expected} bytes from {end}"
                )));
            }
            let values = data.get(begin..stop).ok_or_else(|| {
                Error::Truncated(format!(
                    "the array `{name}` ends at byte {stop} of the data, which has {}",
                    data.len()
                ))
            })?;
            tensors
                .arrays
                .insert(name, (info.dtype, info.shape, Cow::Borrowed(values)));
            end = stop;
        }
        if end != data.len() {
            return Err(Error::Malformed(format!(
                "{} bytes after the last array",
                data.len() - end
            )));
        }
        let expected = metadata
            .get(CHECKSUM_KEY)
            .ok_or_else(|| Error::Malformed(format!("no `{CHECKSUM_KEY}`")))?
            .clone();
        Ok(Self {
            tensors,
            header: sarlab_header,
            data,
            expected,
        })
    }
}

fn check_rank(name: &str, shape: &[usize], rank: usize) -> Result<()> {
    if shape.len() != rank {
        return Err(Error::Malformed(format!(
            "the array `{name}` has shape {shape:?}, expected {rank} dimension(s)"
        )));
    }
    Ok(())
}

/// SHA-256 (hex) of the header, the array table and the data, each closed by a NUL.
fn checksum(header: &str, table: &str, data: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(header.as_bytes());
    hash.update([0]);
    hash.update(table.as_bytes());
    hash.update([0]);
    hash.update(data);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Tensors<'static> {
        let mut t = Tensors::default();
        t.put_f64("b", vec![2, 2], &[1.0, -2.5, 3.25, 1e-300]);
        t.put_usize("a", vec![3], &[0, 7, 42]);
        t.put_bools("c", &[true, false]);
        t
    }

    #[test]
    fn arrays_read_back_as_written() {
        let bytes = sample().to_bytes("{\"x\":1}", 1);
        assert_eq!(
            u64::from_le_bytes(bytes[..8].try_into().unwrap()) % 8,
            0,
            "header padded to 8 bytes"
        );
        let (t, header) = Tensors::from_bytes(&bytes, 1).expect("read");
        assert_eq!(header, "{\"x\":1}");
        assert_eq!(t, sample());
        assert_eq!(
            t.f64("b", 2).unwrap(),
            (vec![2, 2], vec![1.0, -2.5, 3.25, 1e-300])
        );
        assert_eq!(t.usize("a", 1).unwrap().1, vec![0, 7, 42]);
        assert_eq!(t.bools("c").unwrap(), vec![true, false]);
        assert!(t.f64("a", 1).is_err(), "wrong dtype");
        assert!(t.f64("b", 1).is_err(), "wrong rank");
    }

    #[test]
    fn every_truncation_and_every_changed_byte_is_an_error() {
        let bytes = sample().to_bytes("{\"x\":1}", 1);
        for end in 0..bytes.len() {
            assert!(
                Tensors::from_bytes(&bytes[..end], 1).is_err(),
                "cut at {end}"
            );
        }
        for at in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[at] ^= 0x01;
            // A space of the padding becoming `!` makes the JSON invalid; every other
            // change is caught by the layout checks or the checksum.
            assert!(Tensors::from_bytes(&changed, 1).is_err(), "byte {at}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Tensors::from_bytes(&longer, 1).is_err());
    }

    #[test]
    fn a_newer_version_is_refused_by_name() {
        let bytes = sample().to_bytes("{}", 2);
        let error = Tensors::from_bytes(&bytes, 1).expect_err("newer");
        assert!(
            matches!(
                error,
                Error::NewerVersion {
                    found: 2,
                    supported: 1
                }
            ),
            "{error}"
        );
    }
}
