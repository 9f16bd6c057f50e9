"""Ragged records from Python: larder's own on every driver, h5py
variable-length datasets, PyTables VLArrays and memmpy jagged and shaped
arrays, read back against what the writers were given."""

import os
import subprocess

import h5py
import numpy as np
import pytest
import tables

import larder
from conftest import write_memmpy


def records(n, seed=0, inner=()):
    rng = np.random.default_rng(seed)
    return [rng.random((int(k),) + inner).astype(np.float32) for k in rng.poisson(5, n)]


def assert_records_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.fixture(params=["h5", "lmm"])
def store_path(request, tmp_path):
    return str(tmp_path / f"data.{request.param}")


def codec_for(path):
    return "blosc-lz4" if path.endswith(".h5") else None


def test_jagged_records_through_the_python_api(store_path):
    want = records(300)
    with larder.open(store_path, "w") as s:
        r = s.create_ragged("events/jet_pt", dtype="f4", codec=codec_for(store_path))
        assert isinstance(r, larder.Ragged) and len(r) == 0
        r.append(want[0])
        r.extend(want[1:200])
        r.extend(np.concatenate(want[200:]), lengths=[len(x) for x in want[200:]])
        assert len(r) == 300
    with larder.open(store_path) as s:
        r = s["events/jet_pt"]
        assert isinstance(r, larder.Ragged)
        assert r.dtype == np.float32 and r.inner_shape == () and not r.shaped
        np.testing.assert_array_equal(r[5], want[5])
        np.testing.assert_array_equal(r[-1], want[-1])
        assert_records_equal(r[10:20], want[10:20])
        assert_records_equal(r[::-7], want[::-7])
        assert_records_equal(r[[7, 3, 7]], [want[7], want[3], want[7]])
        mask = np.arange(300) % 3 == 0
        assert_records_equal(r[mask], [w for w, m in zip(want, mask) if m])
        assert_records_equal(list(r), want)
        np.testing.assert_array_equal(r.lengths, [len(x) for x in want])

        block = r.read(0, 300)  # (values, offsets) without a copy per record
        np.testing.assert_array_equal(block.values, np.concatenate(want))
        np.testing.assert_array_equal(block.offsets, np.concatenate([[0], np.cumsum(r.lengths)]))
        assert np.shares_memory(block[3], block.values)
        some = r.gather([299, 0])
        assert_records_equal(list(some), [want[299], want[0]])

        padded = r.padded([0, 1, 2], 4, float("nan"))
        assert padded.shape == (3, 4) and padded.dtype == np.float32
        for row, w in zip(padded, want[:3]):
            k = min(len(w), 4)
            np.testing.assert_array_equal(row[:k], w[:k])
            assert np.isnan(row[k:]).all()
        np.testing.assert_array_equal(r.padded(None, 22, 0.0).shape, (300, 22))
        assert "jet_pt" in repr(r) and "300" in repr(r)


def test_inner_shapes_and_shaped_records(store_path):
    hits = records(50, inner=(3,))
    images = [np.arange(h * w, dtype=np.uint16).reshape(h, w) for h, w in
              [(2, 3), (4, 1), (0, 5), (3, 3)]]
    with larder.open(store_path, "w") as s:
        s.create_ragged("hits", dtype="f4", inner_shape=(3,)).extend(hits)
        img = s.create_ragged("images", dtype="u2", shaped=True)
        for image in images:
            img.append(image)
    with larder.open(store_path) as s:
        assert s["hits"].inner_shape == (3,)
        assert_records_equal(s["hits"][:], hits)
        assert s["hits"].padded([0], 2).shape == (1, 2, 3)
        img = s["images"]
        assert img.shaped
        assert [x.shape for x in img[:]] == [x.shape for x in images]
        assert_records_equal(img[[3, 0]], [images[3], images[0]])
        np.testing.assert_array_equal(img.lengths, [x.size for x in images])
        assert img.read().shapes == [x.shape for x in images]
        with pytest.raises(larder.InvalidArgumentError, match="jagged"):
            img.padded([0], 3)
        tree = s.tree()  # ragged records are one line each, their parts unlisted
        assert "hits  ragged 50 records of float32 (n, 3)" in tree
        assert "images  ragged 4 records of uint16 any" in tree
        assert "offsets" not in tree


def test_bad_input_leaves_the_records_unchanged(store_path):
    with larder.open(store_path, "w") as s:
        r = s.create_ragged("r", dtype="i4", inner_shape=(2,))
        r.append(np.ones((3, 2), np.int32))
        with pytest.raises(larder.InvalidArgumentError, match=r"\(n, 2\)"):
            r.append(np.ones((3, 3), np.int32))
        with pytest.raises(larder.InvalidArgumentError, match="add up"):
            r.extend(np.ones((3, 2), np.int32), lengths=[1, 1])
        with pytest.raises(larder.OutOfRangeError, match="record 5"):
            r[[0, 5]]
        with pytest.raises(IndexError):
            r[1]
        with pytest.raises(larder.InvalidArgumentError, match="exists"):
            s.create_ragged("r", dtype="i4")
        assert len(r) == 1 and r[0].shape == (3, 2)
        s.create_array("dense", data=np.arange(3))
        assert isinstance(s["dense"], larder.Dataset)  # dense data stays dense
    with larder.open(store_path, "r+") as s:
        s["r/offsets"][1] = 99  # points past the values
    with larder.open(store_path) as s:
        with pytest.raises(larder.CorruptError, match="99"):
            s["r"]


