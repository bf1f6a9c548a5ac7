"""Shared helpers: where the shared datasets are (``$SARLAB_DATASETS``, else
``../shared/datasets`` beside the repository), skipped with the reason when absent."""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def datasets():
    root = os.environ.get("SARLAB_DATASETS")
    return pathlib.Path(root) if root else REPO.parent / "shared" / "datasets"


@pytest.fixture
def mstar_soc():
    root = datasets() / "mstar-soc"
    if not root.is_dir():
        pytest.skip(f"the MSTAR SOC chips are not at {root} (set SARLAB_DATASETS)")
    return root


@pytest.fixture
def mstar_raw():
    root = datasets() / "mstar-raw"
    if not root.is_dir():
        pytest.skip(f"the MSTAR Phoenix chips are not at {root} (set SARLAB_DATASETS)")
    return root
