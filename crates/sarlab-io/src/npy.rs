//! NumPy `.npy` arrays (format versions 1–3): 2-D real or complex images in as `f32`;
//! 1-D/2-D numeric arrays in as exact `f64` or integer labels (feature matrices for
//! other tools and back); `f32`/`f64` matrices and `i64` label vectors out.

use std::path::Path;

use ndarray::{Array2, ShapeBuilder};

use crate::error::{Error, Result};
use crate::pixels::Pixels;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Whether `prefix` starts an `.npy` file.
pub fn is_npy(prefix: &[u8]) -> bool {
    prefix.starts_with(MAGIC)
}

/// The element types read from `.npy` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    I64,
    U64,
    F32,
    F64,
    C64,
    C128,
}

impl Element {
    fn parse(descr: &str) -> Option<(Element, bool)> {
        // `get` rather than `split_at`: a damaged header may put a multi-byte character
        // first (found by the fuzz tests).
        let (order, code) = (descr.get(..1)?, descr.get(1..)?);
        let big = match order {
            "<" | "|" | "=" => false,
            ">" => true,
            _ => return None,
        };
        let element = match code {
            "u1" | "b1" => Element::U8,
            "i1" => Element::I8,
            "u2" => Element::U16,
            "i2" => Element::I16,
            "u4" => Element::U32,
            "i4" => Element::I32,
            "i8" => Element::I64,
            "u8" => Element::U64,
            "f4" => Element::F32,
            "f8" => Element::F64,
            "c8" => Element::C64,
            "c16" => Element::C128,
            _ => return None,
        };
        Some((element, big))
    }

    fn size(self) -> usize {
        match self {
            Element::U8 | Element::I8 => 1,
            Element::U16 | Element::I16 => 2,
            Element::U32 | Element::I32 | Element::F32 => 4,
            Element::I64 | Element::U64 | Element::F64 | Element::C64 => 8,
            Element::C128 => 16,
        }
    }
}

/// A decoded `.npy` array.
#[derive(Debug, Clone)]
pub struct NpyImage {
    /// The values in their stored type, or the magnitude `|z|` of a complex array
    /// (`float32` for `complex64`, as `np.abs` gives, `float64` for `complex128`). 8-
    /// and 16-bit unsigned arrays stand for `x / 255` and `x / 65535` (they hold
    /// display-quantised images, as PNG chips do); other integer types are kept as
    /// stored, in `f64` (exact below 2⁵³).
    pub values: Pixels,
    /// `arg z` in `(−π, π]` for complex arrays.
    pub phase: Option<Pixels>,
    /// The NumPy type string, e.g. `<f4`.
    pub descr: String,
}

/// The parsed header of an `.npy` file.
struct Header<'b> {
    descr: String,
    element: Element,
    big: bool,
    fortran: bool,
    shape: Vec<usize>,
    data: &'b [u8],
}

/// Parses the header; `expected_shape` says why a shape is unacceptable (checked
/// before the data size, so a wrong rank is reported as such).
fn parse_header<'b>(
    bytes: &'b [u8],
    path: &Path,
    expected_shape: impl Fn(&[usize]) -> Option<String>,
) -> Result<Header<'b>> {
    let bad = |message: String| Error::Header {
        path: path.to_path_buf(),
        format: "npy",
        message,
    };
    if !is_npy(bytes) || bytes.len() < 10 {
        return Err(bad("does not start with the `\\x93NUMPY` magic".to_owned()));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad(format!("unsupported format version {major}"))),
    };
    let data_start = start + header_len;
    let header = bytes.get(start..data_start).ok_or_else(|| {
        bad(format!(
            "header of {header_len} bytes runs past the end of the file"
        ))
    })?;
    let header = String::from_utf8_lossy(header);
    let descr = dict_value(&header, "descr")
        .map(|v| v.trim_matches(['\'', '"']).to_owned())
        .ok_or_else(|| bad("header has no `descr`".to_owned()))?;
    let fortran = match dict_value(&header, "fortran_order") {
        Some("True") => true,
        Some("False") => false,
        other => {
            return Err(bad(format!(
                "`fortran_order` is {other:?}, expected True or False"
            )));
        }
    };
    let shape_text = header
        .split_once("'shape':")
        .and_then(|(_, rest)| rest.split_once('('))
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside)
        .ok_or_else(|| bad("header has no `shape` tuple".to_owned()))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad(format!("shape `({shape_text})` is not a tuple of integers")))?;
    if let Some(message) = expected_shape(&shape) {
        return Err(bad(message));
    }
    let (element, big) = Element::parse(&descr).ok_or_else(|| {
        bad(format!(
            "dtype `{descr}` is not supported (expected an integer, float or complex type)"
        ))
    })?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n > 0 && n < (1 << 34))
        .ok_or_else(|| {
            bad(format!(
                "shape {shape:?} has no values or is implausibly large"
            ))
        })?;
    let data = &bytes[data_start.min(bytes.len())..];
    let expected = count * element.size();
    if data.len() != expected {
        return Err(Error::Size {
            path: path.to_path_buf(),
            expected: (data_start + expected) as u64,
            actual: bytes.len() as u64,
            what: format!("{data_start} header bytes + {shape:?} `{descr}` values"),
        });
    }
    Ok(Header {
        descr,
        element,
        big,
        fortran,
        shape,
        data,
    })
}

