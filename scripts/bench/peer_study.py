"""The Python peer study of ../shared/DESIGN.md §7, for the memory benchmark
(benches/study_memory.rs), which runs it beside `sarlab run experiments/mstar-peer.toml`
under /usr/bin/time -v: the same work with numpy/scipy/scikit-image features and
scikit-learn's StandardScaler → PCA(100) → SVC in GridSearchCV.

  load      every MSTAR SOC JPEG chip as np.asarray(Image.open(p)) / 255.0, centre
            64×64 crop (rows (h-64)//2, cols (w-64)//2)
  features  raw pixels (4096); HOG 9/(8,8)/(2,2) L2-Hys (1764); Gabor 3 frequencies
            (0.1, 0.2, 0.3) × 4 orientations, |response| by scipy.ndimage.convolve
            (mode reflect) pooled over 8×8 blocks (768); spectral log(1 + |F|),
            centred 24×24 block (576)
  grid      C ∈ {1, 10, 100} × γ ∈ {scale, 0.001, 0.01}, StratifiedKFold(5, shuffle,
            random_state=7), scoring accuracy, n_jobs=2; refit on train, scored on test

Prints one JSON object (seconds, CV and test accuracy, test macro-F1 per method).

Usage: python scripts/bench/peer_study.py ../shared/datasets/mstar-soc
"""
import json
import math
import pathlib
import sys
import time

import numpy as np
import scipy.ndimage as ndi
from PIL import Image
from skimage.feature import hog
from skimage.filters import gabor_kernel
from sklearn.decomposition import PCA
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def load(root, split):
    chips, labels = [], []
    classes = sorted(p.name for p in (root / split).iterdir() if p.is_dir())
    for k, cls in enumerate(classes):
        for path in sorted((root / split / cls).iterdir()):
            x = np.asarray(Image.open(path)) / 255.0
            r0, c0 = (x.shape[0] - 64) // 2, (x.shape[1] - 64) // 2
            chips.append(x[r0 : r0 + 64, c0 : c0 + 64])
            labels.append(k)
    return np.stack(chips), np.array(labels)


KERNELS = [gabor_kernel(f, theta=k * math.pi / 4) for f in (0.1, 0.2, 0.3) for k in range(4)]


def gabor_features(x):
    out = []
    for kernel in KERNELS:
        real = ndi.convolve(x, kernel.real, mode="reflect")
        imag = ndi.convolve(x, kernel.imag, mode="reflect")
        magnitude = np.hypot(real, imag)
        out.append(magnitude.reshape(8, 8, 8, 8).mean(axis=(1, 3)).ravel())
    return np.concatenate(out)


def spectral_features(x):
    f = np.abs(np.fft.fftshift(np.fft.fft2(x)))
    return np.log1p(f[32 - 12 : 32 + 12, 32 - 12 : 32 + 12]).ravel()


METHODS = {
    "raw": lambda x: x.ravel(),
    "hog": lambda x: hog(x, 9, (8, 8), (2, 2), block_norm="L2-Hys"),
    "gabor": gabor_features,
    "spectral": spectral_features,
}


def main(root):
    root = pathlib.Path(root)
    start = time.perf_counter()
    x_train, y_train = load(root, "train")
    x_test, y_test = load(root, "test")
    out = {"load_seconds": time.perf_counter() - start, "methods": {}}
    for name, method in METHODS.items():
        t = time.perf_counter()
        f_train = np.stack([method(x) for x in x_train])
        f_test = np.stack([method(x) for x in x_test])
        feature_seconds = time.perf_counter() - t
        t = time.perf_counter()
        search = GridSearchCV(
            Pipeline([("scale", StandardScaler()), ("pca", PCA(100, random_state=7)), ("svc", SVC())]),
            {"svc__C": [1, 10, 100], "svc__gamma": ["scale", 0.001, 0.01]},
            cv=StratifiedKFold(5, shuffle=True, random_state=7),
            scoring="accuracy",
            n_jobs=2,
        ).fit(f_train, y_train)
        predicted = search.predict(f_test)
        out["methods"][name] = {
            "dim": int(f_train.shape[1]),
            "feature_seconds": feature_seconds,
            "grid_seconds": time.perf_counter() - t,
            "best": {k.removeprefix("svc__"): v for k, v in search.best_params_.items()},
            "cv_accuracy": float(search.best_score_),
            "test_accuracy": float(accuracy_score(y_test, predicted)),
            "test_f1_macro": float(f1_score(y_test, predicted, average="macro")),
        }
    out["seconds"] = time.perf_counter() - start
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/mstar-soc")
