"""libsvm's C-SVC behind scikit-learn's estimator protocol, and grid search."""

import numpy as np

from sarlab import _sarlab
from sarlab._arrays import float_rows
from sarlab._estimator import (
    _SKLEARN,
    _Base,
    _Classifier,
    check_classification_targets,
    fitted_input,
    validate_data,
)
from sarlab._frames import table


def _fit_input(estimator, X, y):
    """``X`` as float64 samples × features and ``y`` as 1-D labels, checked."""
    if _SKLEARN:
        X, y = validate_data(estimator, X, y, dtype=np.float64, y_numeric=False)
        check_classification_targets(y)
        return X, y
    X = float_rows(X)
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y: expected a 1-D array of labels, got shape {y.shape}")
    if len(y) != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows and y {len(y)} labels")
    estimator.n_features_in_ = X.shape[1]
    return X, y


def _predict_input(estimator, X):
    """``X`` checked against what ``estimator`` was fitted on."""
    return fitted_input(estimator, X, "_native")


def _ovr_from_ovo(ovo, n_classes):
    """scikit-learn's one-vs-rest decision values from one-vs-one ones (its
    ``_ovr_decision_function(ovo < 0, -ovo, n_classes)``): votes plus confidences
    squashed below one third."""
    predictions = ovo < 0
    confidences = -ovo
    n_samples = ovo.shape[0]
    votes = np.zeros((n_samples, n_classes))
    sum_of_confidences = np.zeros((n_samples, n_classes))
    k = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            sum_of_confidences[:, i] -= confidences[:, k]
            sum_of_confidences[:, j] += confidences[:, k]
            votes[predictions[:, k] == 0, i] += 1
            votes[predictions[:, k] == 1, j] += 1
            k += 1
    transformed = sum_of_confidences / (3 * (np.abs(sum_of_confidences) + 1))
    return votes + transformed


