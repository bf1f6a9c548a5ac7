"""read_chip gives what the standard Python loaders give for the same file."""

import re

import numpy as np
import pytest
from PIL import Image
import tifffile

import sarlab


def test_png_and_jpeg_are_the_pil_pixels_over_255(tmp_path):
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, size=(37, 53), dtype=np.uint8)
    for name, kwargs in [("a.png", {}), ("a.jpg", {"quality": 87})]:
        path = tmp_path / name
        Image.fromarray(grey).save(path, **kwargs)
        image, info = sarlab.read_chip(path)
        expected = np.asarray(Image.open(path)) / 255.0
        assert image.dtype == np.float64 and image.shape == (37, 53)
        assert np.array_equal(image, expected), name
        assert info["format"] in ("png", "jpeg") and info["sample_type"] == "uint8"
        assert info["phase"] is None


def test_sixteen_bit_png_is_over_65535(tmp_path):
    values = np.arange(0, 65535, 517, dtype=np.uint16)[:120].reshape(10, 12)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    image, _ = sarlab.read_chip(path)
    assert np.array_equal(image, np.asarray(Image.open(path)) / 65535.0)


def test_float_tiff_and_npy_are_as_stored(tmp_path):
    rng = np.random.default_rng(4)
    magnitude = rng.gamma(1.0, 2.0, size=(20, 30)).astype(np.float32)
    tiff = tmp_path / "m.tif"
    tifffile.imwrite(tiff, magnitude)
    image, info = sarlab.read_chip(tiff)
    assert image.dtype == np.float32
    assert np.array_equal(image, tifffile.imread(tiff))
    npy = tmp_path / "m.npy"
    np.save(npy, magnitude.astype(np.float64))
    image, info = sarlab.read_chip(npy)
    assert image.dtype == np.float64 and np.array_equal(image, np.load(npy))
    assert info["format"] == "npy"


def test_mstar_jpeg_chips_equal_pil(mstar_soc):
    paths = sorted((mstar_soc / "train").glob("*/*.jpeg"))[:: 250]
    assert paths
    for path in paths:
        image, _ = sarlab.read_chip(path)
        assert np.array_equal(image, np.asarray(Image.open(path)) / 255.0), path


def test_phoenix_chips_are_their_big_endian_samples(mstar_raw):
    for path in sorted(mstar_raw.iterdir()):
        data = path.read_bytes()
        header_length = int(re.search(rb"PhoenixHeaderLength= *(\d+)", data).group(1))
        rows = int(re.search(rb"NumberOfRows= *(\d+)", data).group(1))
        cols = int(re.search(rb"NumberOfColumns= *(\d+)", data).group(1))
        samples = np.frombuffer(data[header_length:], dtype=">f4")
        magnitude, info = sarlab.read_chip(path, verify_md5=True)
        assert magnitude.dtype == np.float32 and magnitude.shape == (rows, cols)
        assert np.array_equal(magnitude, samples[: rows * cols].reshape(rows, cols))
        assert info["format"] == "phoenix" and info["md5"] == "ok"
        assert info["header"]["NumberOfRows"] == str(rows)
        assert isinstance(info["depression_deg"], float)
        assert info["target_type"]
        assert info["phase"].shape == (rows, cols)