/// Decodes an `.npy` file held in memory; `path` only names it in errors.
pub fn decode(bytes: &[u8], path: &Path) -> Result<NpyImage> {
    let bad = |message: String| Error::Header {
        path: path.to_path_buf(),
        format: "npy",
        message,
    };
    let Header {
        descr,
        element,
        big,
        fortran,
        shape,
        data,
        ..
    } = parse_header(bytes, path, |shape| {
        (!matches!(shape, [_, _] | [_, _, 1]))
            .then(|| format!("shape is {shape:?}, expected a 2-D array (rows, cols)"))
    })?;
    let (rows, cols) = match shape[..] {
        [rows, cols] => (rows, cols),
        [rows, cols, 1] => (rows, cols),
        _ => {
            return Err(bad(format!(
                "shape is {shape:?}, expected a 2-D array (rows, cols)"
            )));
        }
    };
    macro_rules! read {
        ($t:ty) => {
            data.chunks_exact(std::mem::size_of::<$t>()).map(|b| {
                let b = b.try_into().expect("chunk has the element's size");
                if big {
                    <$t>::from_be_bytes(b)
                } else {
                    <$t>::from_le_bytes(b)
                }
            })
        };
    }
    let shape = (rows, cols).set_f(fortran);
    fn to_array<T: Clone>(
        v: Vec<T>,
        shape: ndarray::Shape<ndarray::Ix2>,
        bad: &dyn Fn(String) -> Error,
    ) -> Result<Array2<T>> {
        let (rows, cols) = ndarray::Dimension::into_pattern(*shape.raw_dim());
        Array2::from_shape_vec(shape, v)
            .map(|a| a.as_standard_layout().into_owned())
            .map_err(|e| bad(format!("data does not fit shape {rows}x{cols}: {e}")))
    }
    let wide = |v: Vec<f64>| to_array(v, shape, &bad).map(Pixels::F64);
    let (values, phase) = match element {
        Element::U8 => (Pixels::U8(to_array(data.to_vec(), shape, &bad)?), None),
        Element::U16 => (
            Pixels::U16(to_array(read!(u16).collect(), shape, &bad)?),
            None,
        ),
        Element::F32 => (
            Pixels::F32(to_array(read!(f32).collect(), shape, &bad)?),
            None,
        ),
        Element::F64 => (
            Pixels::F64(to_array(read!(f64).collect(), shape, &bad)?),
            None,
        ),
        Element::I8 => (
            wide(data.iter().map(|&v| f64::from(v as i8)).collect())?,
            None,
        ),
        Element::I16 => (wide(read!(i16).map(f64::from).collect())?, None),
        Element::U32 => (wide(read!(u32).map(f64::from).collect())?, None),
        Element::I32 => (wide(read!(i32).map(f64::from).collect())?, None),
        Element::I64 => (wide(read!(i64).map(|v| v as f64).collect())?, None),
        Element::U64 => (wide(read!(u64).map(|v| v as f64).collect())?, None),
        Element::C64 => {
            let parts: Vec<f64> = read!(f32).map(f64::from).collect();
            // |z| in f64 rounded once to f32 is the correctly rounded float32 hypot.
            let (m, p): (Vec<f32>, Vec<f32>) = parts
                .chunks_exact(2)
                .map(|z| (z[0].hypot(z[1]) as f32, z[1].atan2(z[0]) as f32))
                .unzip();
            (
                Pixels::F32(to_array(m, shape, &bad)?),
                Some(Pixels::F32(to_array(p, shape, &bad)?)),
            )
        }
        Element::C128 => {
            let parts: Vec<f64> = read!(f64).collect();
            let (m, p): (Vec<f64>, Vec<f64>) = parts
                .chunks_exact(2)
                .map(|z| (z[0].hypot(z[1]), z[1].atan2(z[0])))
                .unzip();
            (wide(m)?, Some(wide(p)?))
        }
    };
    if let Some((row, col)) = values.first_non_finite() {
        return Err(Error::NonFinite {
            path: path.to_path_buf(),
            row,
            col,
            what: "array",
        });
    }
    Ok(NpyImage {
        values,
        phase,
        descr,
    })
}