class SVC(_Classifier, _Base):
    """C-support vector classification, libsvm's solver step for step (the same support
    vectors and predictions as ``sklearn.svm.SVC``), one-vs-one for several classes.

    The parameters are ``sklearn.svm.SVC``'s (``kernel`` is one of ``"linear"``,
    ``"poly"``, ``"rbf"``, ``"sigmoid"``; ``class_weight`` is ``None``,
    ``"balanced"`` or a dict of class → weight); ``memory_budget`` (``"60%"``, ``"4GB"``) bounds the kernel memory
    as ``sarlab svm grid --memory-budget`` does (the same answers either way).
    """

    def __init__(
        self,
        C=1.0,
        kernel="rbf",
        degree=3,
        gamma="scale",
        coef0=0.0,
        shrinking=True,
        tol=1e-3,
        class_weight=None,
        max_iter=-1,
        decision_function_shape="ovr",
        break_ties=False,
        memory_budget=None,
    ):
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.shrinking = shrinking
        self.tol = tol
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.memory_budget = memory_budget

    def fit(self, X, y):
        if self.break_ties:
            raise ValueError("break_ties: sarlab's SVC votes as libsvm does (break_ties=False)")
        if self.decision_function_shape not in ("ovr", "ovo"):
            raise ValueError(
                f'decision_function_shape: expected "ovr" or "ovo", '
                f"got {self.decision_function_shape!r}"
            )
        X, y = _fit_input(self, X, y)
        classes, indices = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"The number of classes has to be greater than one; got {len(classes)} class"
            )
        gamma = self.gamma if isinstance(self.gamma, str) else float(self.gamma)
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            unknown = set(class_weight) - set(classes.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight: {sorted(unknown, key=str)} are not classes of y "
                    f"({classes.tolist()})"
                )
            class_weight = [float(class_weight.get(c, 1.0)) for c in classes.tolist()]
        self._native = _sarlab.svc_fit(
            X,
            indices.astype(np.int64).ravel(),
            len(classes),
            kernel=str(self.kernel),
            c=float(self.C),
            gamma=gamma,
            degree=int(self.degree),
            coef0=float(self.coef0),
            tol=float(self.tol),
            shrinking=bool(self.shrinking),
            class_weight=class_weight,
            max_iter=int(self.max_iter),
            memory_budget=self.memory_budget,
        )
        self.classes_ = classes
        # scikit-learn's layout: support vectors grouped by class, ascending within one.
        support = self._native.support
        order = np.lexsort((support, indices.ravel()[support]))
        self.support_ = support[order].astype(np.int32)
        self.support_vectors_ = self._native.support_vectors[order]
        self.n_support_ = np.bincount(
            indices.ravel()[support], minlength=len(classes)
        ).astype(np.int32)
        self.intercept_ = self._native.intercept
        self.n_iter_ = np.asarray(self._native.iterations, dtype=np.int32)
        self._gamma = self._native.gamma_value
        self.fit_status_ = 0
        return self

    def decision_function(self, X):
        """scikit-learn's decision values: for two classes one column, positive for
        ``classes_[1]``; otherwise one-vs-one values (``"ovo"``) or the one-vs-rest
        transform of them (``"ovr"``, the default)."""
        X = _predict_input(self, X)
        ovo = self._native.decision_function(X)
        n_classes = len(self.classes_)
        if n_classes == 2:
            return -ovo[:, 0]
        if self.decision_function_shape == "ovr":
            return _ovr_from_ovo(ovo, n_classes)
        return ovo

    def predict(self, X):
        """Class labels by libsvm's one-vs-one vote."""
        X = _predict_input(self, X)
        return self.classes_[self._native.predict(X)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def __getstate__(self):
        state = self.__dict__.copy()
        if "_native" in state:
            state["_native"] = state["_native"].state()
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "_native" in state:
            state["_native"] = _sarlab.NativeSvc.from_state(state["_native"])
        self.__dict__.update(state)


def stratified_folds(y, folds=5, seed=0):
    """The ``(train, validation)`` index arrays of sarlab's seeded stratified k-fold —
    the splits :func:`grid_search` and studies score — for scikit-learn's ``cv=``."""
    y = np.asarray(y).ravel()
    classes, indices = np.unique(y, return_inverse=True)
    return _sarlab.stratified_folds(
        indices.astype(np.int64).ravel(), len(classes), folds=int(folds), seed=int(seed)
    )


def grid_search(
    X,
    y,
    C=(1.0,),
    gamma=("scale",),
    kernel=("rbf",),
    degree=(3,),
    coef0=(0.0,),
    folds=5,
    seed=0,
    tol=1e-3,
    class_weight=None,
    standardize=False,
    memory_budget=None,
    frame="auto",
):
    """Stratified k-fold cross-validation of every point of the grid (``sarlab svm
    grid``'s engine: kernels shared by every C and fold), one row per point in grid
    order (kernel, C, γ, degree, coef0) with ``mean_<metric>`` / ``std_<metric>`` for
    every metric, ``fit_seconds``, ``support_vectors`` and ``gamma_value`` — as a
    pandas or polars DataFrame (see ``frame``)."""
    X = float_rows(X)
    y = np.asarray(y).ravel()
    classes, indices = np.unique(y, return_inverse=True)
    as_list = lambda v: [v] if isinstance(v, (str, int, float)) else list(v)
    rows = _sarlab.grid_search(
        X,
        indices.astype(np.int64).ravel(),
        len(classes),
        [str(k) for k in as_list(kernel)],
        [float(c) for c in as_list(C)],
        [g if isinstance(g, str) else float(g) for g in as_list(gamma)],
        [int(d) for d in as_list(degree)],
        [float(c) for c in as_list(coef0)],
        folds=int(folds),
        seed=int(seed),
        tol=float(tol),
        class_weight=class_weight,
        standardize=bool(standardize),
        memory_budget=memory_budget,
    )
    return table(rows, frame)
