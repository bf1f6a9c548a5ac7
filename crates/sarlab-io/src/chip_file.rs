//! One chip file of any supported format, recognised by its content, decoded to `f32`.

use std::fmt;
use std::io::Cursor;
use std::path::Path;

use ndarray::Array2;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::npy;
use crate::phoenix::{self, Md5Status};

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
    /// Pixel values: 8/16-bit unsigned samples scaled to `[0, 1]` by their type's
    /// maximum; float, signed and complex data (magnitude) as stored.
    pub image: Array2<f32>,
    /// Phase in radians, for complex data (Phoenix chips, complex `.npy`).
    pub phase: Option<Array2<f32>>,
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
    let plain = |image: Array2<f32>| DecodedChip {
        format,
        image,
        phase: None,
        meta: ChipMeta::default(),
        md5: Md5Status::NotChecked,
    };
    let chip = match format {
        ChipFormat::Phoenix => {
            if let Some(band) = options.band.filter(|&b| b > 0) {
                return Err(Error::BandOutOfRange {
                    path: path.to_path_buf(),
                    band,
                    bands: 1,
                });
            }
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
                phase: Some(image.phase),
                image: image.magnitude,
                md5: image.md5,
            }
        }
        ChipFormat::Npy => {
            if let Some(band) = options.band.filter(|&b| b > 0) {
                return Err(Error::BandOutOfRange {
                    path: path.to_path_buf(),
                    band,
                    bands: 1,
                });
            }
            let array = npy::decode(bytes, path)?;
            DecodedChip {
                phase: array.phase,
                ..plain(array.values)
            }
        }
        ChipFormat::Tiff => plain(decode_tiff(bytes, path, options.band)?),
        ChipFormat::Png | ChipFormat::Jpeg => plain(decode_raster(bytes, path, options.band)?),
    };
    if let Some(((row, col), _)) = chip.image.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            path: path.to_path_buf(),
            row,
            col,
            what: "image",
        });
    }
    Ok(chip)
}

/// PNG and JPEG through the `image` crate.
fn decode_raster(bytes: &[u8], path: &Path, band: Option<usize>) -> Result<Array2<f32>> {
    let image = image::load_from_memory(bytes).map_err(|source| Error::Decode {
        path: path.to_path_buf(),
        source,
    })?;
    let (width, height) = (image.width() as usize, image.height() as usize);
    let values = match band {
        None => image.to_luma32f().into_raw(),
        Some(band) => {
            let channels = usize::from(image.color().channel_count());
            if band >= channels {
                return Err(Error::BandOutOfRange {
                    path: path.to_path_buf(),
                    band,
                    bands: channels,
                });
            }
            let all = image.to_rgba32f().into_raw();
            // Grey images expand to RGB(A) with equal channels; keep the channel asked.
            all.chunks_exact(4).map(|px| px[band]).collect()
        }
    };
    Array2::from_shape_vec((height, width), values).map_err(|e| Error::Header {
        path: path.to_path_buf(),
        format: "image",
        message: format!("decoded pixel buffer does not match {width}x{height}: {e}"),
    })
}

/// TIFF through the `tiff` crate: 8/16/32/64-bit integer and 32/64-bit float samples,
/// any number of bands, chunky or planar.
fn decode_tiff(bytes: &[u8], path: &Path, band: Option<usize>) -> Result<Array2<f32>> {
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
    let band = match band {
        Some(b) if b >= bands => {
            return Err(Error::BandOutOfRange {
                path: path.to_path_buf(),
                band: b,
                bands,
            });
        }
        Some(b) => b,
        None if bands == 1 => 0,
        None => {
            return Err(bad(format!(
                "has {bands} bands per pixel; choose one with the band selector (`dataset.band` in a spec, --band on the command line)"
            )));
        }
    };
    let result = decoder.read_image().map_err(tiff_err)?;
    let pixels = width * height;
    let pick = |values: Vec<f32>| -> Result<Vec<f32>> {
        if values.len() < pixels * bands {
            return Err(bad(format!(
                "holds {} samples, expected {width}x{height}x{bands}",
                values.len()
            )));
        }
        Ok(if bands == 1 {
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
        })
    };
    let values = match result {
        DecodingResult::U8(v) => pick(v.into_iter().map(|x| f32::from(x) / 255.0).collect())?,
        DecodingResult::U16(v) => pick(v.into_iter().map(|x| f32::from(x) / 65535.0).collect())?,
        DecodingResult::U32(v) => pick(v.into_iter().map(|x| x as f32).collect())?,
        DecodingResult::U64(v) => pick(v.into_iter().map(|x| x as f32).collect())?,
        DecodingResult::I8(v) => pick(v.into_iter().map(f32::from).collect())?,
        DecodingResult::I16(v) => pick(v.into_iter().map(f32::from).collect())?,
        DecodingResult::I32(v) => pick(v.into_iter().map(|x| x as f32).collect())?,
        DecodingResult::I64(v) => pick(v.into_iter().map(|x| x as f32).collect())?,
        DecodingResult::F16(v) => pick(v.into_iter().map(f32::from).collect())?,
        DecodingResult::F32(v) => pick(v)?,
        DecodingResult::F64(v) => pick(v.into_iter().map(|x| x as f32).collect())?,
    };
    Array2::from_shape_vec((height, width), values).map_err(|e| {
        bad(format!(
            "decoded buffer does not match {width}x{height}: {e}"
        ))
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
        assert!((a.image[[0, 1]] - 0.2).abs() < 1e-7);
        let g16 = tiff_bytes::<colortype::Gray16>(2, 1, &[65535, 0]);
        assert_eq!(
            decode(&g16, p, &none).expect("u16").image,
            ndarray::array![[1.0, 0.0]]
        );
        let f = tiff_bytes::<colortype::Gray32Float>(2, 1, &[0.125, 1234.5]);
        assert_eq!(
            decode(&f, p, &none).expect("f32").image,
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
        assert_eq!(hv.image, ndarray::array![[2.0, 5.0]]);
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
        assert!((green.image[[0, 0]] - 20.0 / 255.0).abs() < 1e-6);
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
