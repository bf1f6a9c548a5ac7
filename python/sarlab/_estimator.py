"""scikit-learn's estimator protocol for sarlab's estimators: scikit-learn's own base
classes and input checks when it is installed, minimal stand-ins otherwise."""

import inspect

import numpy as np

from sarlab._arrays import float_rows

try:  # scikit-learn is optional: with it, sarlab's estimators are full scikit-learn ones.
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import ClassifierMixin as _Classifier
except ImportError:  # pragma: no cover - exercised only without scikit-learn

    class _Base:
        """``get_params`` / ``set_params`` as scikit-learn's ``BaseEstimator`` has them."""

        @classmethod
        def _get_param_names(cls):
            signature = inspect.signature(cls.__init__)
            return sorted(p for p in signature.parameters if p != "self")

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"Invalid parameter {key!r} for estimator {self!r}")
                setattr(self, key, value)
            return self

    class _Classifier:
        _estimator_type = "classifier"

        def score(self, X, y):
            return float(np.mean(self.predict(X) == np.asarray(y)))


try:  # with scikit-learn, its input checks (and their messages) are the estimator's.
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted

    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # scikit-learn < 1.6

        def validate_data(estimator, *args, **kwargs):
            return estimator._validate_data(*args, **kwargs)

    _SKLEARN = True
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _SKLEARN = False
    check_classification_targets = check_is_fitted = validate_data = None

try:
    from sklearn.base import TransformerMixin as _Transformer
except ImportError:  # pragma: no cover - exercised only without scikit-learn

    class _Transformer:
        def fit_transform(self, X, y=None, **fit_params):
            return self.fit(X, y, **fit_params).transform(X)




def fitted_input(estimator, X, fitted_attribute):
    """``X`` as float64 samples × features, checked against what ``estimator`` (fitted
    when it has ``fitted_attribute``) was fitted on."""
    if _SKLEARN:
        check_is_fitted(estimator, fitted_attribute)
        return validate_data(estimator, X, dtype=np.float64, reset=False)
    if not hasattr(estimator, fitted_attribute):
        raise AttributeError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' first."
        )
    X = float_rows(X)
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input"
        )
    return X
