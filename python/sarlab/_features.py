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


def _optional_float(value):
    return None if value is None else float(value)


def gabor_kernel(frequency, theta=0, bandwidth=1, sigma_x=None, sigma_y=None, n_stds=3,
                 offset=0, dtype=np.complex128):
    """``skimage.filters.gabor_kernel``: the complex Gabor kernel (complex128, or
    ``dtype``)."""
    kernel = _sarlab.gabor_kernel(
        float(frequency), float(theta), float(bandwidth),
        _optional_float(sigma_x), _optional_float(sigma_y), float(n_stds), float(offset),
    )
    return kernel if dtype == np.complex128 else kernel.astype(dtype)


def gabor(image, frequency, theta=0, bandwidth=1, sigma_x=None, sigma_y=None, n_stds=3,
          offset=0, mode="reflect", cval=0):
    """``skimage.filters.gabor`` of a 2-D image: its real and imaginary responses
    (``mode="reflect"``, scikit-image's default, is the one sarlab computes)."""
    if mode != "reflect":
        raise ValueError(f'mode: sarlab computes mode="reflect" only, got {mode!r}')
    return _sarlab.gabor(
        float_image(image), float(frequency), float(theta), float(bandwidth),
        _optional_float(sigma_x), _optional_float(sigma_y), float(n_stds), float(offset),
    )


def _stack(images):
    """A 2-D image as a stack of one, or a 3-D stack as it is; and whether it was one."""
    array = np.asarray(images, dtype=np.float64)
    if array.ndim == 2:
        return array[np.newaxis], True
    if array.ndim == 3:
        return array, False
    raise ValueError(
        f"images: expected one 2-D image or a stack (n, rows, cols), got shape {array.shape}"
    )


def gabor_bank(images, frequencies=(0.1, 0.2, 0.3), orientations=4, bandwidth=1.0,
               stats=True, pool=0):
    """The features of a Gabor bank, as a study's ``method = "gabor"`` computes them:
    every frequency × ``orientations`` angles ``kπ / orientations`` (scikit-image's
    kernels, ``mode="reflect"`` responses); per filter the mean and (population)
    standard deviation of ``|response|`` when ``stats``, then ``|response|`` averaged
    over whole ``pool × pool`` blocks (row-major) when ``pool > 0``. One image gives a
    vector, a stack ``(n, rows, cols)`` an ``(n, length)`` matrix (in parallel)."""
    stack, single = _stack(images)
    features = _sarlab.gabor_bank(
        stack, [float(f) for f in np.atleast_1d(frequencies)], int(orientations),
        float(bandwidth), bool(stats), int(pool),
    )
    return features[0] if single else features


def spectral(images, block=24, rings=0, wedges=0, normalise=True):
    """Spectral features, as a study's ``method = "spectral"`` computes them from the
    centred spectrum ``F = fftshift(fft2(image))``: the centred ``block × block`` values
    of ``log(1 + |F|)`` (row-major), then the energy ``|F|²`` in ``rings`` rings of equal
    width out to ``min(rows, cols) / 2`` (beyond counts in the last) and in ``wedges``
    wedges of equal angle over ``[0, π)`` (the zero frequency in none), as fractions of
    the total energy when ``normalise``. One image gives a vector, a stack an ``(n,
    length)`` matrix."""
    stack, single = _stack(images)
    features = _sarlab.spectral(stack, int(block), int(rings), int(wedges), bool(normalise))
    return features[0] if single else features
