"""scikit-learn's side of the SVM scale benchmark (issue 26): GridSearchCV(SVC(),
C in {1, 10}, gamma = "scale", 3 stratified folds, n_jobs=2) on X.npy / y.npy, the fit
timed; prints one JSON line (seconds, best params, best CV accuracy).

    python scripts/bench/scale_sklearn.py DIR
"""
import json
import pathlib
import sys
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.svm import SVC


def main():
    folder = pathlib.Path(sys.argv[1])
    x, y = np.load(folder / "X.npy"), np.load(folder / "y.npy")
    search = GridSearchCV(
        SVC(kernel="rbf", gamma="scale"),
        {"C": [1.0, 10.0]},
        cv=StratifiedKFold(3),
        scoring="accuracy",
        n_jobs=2,
        refit=False,
    )
    start = time.perf_counter()
    search.fit(x, y)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "rows": len(y),
        "seconds": seconds,
        "best_params": search.best_params_,
        "best_cv_accuracy": search.best_score_,
        "cv_accuracy": list(search.cv_results_["mean_test_score"]),
    }))


if __name__ == "__main__":
    main()
