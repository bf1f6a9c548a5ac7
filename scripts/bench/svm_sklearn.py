"""scikit-learn's side of crates/sarlab-svm/benches/svm.rs, on the files the Rust bench
writes (the same MSTAR features, labels and folds). Prints one JSON object.

  fit   one 10-class RBF SVC(C=10, gamma="scale").fit on x_fit.npy (MSTAR SOC train,
        2746 rows: 64x64 centre crops, standardised, PCA to 100), single thread,
        best of 3; with the number of support vectors and the training accuracy.
  grid  GridSearchCV(Pipeline(StandardScaler, PCA(100), SVC(rbf)),
        C in {1, 10, 100} x gamma in {scale, 0.001, 0.01}, n_jobs=2) on x_hog.npy
        (HOG 9/(8,8)/(2,2) L2-Hys of the same crops, 1764 values) with the folds in
        folds.npy (PredefinedSplit: sarlab's stratified 5-fold assignment, so both sides
        score the same folds); scored by macro-F1 (refit) and accuracy; wall-clock time
        of the whole search including the refit and the prediction of x_hog_test.npy
        (the test split's HOG), whose accuracy is reported.

Usage: python scripts/bench/svm_sklearn.py DIR
"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.model_selection import GridSearchCV, PredefinedSplit  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

d = sys.argv[1]
x_fit = np.load(os.path.join(d, "x_fit.npy"))
x_hog = np.load(os.path.join(d, "x_hog.npy"))
y = np.load(os.path.join(d, "y.npy"))
folds = np.load(os.path.join(d, "folds.npy"))
x_test = np.load(os.path.join(d, "x_hog_test.npy"))
y_test = np.load(os.path.join(d, "y_test.npy"))

fit_times = []
for _ in range(3):
    model = SVC(kernel="rbf", C=10.0, gamma="scale")
    start = time.perf_counter()
    model.fit(x_fit, y)
    fit_times.append(time.perf_counter() - start)

grid = GridSearchCV(
    Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=100, random_state=0)),
              ("svc", SVC(kernel="rbf"))]),
    {"svc__C": [1.0, 10.0, 100.0], "svc__gamma": ["scale", 0.001, 0.01]},
    scoring={"f1_macro": "f1_macro", "accuracy": "accuracy"},
    refit="f1_macro",
    cv=PredefinedSplit(folds),
    n_jobs=2,
)
start = time.perf_counter()
grid.fit(x_hog, y)
predicted = grid.predict(x_test)
grid_seconds = time.perf_counter() - start
r = grid.cv_results_
configs = [
    {
        "C": p["svc__C"],
        "gamma": p["svc__gamma"],
        "f1_macro": float(r["mean_test_f1_macro"][i]),
        "accuracy": float(r["mean_test_accuracy"][i]),
    }
    for i, p in enumerate(r["params"])
]
best = grid.best_index_
json.dump(
    {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "fit_seconds": min(fit_times),
        "fit_support_vectors": int(model.n_support_.sum()),
        "fit_train_accuracy": float(model.score(x_fit, y)),
        "grid_seconds": grid_seconds,
        "grid_configs": configs,
        "grid_best": configs[best],
        "grid_test_accuracy": float((predicted == y_test).mean()),
    },
    sys.stdout,
)
print()
