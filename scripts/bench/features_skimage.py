"""scikit-image's side of crates/sarlab-features/benches/features.rs: per-chip feature
extraction on one thread, on the same 64x64 test image formula. Prints one JSON object:
operation -> microseconds per chip (best of 101 short batches: on a shared machine with
CPU steal the minimum over many short batches is the least noisy estimate; the Rust
side measures the same way).

  hog_2x2     skimage.feature.hog(x, 9, (8, 8), (2, 2), "L2-Hys")  (1764 values)
  hog_3x3     the same with scikit-image's default (3, 3) blocks     (2916 values)
  gabor_12    12 skimage.filters.gabor calls (frequencies 0.1, 0.2, 0.3 x 4 angles,
              mode="reflect"), each reduced to the mean and std of |response|
  gabor_12_pooled  the same, plus |response| averaged over 8x8 blocks (DESIGN section 7)
  spectral_24 log(1 + |fftshift(fft2(x))|), centre 24x24 block

Usage: python scripts/bench/features_skimage.py
"""
import json
import math
import os
import timeit

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import skimage  # noqa: E402
from skimage.feature import hog  # noqa: E402
from skimage.filters import gabor  # noqa: E402


def test_image(n):
    r, c = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float), indexing="ij")
    ri, ci = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.sin(0.37 * r + 0.11 * c) + np.cos(0.05 * r * c) + ((ri * 31 + ci * 17) % 13) / 13.0


def best_us(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=101)) / number * 1e6


def chip():
    """The bench's 64x64 test image, scaled to [0, 1] (non-negative, as chips are)."""
    x = test_image(64)
    return (x - x.min()) / (x.max() - x.min())


def gabor_bank(x, pool):
    rows, cols = x.shape
    out = []
    for f in (0.1, 0.2, 0.3):
        for k in range(4):
            real, imag = gabor(x, f, theta=k * math.pi / 4, mode="reflect")
            m = np.hypot(real, imag)
            out += [m.mean(), m.std()]
            if pool:
                out.extend(m.reshape(rows // pool, pool, cols // pool, pool).mean(axis=(1, 3)).ravel())
    return out


def spectral(x, block=24):
    rows, cols = x.shape
    f = np.fft.fftshift(np.fft.fft2(x))
    r0, c0 = rows // 2 - block // 2, cols // 2 - block // 2
    return np.log1p(np.abs(f[r0 : r0 + block, c0 : c0 + block])).ravel()


def main():
    x = chip()
    out = {
        "skimage": skimage.__version__,
        "numpy": np.__version__,
        "hog_2x2": best_us(lambda: hog(x, 9, (8, 8), (2, 2), "L2-Hys"), 20),
        "hog_3x3": best_us(lambda: hog(x, 9, (8, 8), (3, 3), "L2-Hys"), 20),
        "gabor_12": best_us(lambda: gabor_bank(x, 0), 1),
        "gabor_12_pooled": best_us(lambda: gabor_bank(x, 8), 1),
        "spectral_24": best_us(lambda: spectral(x), 20),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
