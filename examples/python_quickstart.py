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
# DataFrame, and then redoes the HOG arm by hand with numpy arrays — sarlab's HOG and
# SVC next to scikit-image's and scikit-learn's on the same arrays.

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

    with open(SPEC, "rb") as f:
        settings = tomllib.load(f)
except ImportError:  # Python < 3.11: the quickstart's values
    settings = {"name": "quickstart", "dataset": {"path": "datasets/synthetic"}, "preprocess": {"crop": 56}}
NAME, DATA = settings["name"], settings["dataset"]["path"]
CROP = settings["preprocess"]["crop"]
CROP = CROP[0] if isinstance(CROP, list) else CROP

outcome = sarlab.run(SPEC, db="quickstart.db")
print(f"{outcome['ran']} configurations run, {outcome['skipped']} already in the database")
print("report:", outcome["report"])

# %% The runs as a DataFrame: each method's best cross-validated configuration.
runs = sarlab.runs("quickstart.db", experiment=NAME)
cv = runs[runs["params.stage"] == "cv"]
best = (
    cv.sort_values("metrics.f1_macro", ascending=False)
    .groupby("params.feature", sort=False)
    .head(1)[["params.feature", "params.C", "metrics.f1_macro", "metrics.accuracy"]]
)
print(best.to_string(index=False))
tests = runs[runs["params.stage"] == "test"]
print(tests[["name", "metrics.accuracy", "metrics.f1_macro"]].to_string(index=False))

# %% The HOG arm by hand: chips read as PIL reads them, centre-cropped as the study crops
# (linear intensity here; the study converts to dB first, so its numbers differ a little).
def chips(split):
    paths = sorted(glob.glob(f"{DATA}/{split}/*/*.png"))
    images = np.stack([sarlab.read_chip(p)[0] for p in paths])
    labels = np.array([p.split("/")[-2] for p in paths])
    margin = (images.shape[1] - CROP) // 2
    return images[:, margin : margin + CROP, margin : margin + CROP], labels


train_images, y_train = chips("train")
test_images, y_test = chips("test")
hog = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys")

start = time.perf_counter()
x_train = sarlab.hog_batch(train_images, **hog)
x_test = sarlab.hog_batch(test_images, **hog)
sarlab_hog_seconds = time.perf_counter() - start
print(f"sarlab HOG: {x_train.shape[0] + x_test.shape[0]} chips in {sarlab_hog_seconds:.3f} s")

try:
    from skimage.feature import hog as skimage_hog

    start = time.perf_counter()
    reference = np.stack([skimage_hog(image, **hog) for image in train_images])
    skimage_seconds = time.perf_counter() - start
    print(
        f"scikit-image HOG of the training chips: {skimage_seconds:.3f} s; "
        f"identical: {np.array_equal(reference, x_train)}"
    )
except ImportError:
    print("(scikit-image is not installed: skipping its HOG)")

# %% A grid search on the HOG features (sarlab's folds), then a refit scored on test.
table = sarlab.grid_search(x_train, y_train, C=[1, 10, 100], gamma=["scale"], folds=5, seed=7)
print(table[["C", "gamma", "mean_f1_macro", "std_f1_macro", "fit_seconds"]])
best_c = float(table.sort_values("mean_f1_macro", ascending=False).iloc[0]["C"])
model = sarlab.SVC(C=best_c).fit(x_train, y_train)
print(f"sarlab SVC(C={best_c:g}) test accuracy: {np.mean(model.predict(x_test) == y_test):.4f}")

try:
    from sklearn.svm import SVC

    theirs = SVC(C=best_c).fit(x_train, y_train)
    same = np.array_equal(theirs.predict(x_test), model.predict(x_test))
    print(f"scikit-learn SVC predicts the same labels: {same}")
except ImportError:
    print("(scikit-learn is not installed: skipping its SVC)")
