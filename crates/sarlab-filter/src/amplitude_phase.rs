//! Amplitude/phase experiments (Oppenheim & Lim): which carries an image's structure?
//! Reconstruct from the amplitude spectrum alone, from the phase alone, or swap them
//! between two images. Results are the real part of the inverse transform.

use ndarray::{Array2, ArrayView2, Zip};
use num_complex::Complex64;

use crate::error::{Error, Result};
use crate::fft;

/// The image whose spectrum has this image's amplitude and zero phase. Its energy sits
/// at the origin, so it is returned `fftshift`ed (centred) for display.
pub fn amplitude_only(image: ArrayView2<'_, f64>) -> Array2<f64> {
    let spectrum = fft::fft2_real(image);
    let amplitude = spectrum.mapv(|z| Complex64::new(z.norm(), 0.0));
    fft::fftshift(fft::ifft2(amplitude.view()).mapv(|z| z.re).view())
}

/// The image whose spectrum has this image's phase and unit amplitude: edges and
/// scatterer positions survive.
pub fn phase_only(image: ArrayView2<'_, f64>) -> Array2<f64> {
    let spectrum = fft::fft2_real(image);
    let unit = spectrum.mapv(|z| {
        if z.norm() > 0.0 {
            z / z.norm()
        } else {
            Complex64::new(1.0, 0.0)
        }
    });
    fft::ifft2(unit.view()).mapv(|z| z.re)
}

/// `(|A|·e^{i∠B}, |B|·e^{i∠A})` back in the image domain: each result looks like the
/// image whose phase it carries.
pub fn swap_amplitude_phase(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
) -> Result<(Array2<f64>, Array2<f64>)> {
    if a.dim() != b.dim() {
        return Err(Error::SizeMismatch {
            expected: a.dim(),
            actual: b.dim(),
        });
    }
    let (fa, fb) = (fft::fft2_real(a), fft::fft2_real(b));
    let mix = |amplitude: &Array2<Complex64>, phase: &Array2<Complex64>| {
        let spectrum = Zip::from(amplitude)
            .and(phase)
            .map_collect(|m, p| Complex64::from_polar(m.norm(), p.arg()));
        fft::ifft2(spectrum.view()).mapv(|z| z.re)
    };
    Ok((mix(&fa, &fb), mix(&fb, &fa)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn correlation(x: &Array2<f64>, y: &Array2<f64>) -> f64 {
        let (mx, my) = (x.mean().unwrap_or(0.0), y.mean().unwrap_or(0.0));
        let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
        let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
        cov / (vx * vy).sqrt()
    }

    #[test]
    fn swapping_twice_restores_and_phase_carries_structure() {
        let a = Array2::from_shape_fn((24, 20), |(r, c)| {
            if (8..14).contains(&r) && (5..15).contains(&c) {
                5.0
            } else {
                0.5
            }
        });
        let b = Array2::from_shape_fn((24, 20), |(r, c)| {
            ((r as f64 * 0.7).sin() + (c as f64 * 0.3).cos()).abs()
        });
        let (ab, ba) = swap_amplitude_phase(a.view(), b.view()).expect("same size");
        assert!(
            correlation(&ab, &b) > correlation(&ab, &a),
            "the result follows its phase's image"
        );
        assert!(correlation(&ba, &a) > correlation(&ba, &b));
        let (back_a, _) = swap_amplitude_phase(a.view(), a.view()).expect("same");
        assert!(back_a.iter().zip(&a).all(|(x, y)| (x - y).abs() < 1e-10));
        let err = swap_amplitude_phase(a.view(), b.t())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("(20, 24)") && err.contains("(24, 20)"),
            "{err}"
        );
    }

    #[test]
    fn amplitude_and_phase_only_are_real_images_of_the_same_size() {
        let a = Array2::from_shape_fn((9, 12), |(r, c)| (r * c % 7) as f64);
        assert_eq!(amplitude_only(a.view()).dim(), (9, 12));
        let p = phase_only(a.view());
        assert_eq!(p.dim(), (9, 12));
        // Unit amplitude: Σ|p|² = 1 (Parseval with |P| = 1 everywhere).
        let energy: f64 = p.iter().map(|v| v * v).sum();
        assert!((energy - 1.0).abs() < 1e-9, "{energy}");
    }
}
