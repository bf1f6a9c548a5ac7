"""sarlab.PCA against sklearn.decomposition.PCA on the same arrays: HOG features of
chips read from files (more features than samples: scikit-learn's "full" SVD) and tall
matrices (its "covariance_eigh"); the randomized solver against the exact axes."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

import sarlab
from conftest import write_chips


def hog_features(tmp_path, n=40, size=48):
    paths = write_chips(tmp_path, [(size, size)] * n, seed=21, suffix=".jpg")
    return sarlab.hog_batch(np.stack([sarlab.read_chip(p)[0] for p in paths]),
                            pixels_per_cell=(8, 8), cells_per_block=(2, 2))


def tall(n=600, d=30, seed=1):
    rng = np.random.default_rng(seed)
    scales = np.geomspace(10, 0.1, d)
    return rng.standard_normal((n, d)) * scales @ np.linalg.qr(rng.standard_normal((d, d)))[0] + 3.0


def assert_same_fit(ours, theirs, tolerance=1e-9):
    assert ours.n_components_ == theirs.n_components_
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=0, atol=1e-13)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=tolerance)
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=tolerance)
    np.testing.assert_allclose(ours.singular_values_, theirs.singular_values_, rtol=tolerance)
    np.testing.assert_allclose(ours.noise_variance_, theirs.noise_variance_, rtol=1e-8, atol=1e-14)
    # Each component to rounding, signs by scikit-learn's convention.
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=0, atol=1e-7)


@pytest.mark.parametrize("n_components", [5, 20, None, 0.9])
@pytest.mark.parametrize("whiten", [False, True])
def test_exact_pca_of_hog_features_is_scikit_learn_s(tmp_path, n_components, whiten):
    x = hog_features(tmp_path)  # 40 chips × 900 features: scikit-learn's full SVD
    ours = sarlab.PCA(n_components, whiten=whiten, svd_solver="full").fit(x)
    theirs = SklearnPCA(n_components, whiten=whiten, svd_solver="full").fit(x)
    if n_components is None:
        # Beyond the rank (n − 1) the variances are rounding noise on both sides.
        k = x.shape[0] - 1
        np.testing.assert_allclose(ours.explained_variance_[:k], theirs.explained_variance_[:k], rtol=1e-9)
        np.testing.assert_allclose(ours.components_[:k], theirs.components_[:k], atol=1e-7)
        return
    assert_same_fit(ours, theirs)
    held_out = hog_features(tmp_path / "more", n=7)
    np.testing.assert_allclose(ours.transform(held_out), theirs.transform(held_out), rtol=0, atol=1e-7)
    np.testing.assert_allclose(sarlab.pca(x, n_components, whiten=whiten, svd_solver="full"),
                               theirs.transform(x), rtol=0, atol=1e-7)
    scores = ours.transform(held_out)
    np.testing.assert_allclose(ours.inverse_transform(scores), theirs.inverse_transform(scores), atol=1e-9)


@pytest.mark.parametrize("solver", ["auto", "covariance_eigh", "full"])
def test_tall_matrices_match_every_exact_solver(solver):
    x = tall()
    ours = sarlab.PCA(8, svd_solver=solver).fit(x)
    theirs = SklearnPCA(8, svd_solver=solver).fit(x)
    assert_same_fit(ours, theirs)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=0, atol=1e-8)


def test_the_randomized_solver_finds_the_leading_axes():
    # 700 × 800 with a decaying spectrum: "auto" picks the randomized solver, as
    # scikit-learn's does; its sketch is drawn from sarlab's generator.
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((700, 40)) * np.geomspace(50, 1, 40)) @ rng.standard_normal((40, 800))
    x += 0.01 * rng.standard_normal(x.shape)
    ours = sarlab.PCA(10, random_state=3).fit(x)
    assert ours._svd_solver == "randomized"
    exact = SklearnPCA(10, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.explained_variance_, exact.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(np.sum(ours.components_ * exact.components_, axis=1)), 1, atol=1e-8)
    again = sarlab.PCA(10, random_state=3).fit(x)
    assert np.array_equal(again.components_, ours.components_)


def test_pca_is_a_scikit_learn_transformer(tmp_path):
    x = hog_features(tmp_path)
    y = np.repeat(np.arange(4), 10)
    model = sarlab.PCA(12, whiten=True).fit(x)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "components_")
    restored = pickle.loads(pickle.dumps(model))
    assert np.array_equal(restored.transform(x), model.transform(x))
    pipeline = Pipeline([("pca", sarlab.PCA()), ("svc", sarlab.SVC())])
    search = GridSearchCV(pipeline, {"pca__n_components": [5, 10], "svc__C": [1, 10]},
                          cv=StratifiedKFold(3))
    search.fit(x, y)
    assert search.best_params_["pca__n_components"] in (5, 10)


def test_bad_pca_requests_are_named():
    x = tall(50, 6)
    with pytest.raises(ValueError, match="n_components=7"):
        sarlab.PCA(7).fit(x)
    with pytest.raises(ValueError, match="n_components"):
        sarlab.PCA("mle").fit(x)
    with pytest.raises(ValueError, match="ARPACK"):
        sarlab.PCA(2, svd_solver="arpack").fit(x)
    bad = x.copy()
    bad[3, 2] = np.inf
    with pytest.raises(ValueError):
        sarlab.PCA(2).fit(bad)
    fitted = sarlab.PCA(2).fit(x)
    with pytest.raises(ValueError, match="6 features"):
        fitted.transform(x[:, :5])
