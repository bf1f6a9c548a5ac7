"""Gabor kernels, responses and banks against scikit-image, and spectral features
against numpy, on chips read from files (sarlab's reader and PIL's give the same
arrays; see test_io.py)."""

import math

import numpy as np
import pytest
from PIL import Image
from skimage.filters import gabor as skimage_gabor
from skimage.filters import gabor_kernel as skimage_gabor_kernel

import sarlab
from conftest import fixture_script, write_chips

KERNELS = [
    {"frequency": 0.1},
    {"frequency": 0.2, "theta": math.pi / 4},
    {"frequency": 0.3, "theta": math.pi / 2, "bandwidth": 1.5},
    {"frequency": 0.05, "theta": 3 * math.pi / 4, "bandwidth": 0.8},
    {"frequency": 0.25, "theta": 0.3, "sigma_x": 2.0, "sigma_y": 4.0, "n_stds": 2.5, "offset": 0.7},
    {"frequency": 0.41, "theta": 2.2, "sigma_y": 1.3},
]


def close(got, expected, scale_tolerance=1e-11):
    """Equal to rounding: the largest difference relative to the largest magnitude."""
    assert got.shape == expected.shape
    scale = max(np.abs(expected).max(), 1e-300)
    worst = np.abs(got - expected).max() / scale
    assert worst <= scale_tolerance, worst


@pytest.mark.parametrize("params", KERNELS)
def test_kernels_are_skimage_s(params):
    got = sarlab.gabor_kernel(**params)
    expected = skimage_gabor_kernel(**params)
    assert got.dtype == np.complex128
    close(got, expected, 1e-14)


@pytest.mark.parametrize("params", KERNELS)
@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_responses_of_chips_read_from_files_are_skimage_s(tmp_path, params, suffix):
    # Small kernels take the direct route, large ones the FFT; odd and non-square sizes.
    for path in write_chips(tmp_path, [(48, 48), (37, 61)], seed=5, suffix=suffix):
        image, _ = sarlab.read_chip(path)
        reference = np.asarray(Image.open(path)) / 255.0
        assert np.array_equal(image, reference)
        real, imag = sarlab.gabor(image, **params)
        expected_real, expected_imag = skimage_gabor(reference, mode="reflect", **params)
        close(real, expected_real)
        close(imag, expected_imag)


BANKS = [
    {"frequencies": [0.1, 0.2, 0.3], "orientations": 4, "pool": 8},
    {"frequencies": [0.07, 0.33], "orientations": 6, "bandwidth": 1.4},
    {"frequencies": [0.25], "orientations": 3, "stats": False, "pool": 5},
]


@pytest.mark.parametrize("bank", BANKS)
def test_banks_are_skimage_responses_summarised(tmp_path, bank):
    reference_bank = fixture_script("gabor").bank_features
    paths = write_chips(tmp_path, [(40, 40)] * 3 + [(33, 47)], seed=9)
    images = [sarlab.read_chip(p)[0] for p in paths]
    same_size = np.stack(images[:3])
    matrix = sarlab.gabor_bank(same_size, **bank)
    for i, path in enumerate(paths):
        reference = np.asarray(Image.open(path)) / 255.0
        expected = np.asarray(reference_bank(reference, **bank))
        one = sarlab.gabor_bank(images[i], **bank)
        close(one, expected)
        if i < 3:
            # A stack's rows are each image's own features, bit for bit.
            assert np.array_equal(matrix[i], one)


@pytest.mark.parametrize(
    "settings",
    [
        {"block": 24, "rings": 8, "wedges": 8},
        {"block": 8, "rings": 4, "wedges": 4},
        {"block": 5, "rings": 7, "wedges": 6, "normalise": False},
        {"block": 0, "rings": 12},
        {"block": 16},
    ],
)
def test_spectral_features_are_numpy_s(tmp_path, settings):
    reference_spectral = fixture_script("spectral").spectral
    paths = write_chips(tmp_path, [(56, 56), (56, 56), (41, 64)], seed=2, suffix=".jpg")
    full = {"block": 24, "rings": 0, "wedges": 0, "normalise": True, **settings}
    images = [sarlab.read_chip(p)[0] for p in paths]
    stacked = sarlab.spectral(np.stack(images[:2]), **settings)
    for i, path in enumerate(paths):
        reference = np.asarray(Image.open(path)) / 255.0
        expected = np.asarray(reference_spectral(reference, **full))
        got = sarlab.spectral(images[i], **settings)
        block = full["block"] ** 2
        if block:
            close(got[:block], expected[:block], 1e-12)
        # Energies: fractions (or sums) over many bins, compared per value.
        np.testing.assert_allclose(got[block:], expected[block:], rtol=1e-11, atol=0)
        if i < 2:
            assert np.array_equal(stacked[i], got)


def test_bad_gabor_and_spectral_input_is_named():
    image = np.random.default_rng(0).random((32, 32))
    with pytest.raises(sarlab.SarlabError, match="frequency"):
        sarlab.gabor(image, 0.7)
    with pytest.raises(sarlab.SarlabError, match="frequency"):
        sarlab.gabor_bank(image, frequencies=[0.1, 0.0])
    with pytest.raises(sarlab.SarlabError, match="orientations"):
        sarlab.gabor_bank(image, orientations=0)
    with pytest.raises(sarlab.SarlabError, match="pool"):
        sarlab.gabor_bank(image, pool=40)
    with pytest.raises(ValueError, match="reflect"):
        sarlab.gabor(image, 0.1, mode="constant")
    with pytest.raises(sarlab.SarlabError, match="block"):
        sarlab.spectral(image, block=40)
    with pytest.raises(sarlab.SarlabError, match="no features"):
        sarlab.spectral(image, block=0)
    with pytest.raises(ValueError, match="images"):
        sarlab.spectral(np.zeros((2, 2, 8, 8)))
    bad = image.copy()
    bad[3, 4] = np.nan
    with pytest.raises(sarlab.SarlabError, match=r"images\[0\].*\(3, 4\)"):
        sarlab.gabor_bank(bad)
    stack = np.stack([image, bad])
    with pytest.raises(sarlab.SarlabError, match=r"images\[1\].*\(3, 4\)"):
        sarlab.spectral(stack)
    with pytest.raises(sarlab.SarlabError, match=r"\(3, 4\)"):
        sarlab.gabor(bad, 0.2)


def test_a_feature_matrix_beyond_the_memory_available_is_refused_before_it_is_allocated():
    # 16 frequencies × 180 angles × one value per pixel of 512 × 512 chips: 6 GB a chip,
    # 6 TB for the stack (whose zeros numpy does not touch).
    stack = np.zeros((1000, 512, 512))
    with pytest.raises(sarlab.SarlabError, match="feature matrix of 1000 images.*available"):
        sarlab.gabor_bank(stack, frequencies=np.linspace(0.05, 0.45, 16), orientations=180,
                          stats=False, pool=1)
