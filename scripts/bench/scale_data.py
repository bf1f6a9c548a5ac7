"""Features for the SVM scale benchmark (issue 26): `rows` samples of 100 features in
10 classes, scikit-learn's make_classification (20 informative directions, one cluster
per class, 3 % label noise), standardised; written as X.npy (float64) and y.npy (int64).

    python scripts/bench/scale_data.py ROWS OUT_DIR [--seed S]
"""
import argparse
import pathlib

import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args()
    x, y = make_classification(
        n_samples=args.rows,
        n_features=100,
        n_informative=20,
        n_redundant=10,
        n_classes=10,
        n_clusters_per_class=1,
        flip_y=0.03,
        class_sep=1.0,
        random_state=args.seed,
    )
    x = StandardScaler().fit_transform(x)
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "X.npy", x.astype(np.float64))
    np.save(args.out / "y.npy", y.astype(np.int64))


if __name__ == "__main__":
    main()