def test_h5py_vlen_datasets_read_as_ragged(tmp_path):
    path = str(tmp_path / "vlen.h5")
    want = records(500, seed=3)
    with h5py.File(path, "w") as f:
        d = f.create_dataset("jets", (len(want),), dtype=h5py.vlen_dtype(np.float32),
                             chunks=(64,), compression="gzip")
        for i, w in enumerate(want):
            d[i] = w
        f.create_dataset("ints", data=np.array([np.arange(k, dtype=np.int64) for k in (3, 0, 2)],
                                              dtype=object), dtype=h5py.vlen_dtype(np.int64))
        f.create_dataset("unset", (3,), dtype=h5py.vlen_dtype(np.float32))  # every row empty
    with larder.open(path) as s:
        r = s["jets"]
        assert isinstance(r, larder.Ragged) and r.format == "hdf5-vlen" and not r.writable
        assert_records_equal(r[:], want)
        assert_records_equal(r[[499, 0, 499]], [want[499], want[0], want[499]])
        np.testing.assert_array_equal(r.lengths, [len(w) for w in want])
        assert_records_equal(s["ints"][:], [np.arange(k) for k in (3, 0, 2)])
        assert [len(x) for x in s["unset"][:]] == [0, 0, 0]
        assert s["unset"].read().values.shape == (0,)
        with pytest.raises(larder.UnsupportedError, match="read-only"):
            r.append(np.ones(2, np.float32))


def test_pytables_vlarrays_read_as_ragged(tmp_path):
    path = str(tmp_path / "vl.h5")
    want = records(200, seed=4)
    pairs = [np.arange(2 * k, dtype=np.int32).reshape(k, 2) for k in (1, 3, 0, 2)]
    with tables.open_file(path, "w") as f:
        vl = f.create_vlarray("/", "pt", tables.Float32Atom())
        for w in want:
            vl.append(w)
        vl2 = f.create_vlarray("/", "pairs", tables.Int32Atom(shape=(2,)))
        for p in pairs:
            vl2.append(p)
    with larder.open(path) as s:
        assert_records_equal(s["pt"][:], want)
        assert_records_equal(s["pt"][[5, 1]], [want[5], want[1]])
        pr = s["pairs"]
        assert pr.inner_shape == (2,)
        assert_records_equal(pr[:], pairs)


def test_memmpy_jagged_and_shaped_arrays_read_as_ragged(tmp_path):
    directory = str(tmp_path / "data.mmpy")
    jag = records(40, seed=5)
    shapes = [(2, 3), (1, 1), (0, 4), (3, 2)]
    shaped = [np.arange(a * b, dtype=np.float64).reshape(a, b) + i for i, (a, b) in
              enumerate(shapes)]
    write_memmpy(directory, {
        "jag": np.concatenate(jag),
        "jag:index": np.concatenate([[0], np.cumsum([len(x) for x in jag])]).astype(np.int64),
        # WriteShaped: flat values as jagged `img`, shapes as jagged int64 `img:shape`
        "img": np.concatenate([x.ravel() for x in shaped]),
        "img:index": np.concatenate([[0], np.cumsum([x.size for x in shaped])]).astype(np.int64),
        "img:shape": np.array(shapes, dtype=np.int64).ravel(),
        "img:shape:index": np.arange(0, 2 * len(shapes) + 1, 2, dtype=np.int64),
    })
    with larder.open(directory) as s:
        r = s["jag"]
        assert r.format == "memmpy" and not r.writable
        assert_records_equal(r[:], jag)
        assert_records_equal(r[[39, 2]], [jag[39], jag[2]])
        img = s["img"]
        assert img.shaped
        assert_records_equal(img[:], shaped)
        assert [x.shape for x in img[[3, 0]]] == [(3, 2), (2, 3)]


def test_memmpy_offsets_past_the_values_are_corrupt(tmp_path):
    directory = str(tmp_path / "bad.mmpy")
    write_memmpy(directory, {"jag": np.arange(5, dtype=np.float32),
                             "jag:index": np.array([0, 2, 9], dtype=np.int64)})
    with larder.open(directory) as s:
        with pytest.raises(larder.CorruptError, match="9"):
            s["jag"]


def test_cli_shows_and_prints_ragged_records(tmp_path, larder_cli):
    path = str(tmp_path / "r.h5")
    with larder.open(path, "w") as s:
        s.create_ragged("jets", dtype="f4", codec="blosc-lz4").extend(
            [np.array([1.5, 2], np.float32), np.array([], np.float32), np.array([3], np.float32)])
    info = subprocess.run([larder_cli, "info", path], capture_output=True, text=True, check=True)
    assert "jets" in info.stdout and "ragged" in info.stdout and "3 records" in info.stdout
    cat = subprocess.run([larder_cli, "cat", f"{path}:jets"], capture_output=True, text=True,
                         check=True)
    assert cat.stdout.splitlines() == ["[1.5, 2]", "[]", "[3]"]
    one = subprocess.run([larder_cli, "cat", f"{path}:jets", "--slice", "2"], capture_output=True,
                         text=True, check=True)
    assert one.stdout.strip() == "[3]"
