//! JPEG chips through libjpeg-turbo's decoder, so that every pixel is the one PIL,
//! OpenCV and imageio give (`np.asarray(Image.open(p))`).
//!
//! The `mozjpeg` crate builds MozJPEG — libjpeg-turbo's code base — from its C
//! source with the C compiler the Rust toolchain already needs (no nasm, no prebuilt
//! library). Decoding uses libjpeg's defaults, which are PIL's: the accurate integer
//! IDCT (`JDCT_ISLOW`) and fancy (triangle-filter) chroma upsampling. The SIMD and C
//! paths of libjpeg-turbo give identical pixels, so the C build matches a SIMD build.
//! Pure-Rust decoders (zune-jpeg behind `image`, jpeg-decoder) use other IDCTs and
//! differ by one grey level on about 0.7 % of the MSTAR chips' pixels.
//!
//! libjpeg reports fatal errors by unwinding (`resume_unwind`, which calls no panic
//! hook); they are caught here and become an error naming the file. A file that
//! ends before its last scanline is an error too, where libjpeg would only warn and
//! pad the image with grey.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::rc::Rc;

use crate::chip_file::{array, channel_of, check_band, grey_of};
use crate::error::{Error, Result};
use crate::pixels::{Pixels, unit_u8};

/// Decodes a JPEG file's bytes: grey images to their 8-bit samples; colour images
/// to one channel of libjpeg's RGB with a band selector, else to grey (see
/// [`crate::chip_file`]).
pub fn decode(bytes: &[u8], path: &Path, band: Option<usize>) -> Result<Pixels> {
    let ran_out = Rc::new(Cell::new(false));
    let reader = EofWatch {
        bytes,
        ran_out: Rc::clone(&ran_out),
    };
    let decoded = catch_unwind(AssertUnwindSafe(|| decode_samples(reader, &ran_out)));
    let (rows, cols, channels, samples) = match decoded {
        Ok(Ok(decoded)) => decoded,
        Ok(Err(e)) => return Err(bad(path, e.to_string())),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "libjpeg failed".to_owned());
            return Err(bad(path, message));
        }
    };
    check_band(path, band, channels)?;
    let shape = (rows, cols);
    Ok(match (channels, band) {
        (1, _) => Pixels::U8(array(shape, samples, path)?),
        (_, Some(band)) => Pixels::U8(array(shape, channel_of(&samples, channels, band), path)?),
        (_, None) => Pixels::F64(array(shape, grey_of(&samples, channels, unit_u8), path)?),
    })
}

/// `(rows, cols, channels, samples)`, row-major and interleaved.
fn decode_samples(
    reader: EofWatch<'_>,
    ran_out: &Cell<bool>,
) -> io::Result<(usize, usize, usize, Vec<u8>)> {
    let mut decompress = mozjpeg::Decompress::new_reader(reader)?;
    // libjpeg's defaults, set explicitly: they are what PIL decodes with.
    decompress.dct_method(mozjpeg::DctMethod::IntegerSlow);
    decompress.do_fancy_upsampling(true);
    let grey = decompress.color_space() == mozjpeg::ColorSpace::JCS_GRAYSCALE;
    let mut started = if grey {
        decompress.grayscale()?
    } else {
        decompress.rgb()?
    };
    let (rows, cols) = (started.height(), started.width());
    let samples: Vec<u8> = started.read_scanlines()?;
    if ran_out.get() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "the file ends before its last scanline ({rows}x{cols} pixels expected): truncated"
            ),
        ));
    }
    let channels = if grey { 1 } else { 3 };
    if samples.len() != rows * cols * channels {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "decoded {} samples, expected {rows}x{cols}x{channels}",
                samples.len()
            ),
        ));
    }
    // Trailing data after the last scanline does not change the pixels; a missing
    // end-of-image marker is tolerated, as PIL tolerates it.
    let _ = started.finish();
    Ok((rows, cols, channels, samples))
}

fn bad(path: &Path, message: String) -> Error {
    Error::Header {
        path: path.to_path_buf(),
        format: "JPEG",
        message: format!("cannot decode: {message}"),
    }
}

/// The file's bytes, remembering whether the decoder asked for more than there is.
struct EofWatch<'a> {
    bytes: &'a [u8],
    ran_out: Rc<Cell<bool>>,
}

impl Read for EofWatch<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.bytes.read(out)?;
        if n == 0 && !out.is_empty() {
            self.ran_out.set(true);
        }
        Ok(n)
    }
}

impl BufRead for EofWatch<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.bytes.is_empty() {
            self.ran_out.set(true);
        }
        Ok(self.bytes)
    }

    fn consume(&mut self, amount: usize) {
        self.bytes = &self.bytes[amount.min(self.bytes.len())..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey_jpeg() -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        image::GrayImage::from_fn(24, 16, |x, y| image::Luma([((x * 7 + y * 13) % 256) as u8]))
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("encode");
        out.into_inner()
    }

    #[test]
    fn grey_jpeg_decodes_to_u8_of_its_size() {
        let p = decode(&grey_jpeg(), Path::new("g.jpg"), None).expect("decodes");
        assert_eq!(p.dim(), (16, 24));
        assert_eq!(p.sample_type(), "uint8");
    }

    #[test]
    fn truncated_and_corrupt_files_are_errors_naming_the_file() {
        let bytes = grey_jpeg();
        for cut in [bytes.len() / 2, 40, 3] {
            let err = decode(&bytes[..cut], Path::new("cut.jpg"), None)
                .unwrap_err()
                .to_string();
            assert!(err.contains("cut.jpg"), "{cut}: {err}");
        }
        let mut garbage = bytes.clone();
        for b in garbage.iter_mut().skip(20).take(200) {
            *b = 0xFF;
        }
        // Either an error naming the file or pixels; never a panic or abort.
        if let Err(err) = decode(&garbage, Path::new("bad.jpg"), None) {
            assert!(err.to_string().contains("bad.jpg"), "{err}");
        }
    }

    #[test]
    fn colour_jpeg_is_grey_by_rgb2gray_or_one_band() {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_fn(16, 16, |x, y| {
            image::Rgb([(x * 16) as u8, (y * 16) as u8, 128])
        })
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode");
        let bytes = out.into_inner();
        let grey = decode(&bytes, Path::new("c.jpg"), None).expect("grey");
        assert_eq!(grey.sample_type(), "float64");
        let red = decode(&bytes, Path::new("c.jpg"), Some(0)).expect("red");
        let green = decode(&bytes, Path::new("c.jpg"), Some(1)).expect("green");
        let blue = decode(&bytes, Path::new("c.jpg"), Some(2)).expect("blue");
        let expected = RGB_WEIGHTS[0] * red.value(3, 5)
            + RGB_WEIGHTS[1] * green.value(3, 5)
            + RGB_WEIGHTS[2] * blue.value(3, 5);
        assert_eq!(grey.value(3, 5), expected);
        let err = decode(&bytes, Path::new("c.jpg"), Some(3)).unwrap_err();
        assert!(err.to_string().contains("band 3"), "{err}");
    }

    const RGB_WEIGHTS: [f64; 3] = crate::chip_file::RGB_TO_GREY;
}
