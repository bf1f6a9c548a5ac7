"""numpy's side of crates/sarlab-filter/benches/fft.rs: per-chip 2-D FFT and a full
Butterworth low-pass (order 2, cutoff 0.25 of Nyquist) at the sizes given, single
thread, on the same test image formula. Prints one JSON object: size -> microseconds
(best of 7 repeats: on a shared machine the minimum is the least noisy estimate).

Usage: python scripts/bench/fft_numpy.py 128 158 192
"""
import json
import os
import sys
import timeit

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402


def test_image(n):
    r, c = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float), indexing="ij")
    ri, ci = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.sin(0.37 * r + 0.11 * c) + np.cos(0.05 * r * c) + ((ri * 31 + ci * 17) % 13) / 13.0


def butterworth_mask(n, cutoff, order):
    r, c = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    d = np.sqrt((r - n // 2) ** 2 + (c - n // 2) ** 2)
    return 1.0 / (1.0 + (d / cutoff) ** (2 * order))


def best_us(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=7)) / number * 1e6


out = {"numpy": np.__version__}
for n in map(int, sys.argv[1:]):
    x = test_image(n)
    cutoff = 0.25 * n / 2
    mask = np.fft.ifftshift(butterworth_mask(n, cutoff, 2))
    number = max(20, 200_000 // (n * n) * 10)
    out[str(n)] = {
        "fft2": best_us(lambda: np.fft.fft2(x), number),
        "rfft2": best_us(lambda: np.fft.rfft2(x), number),
        "butterworth": best_us(lambda: np.real(np.fft.ifft2(np.fft.fft2(x) * mask)), number),
        "butterworth_with_mask": best_us(
            lambda: np.real(np.fft.ifft2(np.fft.fft2(x) * np.fft.ifftshift(butterworth_mask(n, cutoff, 2)))),
            number,
        ),
    }
json.dump(out, sys.stdout)
print()
