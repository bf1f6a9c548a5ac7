"""read_chip gives what the standard Python loaders give for the same file."""

import re

import numpy as np
import pytest
from PIL import Image
import tifffile

import sarlab


def test_png_and_jpeg_are_the_pil_pixels_over_255(tmp_path):
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, size=(37, 53), dtype=np.uint8)
    for name, kwargs in [("a.png", {}), ("a.jpg", {"quality": 87})]:
        path = tmp_path / name
        Image.fromarray(grey).save(path, **kwargs)
        image, info = sarlab.read_chip(path)
        expected = np.asarray(Image.open(path)) / 255.0
        assert image.dtype == np.float64 and image.shape == (37, 53)
        assert np.array_equal(image, expected), name
        assert info["format"] in ("png", "jpeg") and info["sample_type"] == "uint8"
        assert info["phase"] is None


def test_sixteen_bit_png_is_over_65535(tmp_path):
    values = np.arange(0, 65535, 517, dtype=np.uint16)[:120].reshape(10, 12)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    image, _ = sarlab.read_chip(path)
    assert np.array_equal(image, np.asarray(Image.open(path)) / 65535.0)


def test_float_tiff_and_npy_are_as_stored(tmp_path):
    rng = np.random.default_rng(4)
    magnitude = rng.gamma(1.0, 2.0, size=(20, 30)).astype(np.float32)
    tiff = tmp_path / "m.tif"
    tifffile.imwrite(tiff, magnitude)
    image, info = sarlab.read_chip(tiff)
    assert image.dtype == np.float32
    assert np.array_equal(image, tifffile.imread(tiff))
    npy = tmp_path / "m.npy"
    np.save(npy, magnitude.astype(np.float64))
    image, info = sarlab.read_chip(npy)
    assert image.dtype == np.float64 and np.array_equal(image, np.load(npy))
    assert info["format"] == "npy"


def test_mstar_jpeg_chips_equal_pil(mstar_soc):
    paths = sorted((mstar_soc / "train").glob("*/*.jpeg"))[:: 250]
    assert paths
    for path in paths:
        image, _ = sarlab.read_chip(path)
        assert np.array_equal(image, np.asarray(Image.open(path)) / 255.0), path


def test_phoenix_chips_are_their_big_endian_samples(mstar_raw):
    for path in sorted(mstar_raw.iterdir()):
        data = path.read_bytes()
        header_length = int(re.search(rb"PhoenixHeaderLength= *(\d+)", data).group(1))
        rows = int(re.search(rb"NumberOfRows= *(\d+)", data).group(1))
        cols = int(re.search(rb"NumberOfColumns= *(\d+)", data).group(1))
        samples = np.frombuffer(data[header_length:], dtype=">f4")
        magnitude, info = sarlab.read_chip(path, verify_md5=True)
        assert magnitude.dtype == np.float32 and magnitude.shape == (rows, cols)
        assert np.array_equal(magnitude, samples[: rows * cols].reshape(rows, cols))
        assert info["format"] == "phoenix" and info["md5"] == "ok"
        assert info["header"]["NumberOfRows"] == str(rows)
        assert isinstance(info["depression_deg"], float)
        assert info["target_type"]
        assert info["phase"].shape == (rows, cols)


def test_bad_files_raise_with_the_path(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(FileNotFoundError, match="nope.png"):
        sarlab.read_chip(missing)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    with pytest.raises(sarlab.SarlabError, match="junk.png"):
        sarlab.read_chip(junk)
    cut = tmp_path / "cut.png"
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(cut)
    cut.write_bytes(cut.read_bytes()[:60])
    with pytest.raises(ValueError, match="cut.png"):
        sarlab.read_chip(cut)