def test_bad_files_raise_with_the_path(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(FileNotFoundError, match="nope.png"):
        sarlab.read_chip(missing)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    with pytest.raises(sarlab.SarlabError, match="junk.png"):
        sarlab.read_chip(junk)
    cut = tmp_path / "cut.png"
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(cut)
    cut.write_bytes(cut.read_bytes()[:60])
    with pytest.raises(ValueError, match="cut.png"):
        sarlab.read_chip(cut)


def image_folders(root):
    """train/test × two classes, chips of two sizes and three kinds (8-bit PNG, JPEG,
    16-bit PNG); returns {path: (label, split)}."""
    from conftest import write_chips

    labels = {}
    for split, seed in (("train", 1), ("test", 2)):
        for k, label in enumerate(("tank", "bmp2")):
            folder = root / split / label
            for path in write_chips(folder, [(44, 44), (52, 60)], seed=seed + 10 * k):
                labels[path] = (label, split)
            jpeg = write_chips(folder, [(44, 44)], seed=seed + 20 * k, suffix=".jpg")[0]
            jpeg = jpeg.rename(folder / "x.jpg")
            labels[jpeg] = (label, split)
            deep = folder / "y.png"
            Image.fromarray((np.arange(44 * 44, dtype=np.uint16).reshape(44, 44) * (7 + k))).save(deep)
            labels[deep] = (label, split)
    return labels


def pil_values(path):
    array = np.asarray(Image.open(path))
    return array / (65535.0 if array.dtype == np.uint16 else 255.0)


def test_image_folders_load_as_pil_reads_each_file(tmp_path):
    labels = image_folders(tmp_path)
    dataset = sarlab.load_dataset(tmp_path)
    assert dataset.format == "image-folders" and len(dataset) == len(labels)
    assert dataset.classes == ["bmp2", "tank"]
    # Mixed sizes: a list of arrays, each PIL's values for its file.
    assert isinstance(dataset.images, list)
    for i, path in enumerate(dataset.metadata["path"]):
        label, split = labels[__import__("pathlib").Path(path)]
        assert dataset.labels[i] == label and dataset.split[i] == split
        assert dataset.classes[dataset.y[i]] == label
        assert np.array_equal(dataset.images[i], pil_values(path)), path
        assert tuple(dataset.size[i]) == dataset.images[i].shape
    # Sorted by split (train first), class, name — a study's order.
    keys = [(s != "train", l, n) for s, l, n in zip(dataset.split, dataset.labels, dataset.metadata["name"])]
    assert keys == sorted(keys)
    train = dataset["train"]
    assert set(train.split) == {"train"} and len(train) == len(dataset) // 2
    assert all(np.array_equal(a, pil_values(p)) for a, p in zip(train.images, train.metadata["path"]))
    assert len(dataset.digest) == 64 and dataset.phase is None


def test_a_crop_is_each_chip_s_centre_window(tmp_path):
    image_folders(tmp_path)
    dataset = sarlab.load_dataset(tmp_path, crop=31)
    assert isinstance(dataset.images, np.ndarray) and dataset.images.shape == (len(dataset), 31, 31)
    for image, path in zip(dataset.images, dataset.metadata["path"]):
        whole = pil_values(path)
        r0, c0 = (whole.shape[0] - 31) // 2, (whole.shape[1] - 31) // 2
        assert np.array_equal(image, whole[r0 : r0 + 31, c0 : c0 + 31]), path
    # The digest is over the files, whatever is kept of them.
    assert dataset.digest == sarlab.load_dataset(tmp_path).digest
    with pytest.raises(sarlab.SarlabError, match=r"chip\d+\.png|x\.jpg|y\.png"):
        sarlab.load_dataset(tmp_path, crop=50)


def test_a_manifest_and_its_metadata_frame(tmp_path):
    from conftest import write_chips

    paths = write_chips(tmp_path / "chips", [(40, 40)] * 6, seed=3)
    rows = ["path,label,split"]
    for i, path in enumerate(paths):
        rows.append(f"chips/{path.name},{'ab'[i % 2]},{'train' if i < 4 else 'test'}")
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    dataset = sarlab.load_dataset(tmp_path / "list.csv")
    assert dataset.format == "manifest" and dataset.images.shape == (6, 40, 40)
    by_path = {str(p): p for p in paths}
    for image, path in zip(dataset.images, dataset.metadata["path"]):
        assert np.array_equal(image, pil_values(by_path[path]))
    frame = dataset.to_frame("pandas")
    assert list(frame.columns[:4]) == ["label", "split", "rows", "cols"]
    assert frame["rows"].dtype == np.int64 and frame["azimuth_deg"].dtype == np.float64
    assert frame["azimuth_deg"].isna().all() and (frame["label"].isin(["a", "b"])).all()
    polars = dataset.to_frame("polars")
    assert polars.height == 6


def test_phoenix_trees_are_split_by_depression(mstar_raw):
    dataset = sarlab.load_dataset(mstar_raw, train_depression=[15, 17], test_depression=[30])
    assert dataset.format == "phoenix" and len(dataset) + dataset.skipped["other_depression"] > 0
    for i, path in enumerate(dataset.metadata["path"]):
        magnitude, info = sarlab.read_chip(path)
        image = dataset.images[i]
        assert np.array_equal(image, magnitude.astype(np.float64)), path
        assert dataset.labels[i] == info["target_type"]
        assert dataset.metadata["depression_deg"][i] == info["depression_deg"]
        phase = dataset.phase[i]
        assert np.array_equal(phase, info["phase"].astype(np.float64))


def test_bad_datasets_are_named(tmp_path):
    with pytest.raises(sarlab.SarlabError, match="nowhere"):
        sarlab.load_dataset(tmp_path / "nowhere")
    with pytest.raises(sarlab.SarlabError, match="dataset format"):
        sarlab.load_dataset(tmp_path, format="folders")
    from conftest import write_chips

    write_chips(tmp_path / "test" / "tank", [(20, 20)])
    (tmp_path / "train" / "tank").mkdir(parents=True)
    (tmp_path / "train" / "tank" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(sarlab.SarlabError, match="bad.png"):
        sarlab.load_dataset(tmp_path)