/// The value of `key` in the header's Python dict literal (up to the next `,` or `}`
/// outside parentheses).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let rest = header
        .split_once(&format!("'{key}':"))
        .or_else(|| header.split_once(&format!("\"{key}\":")))?
        .1
        .trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// A numeric array read exactly: C-order values and a 1-D or 2-D shape.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyMatrix {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

/// Decodes a 1-D or 2-D real `.npy` array (any integer or float type) to `f64` without
/// scaling — for feature matrices, unlike [`decode`], which reads images. Non-finite
/// values are errors naming the position.
pub fn decode_matrix(bytes: &[u8], path: &Path) -> Result<NpyMatrix> {
    let header = parse_header(bytes, path, |shape| {
        (shape.is_empty() || shape.len() > 2)
            .then(|| format!("shape is {shape:?}, expected a 1-D or 2-D array"))
    })?;
    let bad = |message: String| Error::Header {
        path: path.to_path_buf(),
        format: "npy",
        message,
    };
    let values = real_values(&header).ok_or_else(|| {
        bad(format!(
            "dtype `{}` is complex, expected real values",
            header.descr
        ))
    })?;
    let values = c_order(values, &header.shape, header.fortran);
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        let cols = header.shape.get(1).copied().unwrap_or(1);
        return Err(Error::NonFinite {
            path: path.to_path_buf(),
            row: index / cols,
            col: index % cols,
            what: "array",
        });
    }
    Ok(NpyMatrix {
        shape: header.shape,
        values,
    })
}

/// Decodes a 1-D integer `.npy` array (class labels).
pub fn decode_labels(bytes: &[u8], path: &Path) -> Result<Vec<i64>> {
    let header = parse_header(bytes, path, |shape| {
        (shape.len() != 1).then(|| format!("shape is {shape:?}, expected a 1-D array of labels"))
    })?;
    let bad = |message: String| Error::Header {
        path: path.to_path_buf(),
        format: "npy",
        message,
    };
    let (data, big) = (header.data, header.big);
    macro_rules! read {
        ($t:ty) => {
            data.chunks_exact(std::mem::size_of::<$t>())
                .map(|b| {
                    let b = b.try_into().expect("chunk has the element's size");
                    i64::try_from(if big {
                        <$t>::from_be_bytes(b)
                    } else {
                        <$t>::from_le_bytes(b)
                    })
                    .unwrap_or(i64::MAX)
                })
                .collect()
        };
    }
    Ok(match header.element {
        Element::U8 => data.iter().map(|&v| i64::from(v)).collect(),
        Element::I8 => data.iter().map(|&v| i64::from(v as i8)).collect(),
        Element::U16 => read!(u16),
        Element::I16 => read!(i16),
        Element::U32 => read!(u32),
        Element::I32 => read!(i32),
        Element::I64 => read!(i64),
        Element::U64 => read!(u64),
        _ => {
            return Err(bad(format!(
                "dtype `{}` is not an integer type: labels must be integers",
                header.descr
            )));
        }
    })
}

