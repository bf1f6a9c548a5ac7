"""scikit-learn's estimator checks on sarlab.SVC and sarlab.PCA: every check runs and
passes. (The sample-weight checks return at once, as neither fit takes sample_weight;
scikit-learn itself skips its array-API check unless SCIPY_ARRAY_API is set.)"""

from sklearn.utils.estimator_checks import parametrize_with_checks

import sarlab


@parametrize_with_checks([sarlab.SVC(), sarlab.PCA()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
