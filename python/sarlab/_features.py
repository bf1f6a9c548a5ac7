"""Features with scikit-image's signatures and defaults."""

import numpy as np

from sarlab import _sarlab
from sarlab._arrays import float_image


def hog(
    image,
    orientations=9,
    pixels_per_cell=(8, 8),
    cells_per_block=(3, 3),
    block_norm="L2-Hys",
    visualize=False,
    transform_sqrt=False,
    feature_vector=True,
    channel_axis=None,
):
    """``skimage.feature.hog`` of a 2-D image: the same values, bit for bit, for float64
    images (other dtypes are converted to float64 first; scikit-image computes float32
    images in float32). Returns the descriptor, and with ``visualize`` also the HOG image.
    """
    if channel_axis is not None:
        raise ValueError("channel_axis: sarlab's HOG takes one 2-D (grey) image")
    if not (type(image) is np.ndarray and image.dtype == np.float64 and image.ndim == 2):
        image = float_image(image)
    # Sequences of ints are taken as they are (per-chip calls are microseconds long).
    ppc, cpb = tuple(pixels_per_cell), tuple(cells_per_block)
    features, picture = _sarlab.hog(
        image, orientations, ppc, cpb, block_norm, transform_sqrt, visualize
    )
    if not feature_vector:
        cells = (image.shape[0] // ppc[0], image.shape[1] // ppc[1])
        blocks = (cells[0] - cpb[0] + 1, cells[1] - cpb[1] + 1)
        features = features.reshape(blocks + cpb + (int(orientations),))
    if visualize:
        return features, picture
    return features


def hog_batch(
    images,
    orientations=9,
    pixels_per_cell=(8, 8),
    cells_per_block=(3, 3),
    block_norm="L2-Hys",
    transform_sqrt=False,
):
    """HOG descriptors of a stack ``(n, rows, cols)`` as an ``(n, length)`` matrix,
    computed in parallel (each row equals :func:`hog` of that image)."""
    stack = np.asarray(images, dtype=np.float64)
    if stack.ndim != 3:
        raise ValueError(f"images: expected (n, rows, cols), got shape {stack.shape}")
    return _sarlab.hog_batch(
        stack,
        int(orientations),
        tuple(int(v) for v in pixels_per_cell),
        tuple(int(v) for v in cells_per_block),
        str(block_norm),
        bool(transform_sqrt),
    )