fn real_values(header: &Header<'_>) -> Option<Vec<f64>> {
    let (data, big) = (header.data, header.big);
    macro_rules! read {
        ($t:ty) => {
            data.chunks_exact(std::mem::size_of::<$t>())
                .map(|b| {
                    let b = b.try_into().expect("chunk has the element's size");
                    if big {
                        <$t>::from_be_bytes(b)
                    } else {
                        <$t>::from_le_bytes(b)
                    }
                })
                .map(|v| v as f64)
                .collect()
        };
    }
    Some(match header.element {
        Element::U8 => data.iter().map(|&v| f64::from(v)).collect(),
        Element::I8 => data.iter().map(|&v| f64::from(v as i8)).collect(),
        Element::U16 => read!(u16),
        Element::I16 => read!(i16),
        Element::U32 => read!(u32),
        Element::I32 => read!(i32),
        Element::I64 => read!(i64),
        Element::U64 => read!(u64),
        Element::F32 => read!(f32),
        Element::F64 => read!(f64),
        Element::C64 | Element::C128 => return None,
    })
}

/// Reorders a Fortran-order 2-D array to C order.
fn c_order(values: Vec<f64>, shape: &[usize], fortran: bool) -> Vec<f64> {
    match shape {
        [rows, cols] if fortran => {
            let (rows, cols) = (*rows, *cols);
            (0..rows * cols)
                .map(|i| values[(i % cols) * rows + i / cols])
                .collect()
        }
        _ => values,
    }
}

/// An `.npy` file (format 1.0) of C-order `values` with `shape` and element type
/// `descr`, each value written by `write`.
fn encode<T: Copy>(
    descr: &str,
    shape: &[usize],
    values: impl ExactSizeIterator<Item = T>,
    write: impl Fn(T, &mut Vec<u8>),
    size: usize,
) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    // A 1-tuple needs its trailing comma: `(5,)`.
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Header (magic + version + length + dict + newline) is padded to a multiple of 64.
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let header = format!("{dict}{}\n", " ".repeat(padding));
    let mut out = Vec::with_capacity(unpadded + padding + size * values.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        write(v, &mut out);
    }
    out
}

/// Encodes a little-endian `f32` array as an `.npy` file (format version 1.0).
pub fn encode_f32(values: &Array2<f32>) -> Vec<u8> {
    let (rows, cols) = values.dim();
    encode(
        "<f4",
        &[rows, cols],
        values.iter().copied(),
        |v, out| out.extend_from_slice(&v.to_le_bytes()),
        4,
    )
}

/// Encodes C-order `f64` values of a 1-D or 2-D `shape` as an `.npy` file.
pub fn encode_f64(shape: &[usize], values: &[f64]) -> Vec<u8> {
    debug_assert_eq!(shape.iter().product::<usize>(), values.len());
    encode(
        "<f8",
        shape,
        values.iter().copied(),
        |v, out| out.extend_from_slice(&v.to_le_bytes()),
        8,
    )
}

