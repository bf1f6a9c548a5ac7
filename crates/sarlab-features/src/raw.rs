//! Raw pixel features, optionally block-averaged.

use ndarray::ArrayView2;

use crate::error::{Error, Result};

/// Raw pixels, row-major; `downsample = k` averages non-overlapping `k × k` blocks
/// (trailing rows/columns that do not fill a block are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawParams {
    pub downsample: usize,
}

impl Default for RawParams {
    fn default() -> Self {
        Self { downsample: 1 }
    }
}

impl RawParams {
    pub fn validate(&self) -> Result<()> {
        if self.downsample == 0 {
            return Err(Error::InvalidParameter {
                name: "downsample",
                message: "must be at least 1".to_owned(),
            });
        }
        Ok(())
    }

    pub fn output_len(&self, rows: usize, cols: usize) -> Result<usize> {
        self.validate()?;
        let (r, c) = (rows / self.downsample, cols / self.downsample);
        if r == 0 || c == 0 {
            return Err(Error::InvalidParameter {
                name: "downsample",
                message: format!("{} is larger than the {rows}x{cols} image", self.downsample),
            });
        }
        Ok(r * c)
    }
}

pub fn raw_pixels(image: ArrayView2<'_, f64>, params: &RawParams) -> Result<Vec<f64>> {
    let (rows, cols) = image.dim();
    params.output_len(rows, cols)?;
    let k = params.downsample;
    if k == 1 {
        return Ok(image.iter().copied().collect());
    }
    let (out_r, out_c) = (rows / k, cols / k);
    let area = (k * k) as f64;
    let mut out = Vec::with_capacity(out_r * out_c);
    for br in 0..out_r {
        for bc in 0..out_c {
            let block = image.slice(ndarray::s![br * k..(br + 1) * k, bc * k..(bc + 1) * k]);
            out.push(block.iter().sum::<f64>() / area);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn downsample_averages_blocks_and_drops_remainder() {
        let img = Array2::from_shape_fn((5, 4), |(r, c)| (r * 4 + c) as f64);
        let out = raw_pixels(img.view(), &RawParams { downsample: 2 }).expect("fits");
        // blocks: rows 0-1 x cols 0-1 → (0+1+4+5)/4 = 2.5; cols 2-3 → 4.5; rows 2-3 → 10.5, 12.5
        assert_eq!(out, vec![2.5, 4.5, 10.5, 12.5]);
        let full = raw_pixels(img.view(), &RawParams::default()).expect("fits");
        assert_eq!(full.len(), 20);
        assert_eq!(full[7], 7.0);
    }

    #[test]
    fn zero_downsample_is_named() {
        let err = RawParams { downsample: 0 }.validate().unwrap_err();
        assert!(err.to_string().contains("`downsample`"));
    }
}
