"""HOG through the bindings against scikit-image on the same arrays: the same bits."""

import numpy as np
import pytest
from PIL import Image
from skimage.feature import hog as skimage_hog

import sarlab

CASES = [
    {},
    {"orientations": 12, "pixels_per_cell": (6, 6), "cells_per_block": (2, 2)},
    {"block_norm": "L1", "transform_sqrt": True},
    {"block_norm": "L1-sqrt", "pixels_per_cell": (5, 7), "cells_per_block": (1, 3)},
    {"block_norm": "L2", "orientations": 4, "pixels_per_cell": (16, 8)},
]


@pytest.mark.parametrize("params", CASES)
@pytest.mark.parametrize("shape", [(64, 64), (51, 77), (128, 96)])
def test_hog_is_skimage_bit_for_bit(params, shape):
    image = np.random.default_rng(sum(shape)).random(shape)
    ours = sarlab.hog(image, **params)
    theirs = skimage_hog(image, **params)
    assert ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)
    blocks = sarlab.hog(image, feature_vector=False, **params)
    assert np.array_equal(blocks, skimage_hog(image, feature_vector=False, **params))


def test_hog_of_mstar_chips_read_through_sarlab(mstar_soc):
    paths = sorted((mstar_soc / "test").glob("*/*.jpeg"))[::400]
    for path in paths:
        image, _ = sarlab.read_chip(path)
        reference = np.asarray(Image.open(path)) / 255.0
        assert np.array_equal(sarlab.hog(image), skimage_hog(reference)), path


def test_hog_image_and_batch():
    rng = np.random.default_rng(8)
    image = rng.random((48, 40))
    features, picture = sarlab.hog(image, visualize=True)
    _, theirs = skimage_hog(image, visualize=True)
    assert picture.shape == image.shape
    assert np.allclose(picture, theirs, rtol=0, atol=1e-12)
    stack = rng.random((5, 48, 40))
    batch = sarlab.hog_batch(stack)
    assert batch.shape == (5, features.size)
    for row, single in zip(batch, stack):
        assert np.array_equal(row, sarlab.hog(single))


def test_non_contiguous_and_other_dtypes_are_taken():
    image = np.random.default_rng(9).random((80, 80))
    view = image[::2, 1::2]
    assert np.array_equal(sarlab.hog(view), skimage_hog(np.ascontiguousarray(view)))
    grey = (image * 255).astype(np.uint8)
    assert np.array_equal(sarlab.hog(grey), skimage_hog(grey.astype(np.float64)))


def test_bad_hog_parameters_are_named():
    image = np.zeros((32, 32))
    with pytest.raises(sarlab.SarlabError, match="block_norm"):
        sarlab.hog(image, block_norm="L3")
    with pytest.raises(ValueError, match="orientations"):
        sarlab.hog(image, orientations=0)
    with pytest.raises(ValueError):
        sarlab.hog(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="2-D"):
        sarlab.hog(np.zeros((4, 4, 3)))


def test_non_finite_images_are_refused():
    image = np.zeros((32, 32))
    image[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"\(3, 4\) is NaN"):
        sarlab.hog(image)
    with pytest.raises(ValueError, match=r"images\[1\]"):
        sarlab.hog_batch(np.stack([np.zeros((32, 32)), image]))
