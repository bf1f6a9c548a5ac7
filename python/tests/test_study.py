"""Studies from Python: run a spec (a dict or a file), read its runs as typed
DataFrames, load the saved models and predict the test chips from their files."""

import glob

import numpy as np
import pytest

import sarlab

TINY = {
    "name": "tiny",
    "seed": 11,
    "dataset": {
        "source": "synthetic",
        "path": "data",
        "synthetic": {"chip_size": 40, "train_per_class": 8, "test_per_class": 4},
    },
    "preprocess": {"crop": 32, "intensity": "db"},
    "features": [
        {"method": "raw", "downsample": 2},
        {"method": "hog", "pixels_per_cell": 8, "cells_per_block": 2},
    ],
    "svm": {"C": [1, 10], "gamma": ["scale", 0.001], "folds": 3},
}


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcome = sarlab.run(TINY, db="runs.db", reports="out", models="models")
    return tmp_path, outcome


def test_a_dict_spec_runs_and_a_second_run_skips_everything(study):
    root, outcome = study
    assert outcome["ran"] == 8 and outcome["skipped"] == 0
    assert outcome["report"].endswith("index.html")
    assert (root / outcome["report"]).is_file() or __import__("os").path.isfile(outcome["report"])
    again = sarlab.run(TINY, db="runs.db", reports="out", models="models")
    assert again["ran"] == 0 and again["skipped"] == 8


def test_runs_are_typed_dataframes(study):
    import pandas as pd
    import polars as pl

    frame = sarlab.runs("runs.db", frame="pandas")
    cv = frame[frame["tags.stage"] == "cv"]
    assert len(cv) == 8
    assert pd.api.types.is_datetime64_any_dtype(frame["start_time"])
    assert str(frame["start_time"].dt.tz) == "UTC"
    assert frame["start_time"].notna().all()
    assert frame["params.C"].dtype == np.float64
    assert frame["metrics.f1_macro"].dtype == np.float64
    assert isinstance(frame["status"].dtype, pd.StringDtype)
    assert set(cv["params.C"]) == {1.0, 10.0}
    best = sarlab.runs("runs.db", filter="metrics.f1_macro >= 0 and params.C = 10", frame="pandas")
    assert len(best) > 0 and (best["params.C"] == 10.0).all()
    # load_dataset's digest is the one every run records for the same files.
    digest = sarlab.load_dataset("data").digest
    assert set(cv["tags.dataset_digest"]) == {digest}
    polars = sarlab.runs("runs.db", frame="polars")
    assert polars.height == len(frame)
    assert polars["metrics.f1_macro"].dtype == pl.Float64
    assert polars["start_time"].dtype == pl.Datetime("ms", "UTC")
    with pytest.raises(sarlab.SarlabError, match="filter"):
        sarlab.runs("runs.db", filter="metrics.f1_macro >>> 2")
    with pytest.raises(sarlab.SarlabError, match="no run database"):
        sarlab.runs("missing.db")


def test_saved_models_predict_their_recorded_test_accuracy(study):
    frame = sarlab.runs("runs.db", frame="pandas")
    tests = frame[frame["tags.stage"] == "test"]
    assert len(tests) == 2
    models = sorted(glob.glob("models/tiny/*"))
    assert len(models) == 2
    for path in models:
        model = sarlab.load_model(path)
        decided = model.decide("data")
        test_rows = [i for i, n in enumerate(decided["name"]) if n.startswith("test/")]
        predicted = np.asarray(decided["predicted"])[test_rows]
        truth = np.asarray(decided["truth"])[test_rows]
        accuracy = float(np.mean(predicted == truth))
        assert accuracy in set(tests["metrics.accuracy"].round(12)) or any(
            abs(accuracy - a) < 1e-12 for a in tests["metrics.accuracy"]
        )
        assert decided["decision_values"].shape[0] == len(decided["name"])
        assert set(model.classes_) >= set(truth)


def test_a_bad_spec_names_the_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = dict(TINY, svm={"C": [1], "gama": "scale"})
    with pytest.raises(sarlab.SarlabError, match="gama"):
        sarlab.run(bad, db="runs.db")
    with pytest.raises(ValueError, match="None"):
        sarlab.run(dict(TINY, seed=None), db="runs.db")
    assert not (tmp_path / "runs.db").exists()


def test_ctrl_c_stops_the_study_killed_and_a_rerun_finishes_it(tmp_path, monkeypatch):
    import signal
    import threading
    import time

    monkeypatch.chdir(tmp_path)
    spec = {
        **TINY,
        "name": "interrupted",
        "dataset": {**TINY["dataset"], "synthetic": {"chip_size": 40, "train_per_class": 40,
                                                     "test_per_class": 4}},
        # The slowest setting first: the interrupt comes while it is computed.
        "features": [{"method": "gabor", "frequencies": [[0.1, 0.2, 0.3]], "orientations": 8,
                      "pool": 4}] + TINY["features"],
        "svm": {"C": [0.1, 1, 10, 100, 1000], "gamma": ["scale", 0.001, 0.01], "folds": 5},
    }
    per_setting, total = 15, 45

    def interrupt_during_the_first_setting():
        # Ctrl-C (SIGINT) once the first feature setting is claimed (its configurations
        # RUNNING), while its features are extracted.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            # Through sarlab itself: a second SQLite library in this process (Python's
            # sqlite3) must not open a database the bundled one is writing, as POSIX
            # locks are per process.
            try:
                done = int(sarlab.runs("runs.db", frame="pandas")["parent"].notna().sum())
            except sarlab.SarlabError:  # not created yet
                done = 0
            if done > 0:
                signal.raise_signal(signal.SIGINT)
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=interrupt_during_the_first_setting)
    watcher.start()
    with pytest.raises(KeyboardInterrupt):
        sarlab.run(spec, db="runs.db", reports="out", models="models")
    watcher.join()
    frame = sarlab.runs("runs.db", frame="pandas")
    study_runs = frame[frame["params.stage"] == "study"]
    assert list(study_runs["status"]) == ["KILLED"]
    assert not (frame["status"] == "RUNNING").any()
    # The stop comes before the next claim: the first setting is recorded whole, the
    # others not at all (their claims never made).
    cv = frame[frame["tags.stage"] == "cv"]
    finished = len(cv)
    assert finished == per_setting and (cv["status"] == "FINISHED").all()
    assert (cv["params.feature"] == "gabor").all()
    again = sarlab.run(spec, db="runs.db", reports="out", models="models")
    assert again["skipped"] == finished and again["ran"] == total - finished
