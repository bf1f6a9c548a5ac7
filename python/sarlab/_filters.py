"""numpy's FFT conventions and sarlab's filters by their spec strings."""

import numpy as np

from sarlab import _sarlab
from sarlab._arrays import float_image


def fft2(a):
    """``numpy.fft.fft2`` of a real or complex 2-D array (complex128 out)."""
    array = np.asarray(a)
    if np.iscomplexobj(array):
        return _sarlab.fft2_complex(np.asarray(array, dtype=np.complex128))
    return _sarlab.fft2(float_image(array, "a"))


def ifft2(a):
    """``numpy.fft.ifft2`` of a 2-D spectrum (complex128 out)."""
    array = np.asarray(a, dtype=np.complex128)
    if array.ndim != 2:
        raise ValueError(f"a: expected a 2-D array, got shape {array.shape}")
    return _sarlab.ifft2(array)


def _shift(a, inverse):
    array = np.asarray(a)
    if array.ndim != 2:
        raise ValueError(f"a: expected a 2-D array, got shape {array.shape}")
    if np.iscomplexobj(array):
        return _sarlab.fftshift_complex(np.asarray(array, dtype=np.complex128), inverse)
    return _sarlab.fftshift_real(np.asarray(array, dtype=np.float64), inverse)


def fftshift(a):
    """``numpy.fft.fftshift`` over both axes of a 2-D array."""
    return _shift(a, False)


def ifftshift(a):
    """``numpy.fft.ifftshift`` over both axes of a 2-D array."""
    return _shift(a, True)


def frequency_mask(spec, shape):
    """The mask of a frequency filter spec on the centred spectrum of an image of
    ``shape`` (zero frequency at ``(rows // 2, cols // 2)``), e.g.
    ``frequency_mask("butterworth:lowpass:cutoff=30:order=2", (128, 128))``."""
    rows, cols = shape
    return _sarlab.frequency_mask(spec, int(rows), int(cols))


def apply_filter(image, spec):
    """An image filtered as a study's ``[[filters]]`` entry filters it: a frequency
    filter (``"butterworth:lowpass:cutoff=30:order=2"``) or a speckle filter
    (``"lee:window=7:looks=1"``, ``"median:window=3"``, …)."""
    return _sarlab.apply_filter(float_image(image), spec)
