"""scikit-learn's side of the linear-SVM comparison (issue 26): GridSearchCV over
LinearSVC(dual=True) — liblinear's dual coordinate descent — on X.npy / y.npy, timed
in this process; prints JSON.

    python scripts/bench/linear_sklearn.py DIR --C 0.1,1 --folds 3
"""
import argparse
import json
import pathlib
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.svm import LinearSVC


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    parser.add_argument("--C", default="0.1,1")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    x = np.load(args.dir / "X.npy")
    y = np.load(args.dir / "y.npy")
    grid = {"C": [float(c) for c in args.C.split(",")]}
    search = GridSearchCV(
        LinearSVC(dual=True, tol=1e-4, max_iter=1000, random_state=0),
        grid,
        cv=StratifiedKFold(args.folds, shuffle=True, random_state=0),
        scoring="accuracy",
        n_jobs=args.jobs,
    )
    start = time.perf_counter()
    search.fit(x, y)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": int(x.shape[0]),
                "best_C": search.best_params_["C"],
                "cv_accuracy": [float(v) for v in search.cv_results_["mean_test_score"]],
            }
        )
    )


if __name__ == "__main__":
    main()
