//! One chip file of any supported format, recognised by its content, decoded to its
//! stored sample type ([`Pixels`]).
//!
//! Each format decodes to the samples the Python peer's standard load gives:
//! PNG and TIFF as stored; JPEG through libjpeg-turbo's own decoder (the one behind
//! PIL, OpenCV and imageio: islow IDCT, fancy upsampling), so every pixel equals
//! `np.asarray(Image.open(p))`'s; `.npy` and Phoenix as stored. Colour images
//! without a band selector become grey as scikit-image's `rgb2gray` does
//! (`0.2125 R + 0.7154 G + 0.0721 B` of the `[0, 1]`-scaled channels, in `f64`).

use std::fmt;
use std::io::Cursor;
use std::path::Path;

use ndarray::Array2;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::npy;
use crate::phoenix::{self, Md5Status};
use crate::pixels::{Pixels, unit_u8, unit_u16};

/// Storage formats of a chip file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChipFormat {
    Phoenix,
    Png,
    Jpeg,
    Tiff,
    Npy,
}

impl ChipFormat {
    pub fn name(self) -> &'static str {
        match self {
            ChipFormat::Phoenix => "phoenix",
            ChipFormat::Png => "png",
            ChipFormat::Jpeg => "jpeg",
            ChipFormat::Tiff => "tiff",
            ChipFormat::Npy => "npy",
        }
    }

    /// Recognises a file from its first bytes; `None` when it is no chip format.
    pub fn sniff(prefix: &[u8]) -> Option<Self> {
        if phoenix::is_phoenix(prefix) {
            Some(ChipFormat::Phoenix)
        } else if npy::is_npy(prefix) {
            Some(ChipFormat::Npy)
        } else if prefix.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ChipFormat::Png)
        } else if prefix.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ChipFormat::Jpeg)
        } else if prefix.starts_with(b"II*\0") || prefix.starts_with(b"MM\0*") {
            Some(ChipFormat::Tiff)
        } else {
            None
        }
    }
}

impl fmt::Display for ChipFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to read pixel values out of a chip file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Band (channel) to read from multi-band images. `None` reads single-band images;
    /// a multi-band TIFF then is an error (SAR bands such as HH/HV/VV must not be
    /// mixed silently), while RGB PNG/JPEG exports are reduced to their luma.
    pub band: Option<usize>,
    /// Compute and check MSTAR's `Chip_MD5_CheckSum`.
    pub verify_md5: bool,
}

/// Acquisition metadata of a chip, when its format carries any (Phoenix does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChipMeta {
    pub target_type: Option<String>,
    pub serial: Option<String>,
    pub azimuth_deg: Option<f64>,
    pub depression_deg: Option<f64>,
}

/// A decoded chip file.
#[derive(Debug, Clone)]
pub struct DecodedChip {
    pub format: ChipFormat,
    /// Samples in their stored type: 8/16-bit unsigned samples stand for their value
    /// scaled to `[0, 1]` by the type's maximum; float, signed and complex data
    /// (magnitude) are values as stored.
    pub image: Pixels,
    /// Phase in radians, for complex data (Phoenix chips, complex `.npy`).
    pub phase: Option<Pixels>,
    pub meta: ChipMeta,
    pub md5: Md5Status,
}

