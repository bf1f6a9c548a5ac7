# %% [markdown]
# # sarlab from Python: the quickstart comparison
#
# A notebook-style script (cells separated by `# %%`, as VS Code, PyCharm and Jupytext
# read them). Run it from the repository root after `pip install ./python`:
#
#     python examples/python_quickstart.py
#
# It runs the quickstart study (raw pixels, HOG, Gabor and spectral features on
# sarlab's synthetic SAR chips, an RBF SVM grid each), reads the runs back as a
# DataFrame, then redoes the whole comparison by hand from numpy arrays — the chips
# loaded, cropped and converted to dB, each method's features, the grid search on the
# study's folds and the test refit — and finds the study's numbers; finally it puts
# sarlab's HOG, Gabor and SVC next to scikit-image's and scikit-learn's.

# %%
import glob
import os
import time

import numpy as np

import sarlab

# Another spec of the same shape (a synthetic dataset, a crop) can stand in for the
# quickstart's: the tests run this script on a small one.
SPEC = os.environ.get("SARLAB_EXAMPLE_SPEC", "experiments/quickstart.toml")
try:
    import tomllib
except ImportError:  # Python < 3.11
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None
if tomllib is not None:
    with open(SPEC, "rb") as f:
        settings = tomllib.load(f)
elif os.path.normpath(SPEC) == os.path.normpath("experiments/quickstart.toml"):
    settings = {  # the quickstart's values
        "name": "quickstart", "seed": 7, "dataset": {"path": "datasets/synthetic"},
        "preprocess": {"crop": 56, "intensity": "db"},
        "features": [
            {"method": "raw", "downsample": 2},
            {"method": "hog", "orientations": 9, "pixels_per_cell": 8, "cells_per_block": 2},
            {"method": "gabor", "frequencies": [[0.1, 0.2, 0.3]], "orientations": 4, "pool": 8},
            {"method": "spectral", "block": 24, "rings": 8, "wedges": 8},
        ],
        "svm": {"C": [1, 10, 100], "gamma": "scale", "folds": 5},
    }
else:
    raise SystemExit(f"reading {SPEC} needs Python 3.11+ (tomllib) or `pip install tomli`")


def single(value):
    """A spec value that is a one-value sweep axis (`[x]`) as `x`."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


NAME, DATA, SEED = settings["name"], settings["dataset"]["path"], settings.get("seed", 0)
CROP = single(settings["preprocess"]["crop"])
INTENSITY = single(settings["preprocess"].get("intensity", "linear"))
SVM = settings["svm"]
C_VALUES = SVM["C"] if isinstance(SVM["C"], list) else [SVM["C"]]
GAMMA = SVM.get("gamma", "scale")
FOLDS = SVM.get("folds", 5)

outcome = sarlab.run(SPEC, db="quickstart.db")
print(f"{outcome['ran']} configurations run, {outcome['skipped']} already in the database")
print("report:", outcome["report"])

# %% The runs as a DataFrame: each method's best cross-validated configuration.
runs = sarlab.runs("quickstart.db", experiment=NAME)
cv = runs[runs["tags.stage"] == "cv"]
best = (
    cv.sort_values("metrics.f1_macro", ascending=False, kind="stable")
    .groupby("params.feature", sort=False)
    .head(1)[["params.feature", "params.C", "metrics.f1_macro", "metrics.accuracy"]]
)
print(best.to_string(index=False))
tests = runs[runs["params.stage"] == "test"]
print(tests[["name", "metrics.accuracy", "metrics.f1_macro"]].to_string(index=False))

# %% The comparison by hand. The chips as the study reads them (its order, its centre
# crop), in dB as `intensity = "db"` has it: 20·log10(max(x, 1e-4)).
dataset = sarlab.load_dataset(DATA, crop=CROP)
print(dataset)
train, test = dataset["train"], dataset["test"]


def intensity(images):
    if INTENSITY == "db":
        return 20 * np.log10(np.maximum(images, 1e-4))
    if INTENSITY == "sqrt":
        return np.sqrt(np.maximum(images, 0))
    return images


def features(method, images):
    """A spec's `[[features]]` entry computed from Python."""
    x, n = intensity(images), len(images)
    name = method["method"]
    if name == "raw":
        k = single(method.get("downsample", 1))
        rows, cols = x.shape[1] // k, x.shape[2] // k
        blocks = x[:, : rows * k, : cols * k].reshape(n, rows, k, cols, k)
        return blocks.mean(axis=(2, 4)).reshape(n, -1)
    if name == "hog":
        cell, block = single(method.get("pixels_per_cell", 8)), single(method.get("cells_per_block", 3))
        return sarlab.hog_batch(
            x, orientations=single(method.get("orientations", 9)), pixels_per_cell=(cell, cell),
            cells_per_block=(block, block), block_norm=single(method.get("block_norm", "L2-Hys")),
        )
    if name == "gabor":
        return sarlab.gabor_bank(
            x, frequencies=single(method.get("frequencies", [0.1, 0.2, 0.3])),
            orientations=single(method.get("orientations", 4)),
            bandwidth=single(method.get("bandwidth", 1.0)), stats=single(method.get("stats", True)),
            pool=single(method.get("pool", 0)),
        )
    if name == "spectral":
        return sarlab.spectral(
            x, block=single(method.get("block", 24)), rings=single(method.get("rings", 0)),
            wedges=single(method.get("wedges", 0)), normalise=single(method.get("normalise", True)),
        )
    raise ValueError(f"this example computes raw, hog, gabor and spectral, not {name}")


