"""Shared helpers: where the shared datasets are (``$SARLAB_DATASETS``, else
``../shared/datasets`` beside the repository), skipped with the reason when absent."""

import os
import pathlib

import numpy as np
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


def fixture_script(name):
    """A reference script of ``scripts/fixtures`` imported as a module (its reference
    functions are what the Rust fixtures were generated with)."""
    import importlib.util

    path = REPO / "scripts" / "fixtures" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"sarlab_fixture_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def speckled_chip(rng, rows, cols):
    """An 8-bit SAR-like chip: a bright rectangular target with a shadow on textured
    clutter, under 1-look exponential speckle, in decibels scaled to 0–255."""
    r, c = np.mgrid[0:rows, 0:cols]
    reflectivity = 0.05 + 0.02 * np.sin(0.3 * r) * np.cos(0.2 * c) ** 2
    target = (abs(r - rows / 2) < rows / 8) & (abs(c - cols / 2) < cols / 5)
    shadow = (r - rows / 2 >= rows / 8) & (r - rows / 2 < rows / 3) & (abs(c - cols / 2) < cols / 5)
    reflectivity = np.where(target, 1.0, np.where(shadow, 0.005, reflectivity))
    intensity = reflectivity * rng.exponential(1.0, size=(rows, cols))
    db = 10 * np.log10(intensity + 1e-6)
    return np.clip((db + 50) * 255 / 55, 0, 255).astype(np.uint8)


def write_chips(folder, shapes, seed=0, suffix=".png"):
    """Chips of the given shapes written to ``folder`` (PNG, or JPEG at quality 90);
    returns their paths."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (rows, cols) in enumerate(shapes):
        path = folder / f"chip{i:03d}{suffix}"
        options = {"quality": 90} if suffix in (".jpg", ".jpeg") else {}
        Image.fromarray(speckled_chip(rng, rows, cols)).save(path, **options)
        paths.append(path)
    return paths