/// Decodes a chip file's bytes. Non-finite values are an error naming the pixel.
pub fn decode(bytes: &[u8], path: &Path, options: &DecodeOptions) -> Result<DecodedChip> {
    let Some(format) = ChipFormat::sniff(bytes) else {
        return Err(Error::Header {
            path: path.to_path_buf(),
            format: "chip",
            message: "not a PNG, JPEG, TIFF, .npy or MSTAR Phoenix file (unrecognised first bytes)"
                .to_owned(),
        });
    };
    let plain = |image: Pixels| DecodedChip {
        format,
        image,
        phase: None,
        meta: ChipMeta::default(),
        md5: Md5Status::NotChecked,
    };
    let chip = match format {
        ChipFormat::Phoenix => {
            check_band(path, options.band, 1)?;
            let image = phoenix::decode(bytes, path, options.verify_md5)?;
            let h = &image.header;
            DecodedChip {
                format,
                meta: ChipMeta {
                    target_type: h.target_type.clone(),
                    serial: h.serial.clone(),
                    azimuth_deg: h.azimuth_deg,
                    depression_deg: h.depression_deg,
                },
                phase: Some(Pixels::F32(image.phase)),
                image: Pixels::F32(image.magnitude),
                md5: image.md5,
            }
        }
        ChipFormat::Npy => {
            check_band(path, options.band, 1)?;
            let array = npy::decode(bytes, path)?;
            DecodedChip {
                phase: array.phase,
                ..plain(array.values)
            }
        }
        ChipFormat::Tiff => plain(decode_tiff(bytes, path, options.band)?),
        ChipFormat::Png => plain(decode_png(bytes, path, options.band)?),
        ChipFormat::Jpeg => plain(crate::jpeg::decode(bytes, path, options.band)?),
    };
    if let Some((row, col)) = chip.image.first_non_finite() {
        return Err(Error::NonFinite {
            path: path.to_path_buf(),
            row,
            col,
            what: "image",
        });
    }
    Ok(chip)
}

/// A band selector must name one of the `bands` bands of the file.
pub(crate) fn check_band(path: &Path, band: Option<usize>, bands: usize) -> Result<()> {
    match band {
        Some(band) if band >= bands => Err(Error::BandOutOfRange {
            path: path.to_path_buf(),
            band,
            bands,
        }),
        _ => Ok(()),
    }
}

/// scikit-image's `rgb2gray` weights (ITU-R BT.709 luma).
pub(crate) const RGB_TO_GREY: [f64; 3] = [0.2125, 0.7154, 0.0721];

/// Grey values of interleaved colour samples (`channels` per pixel, the first three
/// red, green, blue; alpha ignored), each scaled to `[0, 1]` by `unit`.
pub(crate) fn grey_of<T: Copy>(
    samples: &[T],
    channels: usize,
    unit: impl Fn(T) -> f64,
) -> Vec<f64> {
    samples
        .chunks_exact(channels)
        .map(|px| {
            RGB_TO_GREY[0] * unit(px[0])
                + RGB_TO_GREY[1] * unit(px[1])
                + RGB_TO_GREY[2] * unit(px[2])
        })
        .collect()
}

/// One channel of interleaved samples.
pub(crate) fn channel_of<T: Copy>(samples: &[T], channels: usize, band: usize) -> Vec<T> {
    samples
        .iter()
        .skip(band)
        .step_by(channels)
        .copied()
        .collect()
}

/// PNG through the `image` crate, in its stored sample type.
fn decode_png(bytes: &[u8], path: &Path, band: Option<usize>) -> Result<Pixels> {
    use image::DynamicImage as D;
    let image =
        image::load_from_memory_with_format(bytes, image::ImageFormat::Png).map_err(|source| {
            Error::Decode {
                path: path.to_path_buf(),
                source,
            }
        })?;
    let (width, height) = (image.width() as usize, image.height() as usize);
    let channels = usize::from(image.color().channel_count());
    check_band(path, band, channels)?;
    let shape = |n: usize| -> Result<(usize, usize)> {
        if n == width * height {
            Ok((height, width))
        } else {
            Err(Error::Header {
                path: path.to_path_buf(),
                format: "PNG",
                message: format!("decoded {n} samples for {width}x{height} pixels"),
            })
        }
    };
    // Grey (with or without alpha) without a selector is its grey channel.
    let band = band.or((channels <= 2).then_some(0));
    macro_rules! native {
        ($raw:expr, $variant:ident, $unit:expr) => {
            native!($raw, $variant, $unit, channels)
        };
        ($raw:expr, $variant:ident, $unit:expr, $channels:expr) => {{
            let (raw, channels) = ($raw, $channels);
            match band {
                Some(b) => {
                    let v = if channels == 1 {
                        raw
                    } else {
                        channel_of(&raw, channels, b)
                    };
                    Pixels::$variant(array(shape(v.len())?, v, path)?)
                }
                None => {
                    let v = grey_of(&raw, channels, $unit);
                    Pixels::F64(array(shape(v.len())?, v, path)?)
                }
            }
        }};
    }
    Ok(match image {
        D::ImageLuma8(i) => native!(i.into_raw(), U8, unit_u8),
        D::ImageLumaA8(i) => native!(i.into_raw(), U8, unit_u8),
        D::ImageRgb8(i) => native!(i.into_raw(), U8, unit_u8),
        D::ImageRgba8(i) => native!(i.into_raw(), U8, unit_u8),
        D::ImageLuma16(i) => native!(i.into_raw(), U16, unit_u16),
        D::ImageLumaA16(i) => native!(i.into_raw(), U16, unit_u16),
        D::ImageRgb16(i) => native!(i.into_raw(), U16, unit_u16),
        D::ImageRgba16(i) => native!(i.into_raw(), U16, unit_u16),
        // Not produced by the PNG decoder; kept total for future `image` variants.
        other => native!(other.to_rgba32f().into_raw(), F32, f64::from, 4),
    })
}

