"""Reading labelled datasets as a study reads them."""

import os

import numpy as np

from sarlab import _sarlab
from sarlab._frames import table


class Dataset:
    """A labelled dataset: ``images`` (``(n, rows, cols)`` float64, or a list of 2-D
    arrays when the chips' sizes differ), ``labels`` (class names), ``y`` (class
    indices into ``classes``), ``split`` (``"train"`` / ``"test"``), ``phase`` (complex
    data) and per-chip ``metadata`` columns; ``digest`` is the content digest a study
    records for the same files. ``dataset["train"]`` is the train chips' subset."""

    _COLUMNS = ("name", "path", "format", "target_type", "serial", "azimuth_deg",
                "depression_deg", "md5")

    def __init__(self, loaded):
        self.images = loaded["images"]
        self.phase = loaded["phase"]
        self.classes = list(loaded["classes"])
        self.y = loaded["class_index"]
        self.labels = np.asarray(self.classes, dtype=object)[self.y] if len(self.y) else np.asarray([], dtype=object)
        self.split = np.asarray(loaded["split"], dtype=object)
        self.size = loaded["size"]
        self.metadata = {key: loaded[key] for key in self._COLUMNS}
        self.format = loaded["dataset_format"]
        self.root = loaded["root"]
        self.digest = loaded["digest"]
        self.skipped = loaded["skipped"]

    def __len__(self):
        return len(self.y)

    def __repr__(self):
        shape = self.images.shape if isinstance(self.images, np.ndarray) else "mixed sizes"
        counts = {s: int(np.sum(self.split == s)) for s in ("train", "test")}
        return (f"<sarlab.Dataset {self.root!r} ({self.format}): {len(self)} chips, "
                f"{len(self.classes)} classes, train {counts['train']}, test {counts['test']}, "
                f"images {shape}>")

    def __getitem__(self, split):
        """The chips of one split (``"train"`` or ``"test"``), classes unchanged."""
        if split not in ("train", "test"):
            raise KeyError(f'split: expected "train" or "test", got {split!r}')
        keep = np.flatnonzero(self.split == split)
        subset = object.__new__(Dataset)
        subset.__dict__.update(self.__dict__)

        def pick(values):
            if values is None:
                return None
            if isinstance(values, np.ndarray):
                return values[keep]
            return [values[i] for i in keep]

        subset.images, subset.phase = pick(self.images), pick(self.phase)
        subset.y, subset.labels = self.y[keep], self.labels[keep]
        subset.split, subset.size = self.split[keep], self.size[keep]
        subset.metadata = {k: pick(v) for k, v in self.metadata.items()}
        return subset

    def to_frame(self, frame="auto"):
        """One row per chip — ``label``, ``split``, ``rows``, ``cols`` and the metadata
        columns — as a pandas or polars DataFrame (``frame``: ``"pandas"``,
        ``"polars"`` or ``"auto"``)."""
        columns = {"label": [str(v) for v in self.labels], "split": [str(v) for v in self.split],
                   "rows": self.size[:, 0].tolist(), "cols": self.size[:, 1].tolist()}
        columns.update({k: [v.item() if isinstance(v, np.generic) else v for v in values]
                        for k, values in self.metadata.items()})
        rows = [dict(zip(columns, values)) for values in zip(*columns.values())]
        return table(rows, frame)


def load_dataset(path, crop=None, format=None, train="train", test="test",
                 train_depression=None, test_depression=None, band=None, verify_md5=False):
    """A labelled dataset as a study reads it — image folders (``<path>/<train>/<class>/*``),
    a manifest CSV (``path,label,split``), or MSTAR Phoenix files labelled by their
    headers and split by depression angle (17° train, 15° test unless given) — each
    chip's samples scaled as :func:`read_chip` scales them, centre-cropped to ``crop ×
    crop`` when given (a study's ``preprocess.crop``). Chips come sorted by split,
    class and name, as a study orders them. Returns a :class:`Dataset`."""
    loaded = _sarlab.load_dataset(
        os.fspath(path), None if crop is None else int(crop), format, str(train), str(test),
        None if train_depression is None else [float(a) for a in np.atleast_1d(train_depression)],
        None if test_depression is None else [float(a) for a in np.atleast_1d(test_depression)],
        None if band is None else int(band), bool(verify_md5),
    )
    return Dataset(loaded)
