"""sarlab through its Python bindings against scikit-image and scikit-learn, same
process, same arrays (issue 27): the ratios are to stay within 20 % of the CLI's
(`cargo bench -p sarlab-features --bench features -- skimage-only` for HOG,
`cargo bench -p sarlab-svm --bench svm -- compare-only` for SVC.fit). Prints one JSON
object.

  hog_2x2 / hog_3x3   per-chip HOG of the features bench's 64x64 test image (the same
                      formula), 9 orientations, 8x8 cells, 2x2 / 3x3 blocks, L2-Hys:
                      sarlab.hog per call, sarlab.hog_batch per chip (1000 chips), and
                      skimage.feature.hog, best of 101 short batches each, one thread.
  gabor_12 / gabor_12_pooled / spectral_24
                      sarlab.gabor_bank (0.1, 0.2, 0.3 x 4 angles; pool 0 / 8) and
                      sarlab.spectral (24x24 block) against the features bench's
                      scikit-image / numpy peers (scripts/bench/features_skimage.py),
                      same image, same timing.
  svc_fit             SVC(C=10, gamma="scale").fit on DIR/x_fit.npy / DIR/y.npy (the
                      SVM bench's MSTAR PCA-100 features, written there when
                      SARLAB_SVM_BENCH_DIR=DIR is set for that bench), one thread
                      (RAYON_NUM_THREADS=1), best of 3: sarlab.SVC and sklearn.svm.SVC.

Usage: RAYON_NUM_THREADS=1 python scripts/bench/python_bindings.py [DIR]
"""
import json
import os
import sys
import time
import timeit

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
from skimage.feature import hog as skimage_hog  # noqa: E402

import sarlab  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from features_skimage import best_us, chip, gabor_bank, spectral  # noqa: E402


def best_seconds(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


x = chip()
out = {"sarlab": sarlab.__version__, "threads": os.environ.get("RAYON_NUM_THREADS")}
for name, blocks in (("hog_2x2", (2, 2)), ("hog_3x3", (3, 3))):
    params = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=blocks, block_norm="L2-Hys")
    assert np.array_equal(sarlab.hog(x, **params), skimage_hog(x, **params))
    stack = np.repeat(x[None], 1000, axis=0)
    ours = best_us(lambda: sarlab.hog(x, **params), 20)
    batch = min(timeit.repeat(lambda: sarlab.hog_batch(stack, **params), number=1, repeat=11)) / 1000 * 1e6
    theirs = best_us(lambda: skimage_hog(x, **params), 20)
    out[name] = {
        "sarlab_us": ours,
        "sarlab_batch_us_per_chip": batch,
        "skimage_us": theirs,
        "ratio": theirs / ours,
        "ratio_batch": theirs / batch,
    }

peers = {
    "gabor_12": (lambda: sarlab.gabor_bank(x, frequencies=[0.1, 0.2, 0.3], orientations=4),
                 lambda: gabor_bank(x, 0), 1),
    "gabor_12_pooled": (lambda: sarlab.gabor_bank(x, frequencies=[0.1, 0.2, 0.3], orientations=4, pool=8),
                        lambda: gabor_bank(x, 8), 1),
    "spectral_24": (lambda: sarlab.spectral(x, block=24), lambda: spectral(x), 20),
}
for name, (ours_fn, theirs_fn, number) in peers.items():
    assert np.allclose(ours_fn(), theirs_fn(), rtol=1e-10, atol=1e-12)
    ours, theirs = best_us(ours_fn, number), best_us(theirs_fn, number)
    out[name] = {"sarlab_us": ours, "peer_us": theirs, "ratio": theirs / ours}

if len(sys.argv) > 1:
    from sklearn.svm import SVC as SklearnSVC

    folder = sys.argv[1]
    x_fit = np.load(os.path.join(folder, "x_fit.npy"))
    y = np.load(os.path.join(folder, "y.npy"))
    ours = best_seconds(lambda: sarlab.SVC(C=10.0, gamma="scale").fit(x_fit, y), 3)
    theirs = best_seconds(lambda: SklearnSVC(C=10.0, gamma="scale").fit(x_fit, y), 3)
    a = sarlab.SVC(C=10.0).fit(x_fit, y)
    b = SklearnSVC(C=10.0).fit(x_fit, y)
    out["svc_fit"] = {
        "rows": int(x_fit.shape[0]),
        "features": int(x_fit.shape[1]),
        "sarlab_seconds": ours,
        "sklearn_seconds": theirs,
        "ratio": theirs / ours,
        "same_support": bool(np.array_equal(a.support_, b.support_)),
        "same_predictions": bool(np.array_equal(a.predict(x_fit), b.predict(x_fit))),
    }
print(json.dumps(out))