/// A row-major array of `shape`.
pub(crate) fn array<T>(shape: (usize, usize), values: Vec<T>, path: &Path) -> Result<Array2<T>> {
    Array2::from_shape_vec(shape, values).map_err(|e| Error::Header {
        path: path.to_path_buf(),
        format: "image",
        message: format!("decoded samples do not fit {}x{}: {e}", shape.0, shape.1),
    })
}

/// TIFF through the `tiff` crate: 8/16/32/64-bit integer and 32/64-bit float samples,
/// any number of bands, chunky or planar.
fn decode_tiff(bytes: &[u8], path: &Path, band: Option<usize>) -> Result<Pixels> {
    use tiff::decoder::{Decoder, DecodingResult};
    use tiff::tags::Tag;
    let bad = |message: String| Error::Header {
        path: path.to_path_buf(),
        format: "TIFF",
        message,
    };
    let tiff_err = |e: tiff::TiffError| bad(e.to_string());
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(tiff_err)?;
    let (width, height) = decoder.dimensions().map_err(tiff_err)?;
    let (width, height) = (width as usize, height as usize);
    let bands = usize::from(decoder.colortype().map_err(tiff_err)?.num_samples());
    let planar = decoder
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .map_err(tiff_err)?
        == Some(2);
    check_band(path, band, bands)?;
    let band = match band {
        Some(b) => b,
        None if bands == 1 => 0,
        None => {
            return Err(bad(format!(
                "has {bands} bands per pixel; choose one with the band selector (`dataset.band` in a spec, --band on the command line)"
            )));
        }
    };
    let result = decoder.read_image().map_err(tiff_err)?;
    fn pick<T: Copy>(
        values: Vec<T>,
        (height, width): (usize, usize),
        (bands, band): (usize, usize),
        planar: bool,
        bad: &dyn Fn(String) -> Error,
    ) -> Result<Array2<T>> {
        let pixels = width * height;
        if values.len() < pixels * bands {
            return Err(bad(format!(
                "holds {} samples, expected {width}x{height}x{bands}",
                values.len()
            )));
        }
        let values = if bands == 1 {
            values
        } else if planar {
            values[band * pixels..(band + 1) * pixels].to_vec()
        } else {
            values
                .into_iter()
                .skip(band)
                .step_by(bands)
                .take(pixels)
                .collect()
        };
        Array2::from_shape_vec((height, width), values).map_err(|e| {
            bad(format!(
                "decoded buffer does not match {width}x{height}: {e}"
            ))
        })
    }
    let at = (height, width);
    let of = (bands, band);
    // Other integer types keep their values (as `tifffile.imread` gives them), in f64:
    // exact for every sample below 2^53.
    let wide = |v: Vec<f64>| pick(v, at, of, planar, &bad).map(Pixels::F64);
    Ok(match result {
        DecodingResult::U8(v) => Pixels::U8(pick(v, at, of, planar, &bad)?),
        DecodingResult::U16(v) => Pixels::U16(pick(v, at, of, planar, &bad)?),
        DecodingResult::F32(v) => Pixels::F32(pick(v, at, of, planar, &bad)?),
        DecodingResult::F64(v) => Pixels::F64(pick(v, at, of, planar, &bad)?),
        DecodingResult::F16(v) => Pixels::F32(pick(
            v.into_iter().map(f32::from).collect(),
            at,
            of,
            planar,
            &bad,
        )?),
        DecodingResult::U32(v) => wide(v.into_iter().map(f64::from).collect())?,
        DecodingResult::U64(v) => wide(v.into_iter().map(|x| x as f64).collect())?,
        DecodingResult::I8(v) => wide(v.into_iter().map(f64::from).collect())?,
        DecodingResult::I16(v) => wide(v.into_iter().map(f64::from).collect())?,
        DecodingResult::I32(v) => wide(v.into_iter().map(f64::from).collect())?,
        DecodingResult::I64(v) => wide(v.into_iter().map(|x| x as f64).collect())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiff::encoder::{TiffEncoder, colortype};

    fn tiff_bytes<C: colortype::ColorType>(width: u32, height: u32, data: &[C::Inner]) -> Vec<u8>
    where
        [C::Inner]: tiff::encoder::TiffValue,
    {
        let mut out = Cursor::new(Vec::new());
        TiffEncoder::new(&mut out)
            .expect("encoder")
            .write_image::<C>(width, height, data)
            .expect("write");
        out.into_inner()
    }

    #[test]
    fn tiff_integer_float_and_multiband() {
        let p = Path::new("t.tif");
        let none = DecodeOptions::default();
        let g8 = tiff_bytes::<colortype::Gray8>(3, 2, &[0, 51, 255, 1, 2, 3]);
        let a = decode(&g8, p, &none).expect("u8");
        assert_eq!(a.format, ChipFormat::Tiff);
        assert_eq!(a.image.dim(), (2, 3));
        assert!((a.image.value(0, 1) - 0.2).abs() < 1e-7);
        let g16 = tiff_bytes::<colortype::Gray16>(2, 1, &[65535, 0]);
        assert_eq!(
            decode(&g16, p, &none).expect("u16").image.to_f64(),
            ndarray::array![[1.0, 0.0]]
        );
        let f = tiff_bytes::<colortype::Gray32Float>(2, 1, &[0.125, 1234.5]);
        assert_eq!(
            decode(&f, p, &none).expect("f32").image.to_f64(),
            ndarray::array![[0.125, 1234.5]]
        );

        let rgb = tiff_bytes::<colortype::RGB32Float>(2, 1, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let err = decode(&rgb, p, &none).unwrap_err().to_string();
        assert!(
            err.contains("3 bands") && err.contains("band selector"),
            "{err}"
        );
        let hv = decode(
            &rgb,
            p,
            &DecodeOptions {
                band: Some(1),
                ..none.clone()
            },
        )
        .expect("band 1");
        assert_eq!(hv.image.to_f64(), ndarray::array![[2.0, 5.0]]);
        let err = decode(
            &rgb,
            p,
            &DecodeOptions {
                band: Some(3),
                ..none
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("band 3") && err.contains("3 band(s)"), "{err}");
    }

    #[test]
    fn non_finite_tiff_is_rejected() {
        let f = tiff_bytes::<colortype::Gray32Float>(2, 1, &[0.5, f32::INFINITY]);
        let err = decode(&f, Path::new("inf.tif"), &DecodeOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("inf.tif") && err.contains("column 1"), "{err}");
    }

    #[test]
    fn png_band_selector_and_unknown_content() {
        let mut bytes = Cursor::new(Vec::new());
        image::RgbImage::from_pixel(2, 2, image::Rgb([10, 20, 30]))
            .write_to(&mut bytes, image::ImageFormat::Png)
            .expect("png");
        let bytes = bytes.into_inner();
        let p = Path::new("c.png");
        let green = decode(
            &bytes,
            p,
            &DecodeOptions {
                band: Some(1),
                ..Default::default()
            },
        )
        .expect("green");
        assert!((green.image.value(0, 0) - 20.0 / 255.0).abs() < 1e-6);
        let err = decode(b"hello", p, &DecodeOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.png") && err.contains("not a PNG"), "{err}");
        let err = decode(&bytes[..40], p, &DecodeOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.png"), "{err}");
    }
}