all_same = True
for method in settings["features"]:
    name = method["method"]
    start = time.perf_counter()
    x_train, x_test = features(method, train.images), features(method, test.images)
    seconds = time.perf_counter() - start
    # The study's folds (its seed), features standardised on each training fold.
    table = sarlab.grid_search(x_train, train.labels, C=C_VALUES, gamma=GAMMA, folds=FOLDS,
                               seed=SEED, standardize=True)
    recorded = cv[cv["params.feature"] == name].sort_values("params.C")
    same_cv = np.array_equal(table.sort_values("C")["mean_f1_macro"].to_numpy(),
                             recorded["metrics.f1_macro"].to_numpy())
    # The test refit of the best C (ties to the first in grid order, as the study
    # breaks them): standardise on all training chips, fit, predict the test chips.
    best_c = float(table.loc[table["mean_f1_macro"].idxmax(), "C"])
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    model = sarlab.SVC(C=best_c, gamma=single(GAMMA)).fit((x_train - mean) / std, train.labels)
    accuracy = float(np.mean(model.predict((x_test - mean) / std) == test.labels))
    study_accuracy = tests[tests["params.feature"] == name]["metrics.accuracy"].to_numpy()
    same_test = len(study_accuracy) == 1 and abs(accuracy - study_accuracy[0]) < 1e-12
    all_same &= same_cv and same_test
    print(f"{name:9s} {x_train.shape[1]:5d} features in {seconds:.3f} s; best C = {best_c:g}: "
          f"CV F1 {table['mean_f1_macro'].max():.4f}, test accuracy {accuracy:.4f}; "
          f"the study's CV numbers: {same_cv}, its test accuracy: {same_test}")
print(f"every method reproduces the study: {all_same}")

# %% sarlab's features and SVC next to scikit-image's and scikit-learn's, same arrays.
hog_method = next(m for m in settings["features"] if m["method"] == "hog")
x_train = features(hog_method, train.images)
cell, block = single(hog_method.get("pixels_per_cell", 8)), single(hog_method.get("cells_per_block", 3))
hog = dict(orientations=single(hog_method.get("orientations", 9)), pixels_per_cell=(cell, cell),
           cells_per_block=(block, block), block_norm=single(hog_method.get("block_norm", "L2-Hys")))
images = intensity(train.images)
try:
    from skimage.feature import hog as skimage_hog
    from skimage.filters import gabor as skimage_gabor

    start = time.perf_counter()
    reference = np.stack([skimage_hog(image, **hog) for image in images])
    skimage_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ours = sarlab.hog_batch(images, **hog)
    sarlab_seconds = time.perf_counter() - start
    print(f"HOG of {len(images)} chips: scikit-image {skimage_seconds:.3f} s, sarlab "
          f"{sarlab_seconds:.3f} s; identical: {np.array_equal(reference, ours)}")
    real, imag = skimage_gabor(images[0], 0.2, theta=np.pi / 4, mode="reflect")
    ours_real, ours_imag = sarlab.gabor(images[0], 0.2, theta=np.pi / 4)
    worst = max(np.abs(ours_real - real).max(), np.abs(ours_imag - imag).max())
    print(f"Gabor response (f = 0.2, θ = π/4): largest difference from scikit-image {worst:.1e}")
except ImportError:
    print("(scikit-image is not installed: skipping its HOG and Gabor)")

try:
    from sklearn.svm import SVC

    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    z = (x_train - mean) / std
    theirs = SVC(C=10).fit(z, train.labels)
    ours = sarlab.SVC(C=10).fit(z, train.labels)
    same = np.array_equal(theirs.support_, ours.support_) and np.array_equal(
        theirs.predict(z), ours.predict(z))
    print(f"scikit-learn SVC has the same support vectors and predicts the same labels: {same}")
except ImportError:
    print("(scikit-learn is not installed: skipping its SVC)")