/// Encodes a 1-D `i64` array (labels) as an `.npy` file.
pub fn encode_i64(values: &[i64]) -> Vec<u8> {
    encode(
        "<i8",
        &[values.len()],
        values.iter().copied(),
        |v, out| out.extend_from_slice(&v.to_le_bytes()),
        8,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, fortran: bool, data: &[u8]) -> Vec<u8> {
        let dict = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}\n",
            if fortran { "True" } else { "False" }
        );
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn matrices_and_labels_round_trip_exactly() {
        let values: Vec<f64> = (0..6).map(|i| i as f64 * 0.1 + 1e-300).collect();
        let bytes = encode_f64(&[2, 3], &values);
        assert_eq!((bytes.len() - 8 * 6) % 64, 0);
        let back = decode_matrix(&bytes, Path::new("x.npy")).expect("decode");
        assert_eq!(back.shape, vec![2, 3]);
        assert_eq!(back.values, values);
        let vector = decode_matrix(&encode_f64(&[6], &values), Path::new("v.npy")).expect("1-D");
        assert_eq!(vector.shape, vec![6]);
        let labels = vec![0, 3, -1, i64::MAX];
        let bytes = encode_i64(&labels);
        assert!(String::from_utf8_lossy(&bytes).contains("'shape': (4,)"));
        assert_eq!(
            decode_labels(&bytes, Path::new("y.npy")).expect("labels"),
            labels
        );
        // Fortran order is reordered; u1 is not scaled (unlike images).
        let f = npy("|u1", "(2, 3)", true, &[1, 4, 2, 5, 3, 6]);
        let m = decode_matrix(&f, Path::new("f.npy")).expect("fortran");
        assert_eq!(m.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        // Float labels, complex matrices, 3-D shapes and NaN are named errors.
        let err = decode_labels(&encode_f64(&[2], &[0.0, 1.0]), Path::new("y.npy")).unwrap_err();
        assert!(err.to_string().contains("y.npy") && err.to_string().contains("integer"));
        let c = npy("<c8", "(1, 1)", false, &[0; 8]);
        assert!(decode_matrix(&c, Path::new("c.npy")).is_err());
        let cube = npy("<f8", "(1, 1, 1)", false, &[0; 8]);
        assert!(
            decode_matrix(&cube, Path::new("cube.npy"))
                .unwrap_err()
                .to_string()
                .contains("1-D or 2-D")
        );
        let nan = encode_f64(&[2, 2], &[0.0, 1.0, f64::NAN, 2.0]);
        let err = decode_matrix(&nan, Path::new("n.npy"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("n.npy") && err.contains("row 1"), "{err}");
    }

    #[test]
    fn f32_round_trip_and_header_alignment() {
        let a = Array2::from_shape_fn((3, 5), |(r, c)| r as f32 * 10.0 + c as f32 - 0.5);
        let bytes = encode_f32(&a);
        assert_eq!((bytes.len() - 4 * 15) % 64, 0);
        let back = decode(&bytes, Path::new("a.npy")).expect("decode");
        assert_eq!(back.values, Pixels::F32(a));
        assert_eq!(back.descr, "<f4");
    }

    #[test]
    fn types_orders_and_fortran_layout() {
        let be: Vec<u8> = [1.5f64, -2.0, 3.0, 4.25]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let a = decode(&npy(">f8", "(2, 2)", false, &be), Path::new("b.npy")).expect("decode");
        assert_eq!(a.values.to_f64(), ndarray::array![[1.5, -2.0], [3.0, 4.25]]);
        let f = decode(&npy(">f8", "(2, 2)", true, &be), Path::new("f.npy")).expect("decode");
        assert_eq!(f.values.to_f64(), ndarray::array![[1.5, 3.0], [-2.0, 4.25]]);
        let u16s: Vec<u8> = [0u16, 65535].iter().flat_map(|v| v.to_le_bytes()).collect();
        let u = decode(&npy("<u2", "(1, 2)", false, &u16s), Path::new("u.npy")).expect("decode");
        assert_eq!(u.values.to_f64(), ndarray::array![[0.0, 1.0]]);
        let c: Vec<u8> = [3.0f32, 4.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let z = decode(&npy("<c8", "(1, 1)", false, &c), Path::new("z.npy")).expect("decode");
        assert_eq!(z.values.value(0, 0), 5.0);
        assert!((z.phase.expect("complex").value(0, 0) - 4f64.atan2(3.0)).abs() < 1e-6);
    }

    #[test]
    fn bad_arrays_are_named() {
        let p = Path::new("bad.npy");
        let data = [0u8; 16];
        let err = decode(&npy("<f4", "(2, 2, 2)", false, &data), p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.npy") && err.contains("2-D"), "{err}");
        let err = decode(&npy("<U8", "(2, 2)", false, &data), p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`<U8`"), "{err}");
        let err = decode(&npy("<f4", "(2, 3)", false, &data), p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected"), "{err}");
        let nan: Vec<u8> = [1.0f32, f32::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let err = decode(&npy("<f4", "(1, 2)", false, &nan), p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 0, column 1"), "{err}");
        let err = decode(b"\x93NUMPY\x01\x00\xff\xff{", p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("past the end"), "{err}");
    }
}
