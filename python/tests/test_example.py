"""examples/python_quickstart.py runs end to end (on a small synthetic spec here; the
quickstart itself takes a minute with a release build) and finds what it claims."""

import os
import pathlib
import subprocess
import sys

from conftest import REPO

SPEC = """
name = "example"
seed = 3
[dataset]
source = "synthetic"
path = "data"
[dataset.synthetic]
chip_size = 40
train_per_class = 10
test_per_class = 5
[preprocess]
crop = 32
intensity = "db"
[[features]]
method = "raw"
downsample = 2
[[features]]
method = "hog"
pixels_per_cell = 8
cells_per_block = 2
[[features]]
method = "gabor"
frequencies = [[0.1, 0.2, 0.3]]
orientations = 4
pool = 8
[[features]]
method = "spectral"
block = 12
rings = 8
wedges = 8
[svm]
C = [1, 10, 100]
folds = 5
"""


def test_the_example_runs(tmp_path):
    (tmp_path / "example.toml").write_text(SPEC)
    env = dict(os.environ, SARLAB_EXAMPLE_SPEC="example.toml")
    script = pathlib.Path(REPO) / "examples" / "python_quickstart.py"
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "configurations run" in out
    # From Python, every method's CV numbers and test accuracy are the study's.
    assert "every method reproduces the study: True" in out, out
    assert out.count("the study's CV numbers: True, its test accuracy: True") == 4, out
    assert "identical: True" in out, out
    assert "same support vectors and predicts the same labels: True" in out, out
    assert (tmp_path / "quickstart.db").is_file()
