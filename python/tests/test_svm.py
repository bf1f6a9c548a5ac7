"""sarlab.SVC against sklearn.svm.SVC on the same arrays: the same support vectors and
predictions, decision values to rounding; scikit-learn's tooling accepts it."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC as SklearnSVC

import sarlab


def data(classes=3, n=240, features=8, seed=0):
    x, y = make_classification(
        n_samples=n,
        n_features=features,
        n_informative=5,
        n_redundant=1,
        n_classes=classes,
        n_clusters_per_class=1,
        class_sep=0.8,
        random_state=seed,
    )
    return x, y


PARAMS = [
    {},
    {"C": 10.0, "gamma": 0.05},
    {"kernel": "linear", "C": 0.5},
    {"kernel": "poly", "degree": 2, "coef0": 1.0, "gamma": "auto"},
    {"kernel": "sigmoid", "gamma": 0.01, "coef0": 0.0},
    {"C": 3.0, "class_weight": "balanced"},
    {"C": 2.0, "shrinking": False, "tol": 1e-4},
]


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("classes", [2, 4])
def test_svc_is_sklearns(params, classes):
    x, y = data(classes, seed=classes)
    labels = np.array(["tank", "truck", "bmp", "zsu"])[y]
    train, test = slice(0, 180), slice(180, None)
    ours = sarlab.SVC(**params).fit(x[train], labels[train])
    theirs = SklearnSVC(**params).fit(x[train], labels[train])
    assert np.array_equal(ours.classes_, theirs.classes_)
    assert np.array_equal(ours.support_, theirs.support_)
    assert np.array_equal(ours.n_support_, theirs.n_support_)
    assert np.allclose(ours.support_vectors_, theirs.support_vectors_, rtol=0, atol=0)
    assert np.array_equal(ours.predict(x[test]), theirs.predict(x[test]))
    for shape in ("ovr", "ovo"):
        ours.set_params(decision_function_shape=shape)
        theirs.set_params(decision_function_shape=shape)
        a, b = ours.decision_function(x[test]), theirs.decision_function(x[test])
        assert a.shape == b.shape
        assert np.abs(a - b).max() <= 1e-6 * max(1.0, np.abs(b).max())
    sign = -1.0 if classes == 2 else 1.0
    assert np.allclose(sign * ours.intercept_, theirs.intercept_, rtol=0, atol=1e-6)
    assert ours.score(x[test], labels[test]) == theirs.score(x[test], labels[test])


def test_clone_pipeline_and_grid_search_cv_accept_it():
    x, y = data(3, n=150)
    estimator = sarlab.SVC(C=2.0)
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params() and copy is not estimator
    folds = list(StratifiedKFold(3).split(x, y))
    grid = {"C": [0.5, 5.0], "gamma": ["scale", 0.1]}
    ours = GridSearchCV(sarlab.SVC(), grid, cv=folds).fit(x, y)
    theirs = GridSearchCV(SklearnSVC(), grid, cv=folds).fit(x, y)
    assert np.array_equal(
        ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"]
    )
    assert ours.best_params_ == theirs.best_params_
    pipe = make_pipeline(StandardScaler(), sarlab.SVC()).fit(x, y)
    reference = make_pipeline(StandardScaler(), SklearnSVC()).fit(x, y)
    assert np.array_equal(pipe.predict(x), reference.predict(x))


def test_a_pickled_model_decides_the_same_bits():
    x, y = data(4, n=200)
    model = sarlab.SVC(C=5.0).fit(x, y)
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict(x), model.predict(x))
    assert np.array_equal(again.decision_function(x), model.decision_function(x))
    assert np.array_equal(again.support_, model.support_)


def test_a_bounded_kernel_memory_gives_the_same_model():
    # 1,200 rows: the whole kernel (5.8 MB) fits neither budget; 8 MB holds a pair
    # machine's kernel per thread (computed whole), 1 MB only cached rows.
    x, y = data(3, n=1200)
    whole = sarlab.SVC(C=4.0).fit(x, y)
    for budget in ("8MB", "1MB"):
        cached = sarlab.SVC(C=4.0, memory_budget=budget).fit(x, y)
        assert np.array_equal(whole.support_, cached.support_), budget
        assert np.array_equal(whole.decision_function(x), cached.decision_function(x)), budget
    with pytest.raises(ValueError, match="memory_budget"):
        sarlab.SVC(memory_budget="64KB").fit(x, y)


def test_bad_input_raises_sarlabs_messages():
    x, y = data(2, n=40)
    with pytest.raises(ValueError, match="gamma"):
        sarlab.SVC(gamma=-1.0).fit(x, y)
    with pytest.raises(ValueError, match="kernel"):
        sarlab.SVC(kernel="laplace").fit(x, y)
    with pytest.raises(ValueError, match="C"):
        sarlab.SVC(C=0.0).fit(x, y)
    bad = x.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN|finite"):
        sarlab.SVC().fit(bad, y)
    with pytest.raises(ValueError, match="greater than one"):
        sarlab.SVC().fit(x, np.zeros(len(y)))
    fitted = sarlab.SVC().fit(x, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(x[:, :3])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        sarlab.SVC().predict(x)


def test_grid_search_scores_what_sklearn_scores_on_the_same_folds():
    x, y = data(3, n=210, seed=5)
    folds = sarlab.stratified_folds(y, folds=4, seed=11)
    assert len(folds) == 4
    assert sorted(np.concatenate([v for _, v in folds]).tolist()) == list(range(len(y)))
    table = sarlab.grid_search(x, y, C=[1.0, 10.0], gamma=["scale", 0.05], folds=4, seed=11, frame="pandas")
    assert list(table["C"]) == [1.0, 1.0, 10.0, 10.0]
    assert list(table["gamma"]) == ["scale", 0.05, "scale", 0.05]
    cv = [(t, v) for t, v in folds]
    reference = GridSearchCV(
        SklearnSVC(), {"C": [1.0, 10.0], "gamma": ["scale", 0.05]}, cv=cv,
        scoring={"accuracy": "accuracy", "f1_macro": "f1_macro"}, refit=False,
    ).fit(x, y)
    # scikit-learn orders its grid C-major too.
    assert np.allclose(table["mean_accuracy"], reference.cv_results_["mean_test_accuracy"], rtol=0, atol=1e-12)
    assert np.allclose(table["std_accuracy"], reference.cv_results_["std_test_accuracy"], rtol=0, atol=1e-12)
    assert np.allclose(table["mean_f1_macro"], reference.cv_results_["mean_test_f1_macro"], rtol=0, atol=1e-12)
    polars = sarlab.grid_search(x, y, C=[1.0], folds=4, seed=11, frame="polars")
    assert polars["mean_accuracy"].dtype.is_float()
    assert polars.height == 1
    assert polars["mean_accuracy"][0] == table["mean_accuracy"][0]
    rows = sarlab.grid_search(x, y, C=[1.0], folds=4, seed=11, frame=None)
    assert isinstance(rows, list) and rows[0]["mean_accuracy"] == table["mean_accuracy"][0]


def test_grid_search_metrics_equal_sklearn_metrics_on_a_refit():
    x, y = data(4, n=200, seed=2)
    model = sarlab.SVC(C=3.0).fit(x[:150], y[:150])
    predicted = model.predict(x[150:])
    reference = SklearnSVC(C=3.0).fit(x[:150], y[:150]).predict(x[150:])
    assert accuracy_score(y[150:], predicted) == accuracy_score(y[150:], reference)
    assert f1_score(y[150:], predicted, average="macro") == f1_score(y[150:], reference, average="macro")
