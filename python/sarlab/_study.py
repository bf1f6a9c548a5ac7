"""Studies from Python: run a spec, read its runs as a DataFrame, load saved models."""

import os

import numpy as np

from sarlab import _sarlab


def run(spec, db="sarlab.db", data=None, reports="reports", models="models", force=False,
        memory_budget=None, allow_large=False):
    """Runs a study as ``sarlab run`` does: ``spec`` is the path of a TOML spec or a dict
    of the same keys (``{"name": ..., "dataset": {...}, "features": [...], "svm":
    {...}}``); every configuration is recorded in ``db``, each method's best one is
    refitted and tested, the report goes to ``reports/<name>/`` and the models to
    ``models/<name>/``. Returns a dict: ``run``, ``ran``, ``skipped``, ``by_others``,
    ``report`` (the report's ``index.html``)."""
    if not isinstance(spec, dict):
        spec = os.fspath(spec)
    return _sarlab.run_study(
        spec, os.fspath(db), None if data is None else os.fspath(data), os.fspath(reports),
        os.fspath(models), bool(force), memory_budget, bool(allow_large),
    )


def runs(db="sarlab.db", filter=None, experiment=None, frame="auto"):
    """The runs of ``db`` as a DataFrame, one row per run, like MLflow's
    ``search_runs``: ``uuid``, ``experiment``, ``name``, ``status``, ``start_time`` and
    ``end_time`` (UTC datetimes), ``parent``, ``config_hash``, then ``params.*``,
    ``metrics.*`` and ``tags.*`` — integer, float or string columns as the values are.
    ``filter`` is ``sarlab runs list --filter``'s language, e.g. ``"metrics.f1_macro >
    0.9 and params.kernel = 'rbf'"``. ``frame``: ``"pandas"``, ``"polars"`` or
    ``"auto"`` (pandas if installed, else polars)."""
    columns, kinds, values = _sarlab.runs_table(os.fspath(db), filter, experiment)
    if frame not in ("auto", "pandas", "polars"):
        raise ValueError(f'frame: expected "auto", "pandas" or "polars", got {frame!r}')
    renamed = [{"start_ms": "start_time", "end_ms": "end_time"}.get(c, c) for c in columns]
    use_pandas = frame == "pandas"
    if frame == "auto":
        try:
            import pandas  # noqa: F401

            use_pandas = True
        except ImportError:
            use_pandas = False
    if use_pandas:
        import pandas as pd

        data = {}
        for name, original, kind, column in zip(renamed, columns, kinds, values):
            if original in ("start_ms", "end_ms"):
                data[name] = pd.to_datetime(pd.array(column, dtype="Int64"), unit="ms", utc=True)
            elif kind == "int":
                data[name] = pd.array(column, dtype="Int64")
            elif kind == "float":
                data[name] = pd.array(column, dtype="Float64").astype("float64")
            else:
                data[name] = pd.array(column, dtype="string")
        return pd.DataFrame(data, columns=renamed)
    import polars as pl

    series = []
    for name, original, kind, column in zip(renamed, columns, kinds, values):
        if original in ("start_ms", "end_ms"):
            s = pl.Series(name, column, dtype=pl.Int64).cast(pl.Datetime("ms", "UTC"))
        else:
            dtype = {"int": pl.Int64, "float": pl.Float64}.get(kind, pl.Utf8)
            s = pl.Series(name, column, dtype=dtype)
        series.append(s)
    return pl.DataFrame(series)


class Model:
    """A saved model (``sarlab train`` or a study's refit): it decodes, preprocesses and
    featurises chip files as its training chips were, then decides them."""

    def __init__(self, native):
        self._native = native

    @property
    def classes_(self):
        return np.asarray(self._native.classes)

    def predict(self, chips):
        """Class names of chip files (a path, or a list of paths, folders or labelled
        datasets, resolved as ``sarlab predict`` resolves its inputs)."""
        return np.asarray(self._native.predict(_paths(chips))["predicted"])

    def decide(self, chips, probability=False):
        """Everything ``sarlab predict`` reports per chip: a dict of ``name``,
        ``truth``, ``predicted``, ``decision_values`` and, with ``probability``,
        ``probabilities``."""
        return self._native.predict(_paths(chips), bool(probability))


def _paths(chips):
    if isinstance(chips, (str, os.PathLike)):
        return [os.fspath(chips)]
    return [os.fspath(c) for c in chips]


def load_model(path):
    """Loads a saved model file."""
    return Model(_sarlab.load_model(os.fspath(path)))
