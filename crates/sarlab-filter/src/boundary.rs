//! Where an index outside an image's `0..n` reads from, for the two mirror borders
//! the filters use (one definition each, so every stage agrees on its edges), and the
//! bilinear read that turns (augmentation, pose) share.

use ndarray::ArrayView2;

/// scipy.ndimage's `reflect` (numpy's `symmetric`): mirrored about the edge, repeating
/// the edge sample (`d c b a | a b c d | d c b a`).
pub(crate) fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let period = 2 * n;
    let mut k = i.rem_euclid(period);
    if k >= n {
        k = period - 1 - k;
    }
    k as usize
}

/// scipy.ndimage's `mirror` (numpy's `reflect`): mirrored about the edge sample's
/// centre, not repeating it (`d c b | a b c d | c b a`).
pub(crate) fn mirror(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let k = i.rem_euclid(period);
    (if k >= n as isize { period - k } else { k }) as usize
}

/// Bilinear interpolation of `source` at `(r, c)`, mirrored (`reflect`) beyond its edges.
pub(crate) fn bilinear(source: ArrayView2<'_, f64>, r: f64, c: f64) -> f64 {
    let (r0, c0) = (r.floor(), c.floor());
    let (fr, fc) = (r - r0, c - c0);
    let (r0, c0) = (r0 as isize, c0 as isize);
    let at = |dr: isize, dc: isize| {
        source[[
            reflect(r0 + dr, source.nrows()),
            reflect(c0 + dc, source.ncols()),
        ]]
    };
    let top = at(0, 0) * (1.0 - fc) + at(0, 1) * fc;
    let bottom = at(1, 0) * (1.0 - fc) + at(1, 1) * fc;
    top * (1.0 - fr) + bottom * fr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_matches_scipy() {
        // numpy.pad(np.arange(3), 4, mode="symmetric") == [2 2 1 0 0 1 2 2 1 0 0]
        let idx: Vec<usize> = (-4..7).map(|i| reflect(i, 3)).collect();
        assert_eq!(idx, [2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0]);
    }

    #[test]
    fn mirror_reflects_about_the_edge_pixels() {
        let got: Vec<usize> = (-3..8).map(|i| mirror(i, 4)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1]);
        assert_eq!(mirror(-5, 1), 0);
    }
}
