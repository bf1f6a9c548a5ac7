"""Turning what callers pass into the arrays the native functions borrow."""

import numpy as np


def float_image(image, name="image"):
    """A 2-D float64 array: borrowed as it is when it already is one (any strides)."""
    array = np.asarray(image, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array, got shape {array.shape}")
    return array


def float_rows(x, name="X"):
    """A 2-D float64 matrix of samples × features."""
    array = np.asarray(x, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array of samples × features, got shape {array.shape}"
        )
    return array
