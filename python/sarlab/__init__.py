"""sarlab from Python.

The same functions as the ``sarlab`` command line, numpy in and out, with the same
numbers: chips and labelled datasets read as the standard Python loaders read them,
scikit-image's HOG and Gabor filters, spectral features, numpy's FFT, sarlab's frequency
and speckle filters, scikit-learn's PCA, and libsvm's C-SVC behind a scikit-learn
estimator.

>>> import numpy as np, sarlab
>>> image = np.random.default_rng(0).random((32, 32))
>>> sarlab.hog(image).shape
(81,)
"""

from sarlab._sarlab import SarlabError, __version__, read_chip
from sarlab._filters import apply_filter, fft2, fftshift, frequency_mask, ifft2, ifftshift
from sarlab._features import gabor, gabor_bank, gabor_kernel, hog, hog_batch, spectral
from sarlab._io import Dataset, load_dataset
from sarlab._transform import PCA, pca
from sarlab._study import Model, load_model, run, runs
from sarlab._svm import SVC, grid_search, stratified_folds

__all__ = [
    "Dataset",
    "Model",
    "PCA",
    "SVC",
    "SarlabError",
    "__version__",
    "apply_filter",
    "fft2",
    "fftshift",
    "frequency_mask",
    "gabor",
    "gabor_bank",
    "gabor_kernel",
    "grid_search",
    "hog",
    "hog_batch",
    "ifft2",
    "ifftshift",
    "load_dataset",
    "load_model",
    "pca",
    "read_chip",
    "run",
    "runs",
    "spectral",
    "stratified_folds",
]
