"""PCA behind scikit-learn's transformer protocol: the study engine's exact (and
randomized) principal component analysis."""

import numbers

import numpy as np

from sarlab import _sarlab
from sarlab._arrays import float_rows
from sarlab._estimator import (
    _SKLEARN,
    _Base,
    _Transformer,
    check_is_fitted,
    fitted_input,
    validate_data,
)


def _solver_for(svd_solver, n_samples, n_features, n_components):
    """scikit-learn's ``svd_solver="auto"`` choice (1.5+), and sarlab's solver for it."""
    if svd_solver == "auto":
        if n_features <= 1_000 and n_samples >= 10 * n_features:
            svd_solver = "covariance_eigh"
        elif max(n_samples, n_features) <= 500:
            svd_solver = "full"
        elif 1 <= n_components < 0.8 * min(n_samples, n_features):
            svd_solver = "randomized"
        else:
            svd_solver = "full"
    if svd_solver in ("full", "covariance_eigh"):
        return svd_solver, "exact"
    if svd_solver == "randomized":
        return svd_solver, "randomized"
    raise ValueError(
        f'svd_solver: expected "auto", "full", "covariance_eigh" or "randomized", got '
        f"{svd_solver!r} (sarlab has no ARPACK solver)"
    )


def _seed_of(random_state):
    """A seed from ``random_state``: ``None`` is 0 (sarlab is reproducible by default),
    an int is itself, a numpy ``RandomState`` or ``Generator`` gives one draw."""
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"random_state: expected a non-negative seed, got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    raise ValueError(f"random_state: expected None, an int or a numpy random state, got {random_state!r}")


class PCA(_Transformer, _Base):
    """Principal component analysis with ``sklearn.decomposition.PCA``'s parameters,
    attributes and results: the exact solvers (``"full"``, ``"covariance_eigh"``) give
    scikit-learn's components (its sign convention), variances and projections to
    rounding; ``svd_solver="auto"`` chooses as scikit-learn 1.5+ does. The
    ``"randomized"`` solver has scikit-learn's settings but draws its sketch from
    sarlab's seeded generator, so its results agree with scikit-learn's to the
    accuracy of the method, not bit for bit; ``random_state=None`` is seed 0.

    ``n_components``: ``None`` (all), an int, or a float in (0, 1) — the fewest
    components whose explained variance ratios sum above it (exact solvers). ``"mle"``
    and ARPACK are not available.
    """

    def __init__(self, n_components=None, whiten=False, svd_solver="auto", random_state=None):
        self.n_components = n_components
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.random_state = random_state

    def _validated(self, X, reset):
        if not reset:
            return fitted_input(self, X, "components_")
        if _SKLEARN:
            return validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        X = float_rows(X)
        self.n_features_in_ = X.shape[1]
        return X

    def fit(self, X, y=None):
        """Fits the principal axes to the rows of ``X``."""
        X = self._validated(X, reset=True)
        n_samples, n_features = X.shape
        limit = min(n_samples, n_features)
        requested = self.n_components
        if requested is None:
            requested = limit
        if isinstance(requested, str) or isinstance(requested, bool):
            raise ValueError(
                f"n_components: expected None, an int or a float in (0, 1), got {requested!r}"
            )
        fraction = None
        if isinstance(requested, numbers.Integral):
            if not 1 <= requested <= limit:
                raise ValueError(
                    f"n_components={requested} must be between 1 and min(n_samples, "
                    f"n_features)={limit}"
                )
            count = int(requested)
        elif isinstance(requested, numbers.Real) and 0 < requested < 1:
            fraction, count = float(requested), limit
        else:
            raise ValueError(
                f"n_components: expected None, an int or a float in (0, 1), got {requested!r}"
            )
        solver_name, solver = _solver_for(self.svd_solver, n_samples, n_features, requested)
        if fraction is not None and solver != "exact":
            raise ValueError("n_components as a fraction of the variance needs an exact solver")
        fitted = _sarlab.pca_fit(X, count, bool(self.whiten), solver, _seed_of(self.random_state))
        variance = fitted["explained_variance"]
        ratio = fitted["explained_variance_ratio"]
        total = variance.sum() / ratio.sum() if ratio.sum() > 0 else 0.0
        if fraction is not None:
            count = min(int(np.searchsorted(np.cumsum(ratio), fraction, side="right")) + 1, limit)
        self.mean_ = fitted["mean"]
        self.components_ = np.ascontiguousarray(fitted["components"][:count])
        self.explained_variance_ = variance[:count].copy()
        self.explained_variance_ratio_ = ratio[:count].copy()
        self.singular_values_ = np.sqrt(self.explained_variance_ * (n_samples - 1))
        self.n_components_ = count
        self.n_samples_ = n_samples
        if count < limit:
            self.noise_variance_ = float(
                (total - self.explained_variance_.sum()) / (limit - count)
            )
        else:
            self.noise_variance_ = 0.0
        self._svd_solver = solver_name
        return self

    def transform(self, X):
        """The rows of ``X`` projected on the components (whitened if asked)."""
        X = self._validated(X, reset=False)
        return _sarlab.pca_transform(
            X, self.mean_, self.components_, self.explained_variance_, bool(self.whiten)
        )

    def inverse_transform(self, X):
        """Rows in the original space whose projections are ``X``."""
        if _SKLEARN:
            check_is_fitted(self, "components_")
        X = float_rows(X)
        components = self.components_
        if self.whiten:
            components = np.sqrt(self.explained_variance_)[:, np.newaxis] * components
        return X @ components + self.mean_


def pca(X, n_components=None, whiten=False, svd_solver="auto", random_state=None):
    """``PCA(n_components, …).fit_transform(X)``: the rows of ``X`` projected on their
    principal axes (use :class:`PCA` to keep the fitted axes)."""
    return PCA(n_components, whiten=whiten, svd_solver=svd_solver,
               random_state=random_state).fit_transform(X)
