"""FFT, masks and filters through the bindings against numpy and scipy on the same
arrays."""

import numpy as np
import pytest
from scipy import ndimage as ndi

import sarlab


def image(shape, seed=0):
    return np.random.default_rng(seed).gamma(1.0, 1.0, size=shape)


@pytest.mark.parametrize("shape", [(64, 64), (37, 50), (1, 9), (128, 90)])
def test_fft2_and_ifft2_are_numpys(shape):
    x = image(shape)
    spectrum = sarlab.fft2(x)
    expected = np.fft.fft2(x)
    scale = np.abs(expected).max()
    assert spectrum.dtype == np.complex128
    assert np.abs(spectrum - expected).max() <= 1e-12 * scale
    complex_input = x + 1j * image(shape, 1)
    assert np.abs(sarlab.fft2(complex_input) - np.fft.fft2(complex_input)).max() <= 1e-12 * scale * 2
    back = sarlab.ifft2(expected)
    assert np.abs(back - np.fft.ifft2(expected)).max() <= 1e-12 * np.abs(x).max()


@pytest.mark.parametrize("shape", [(4, 6), (5, 7), (1, 1), (6, 3)])
def test_shifts_are_numpys_exactly(shape):
    x = image(shape)
    assert np.array_equal(sarlab.fftshift(x), np.fft.fftshift(x))
    assert np.array_equal(sarlab.ifftshift(x), np.fft.ifftshift(x))
    z = x + 2j * x
    assert np.array_equal(sarlab.fftshift(z), np.fft.fftshift(z))


def numpy_mask(profile, rows, cols, d0, n):
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    d = np.sqrt((r - rows // 2) ** 2 + (c - cols // 2) ** 2)
    if profile == "ideal":
        return (d <= d0).astype(float)
    if profile == "gaussian":
        return np.exp(-(d**2) / (2 * d0**2))
    return 1.0 / (1.0 + (d / d0) ** (2 * n))


@pytest.mark.parametrize("profile", ["ideal", "gaussian", "butterworth"])
@pytest.mark.parametrize("shape", [(64, 64), (45, 70)])
def test_low_pass_filters_are_mask_times_spectrum(profile, shape):
    rows, cols = shape
    spec = f"{profile}:lowpass:cutoff=12" + (":order=2" if profile == "butterworth" else "")
    mask = numpy_mask(profile, rows, cols, 12.0, 2)
    assert np.allclose(sarlab.frequency_mask(spec, shape), mask, rtol=0, atol=1e-15)
    x = image(shape, 5)
    expected = np.real(np.fft.ifft2(np.fft.ifftshift(np.fft.fftshift(np.fft.fft2(x)) * mask)))
    ours = sarlab.apply_filter(x, spec)
    assert ours.shape == shape
    assert np.abs(ours - expected).max() <= 1e-12 * np.abs(x).max()
    high = sarlab.apply_filter(x, spec.replace("lowpass", "highpass"))
    assert np.abs(ours + high - x).max() <= 1e-12 * np.abs(x).max()


@pytest.mark.parametrize(
    "spec, reference",
    [
        ("mean:window=5", lambda x: ndi.uniform_filter(x, 5, mode="reflect")),
        ("median:window=3", lambda x: ndi.median_filter(x, 3, mode="reflect")),
        ("gaussian:sigma=1.5", lambda x: ndi.gaussian_filter(x, 1.5, mode="reflect")),
    ],
)
def test_spatial_filters_are_scipys(spec, reference):
    x = image((40, 33), 6)
    assert np.allclose(sarlab.apply_filter(x, spec), reference(x), rtol=1e-12, atol=1e-13)


def test_lee_filter_reduces_speckle_and_keeps_the_mean():
    x = image((64, 64), 7)
    out = sarlab.apply_filter(x, "lee:window=7:looks=1")
    assert out.shape == x.shape and np.isfinite(out).all()
    assert out.std() < x.std()
    assert abs(out.mean() - x.mean()) < 0.05 * x.mean()


def test_bad_specs_are_named():
    x = image((16, 16))
    with pytest.raises(sarlab.SarlabError, match="butterworth:lowpass"):
        sarlab.apply_filter(x, "butterworth:lowpass")
    with pytest.raises(sarlab.SarlabError, match="unknown speckle filter"):
        sarlab.apply_filter(x, "blur:window=3")
    with pytest.raises(sarlab.SarlabError):
        sarlab.frequency_mask("ideal:lowpass:cutoff=-1", (8, 8))
    with pytest.raises(ValueError):
        sarlab.apply_filter(np.full((8, 8), np.nan), "median:window=3")
