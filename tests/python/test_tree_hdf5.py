"""The data tree's hdf5 loader on files h5py writes. Files in h5py's default
layout are read by larder's own HDF5 reader; others go through libhdf5: here
filters, soft links, and (with libver="latest" or track_order=True) a group
of more than 8 links. Both must give the same tree, equal to what h5py
reads."""

import h5py
import numpy as np
import pytest

import larder


def fill(f):
    f.attrs["title"] = "a run"
    f.attrs["seed"] = np.int64(42)
    f.attrs["rate"] = np.float32(0.5)
    f.attrs["ok"] = np.bool_(True)
    f.attrs["shape"] = np.array([3, 4], dtype=np.int32)
    f.attrs["names"] = ["x", "yy"]
    f.attrs["raw"] = np.bytes_(b"bytes")
    f.attrs["grid"] = np.arange(6, dtype=np.uint16).reshape(2, 3)
    g = f.create_group("abm/energy")
    g.attrs["content"] = "time_series"
    for t in range(12):
        g.create_dataset(str(t), data=np.linspace(0, 1, 42 - t))
    f["walk"] = np.cumsum(np.random.default_rng(1).normal(size=1024))
    f["walk"].attrs["units"] = "m"
    f["counts"] = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    f["alive"] = np.array([True, False, True])
    f["half"] = np.array([0.5, -2], dtype=np.float16)
    f["scalar"] = 7.25
    f["empty"] = np.zeros(0, dtype=np.uint8)
    f["labels"] = ["alpha", "", "\u03b2eta"]
    f["codes"] = np.array([b"ab", b"cde"])
    f["note"] = "one string"


def tree_of(node):
    """A tree as plain Python: groups as (attrs, {name: member}), arrays as
    (attrs, dtype, values), strings as themselves."""
    if isinstance(node, larder.TreeGroup):
        return node.attrs, {k: tree_of(node[k]) for k in node}
    if isinstance(node, larder.TreeArray):
        return node.attrs, node.dtype, node.data.tolist()
    return node


def load(folder, name):
    dm = larder.DataManager(str(folder), out_dir=False)
    dm.load("f", loader="hdf5", glob_str=name, required=True)
    return dm["f"]


@pytest.mark.parametrize("variant", ["latest", "gzip", "soft_link", "track_order"])
def test_larders_reader_and_libhdf5_give_the_same_tree(tmp_path, variant):
    with h5py.File(tmp_path / "default.h5", "w") as f:
        fill(f)
    kwargs = {"libver": "latest"} if variant == "latest" else {}
    if variant == "track_order":
        kwargs["track_order"] = True
    with h5py.File(tmp_path / "other.h5", "w", **kwargs) as f:
        fill(f)
        if variant == "gzip":
            del f["walk"]
            f.create_dataset("walk", data=np.cumsum(np.random.default_rng(1).normal(size=1024)),
                             compression="gzip", chunks=(256,))
            f["walk"].attrs["units"] = "m"
        if variant == "soft_link":
            f["abm/latest"] = h5py.SoftLink("/walk")
    ours, theirs = tree_of(load(tmp_path, "default.h5")), tree_of(load(tmp_path, "other.h5"))
    if variant == "soft_link":
        assert theirs[1]["abm"][1].pop("latest") == theirs[1]["walk"]
    if variant == "track_order":  # libhdf5 lists by name, as for any file
        assert list(theirs[1]) == sorted(theirs[1])
    assert ours == theirs


def test_the_tree_holds_what_h5py_reads(tmp_path):
    with h5py.File(tmp_path / "d.h5", "w") as f:
        fill(f)
    root = load(tmp_path, "d.h5")
    with h5py.File(tmp_path / "d.h5", "r") as f:
        assert root.attrs["title"] == "a run"
        assert root.attrs["seed"] == 42 and root.attrs["ok"] is True
        assert root.attrs["shape"] == [3, 4] and root.attrs["names"] == ["x", "yy"]
        assert root.attrs["grid"] == f.attrs["grid"].tolist()
        for name in ("walk", "counts", "alive", "half", "scalar", "empty"):
            np.testing.assert_array_equal(root[name].data, f[name][()])
            assert root[name].dtype == f[name].dtype
        assert root["walk"].attrs == {"units": "m"}
        assert root["labels"] == ["alpha", "", "\u03b2eta"]
        assert root["codes"] == ["ab", "cde"]
        assert root["note"] == "one string"
        energy = root["abm/energy"]
        assert energy.attrs == {"content": "time_series"}
        assert sorted(energy, key=int) == [str(t) for t in range(12)]
        np.testing.assert_array_equal(energy["11"].data, f["abm/energy/11"][()])


def test_hdf5_proxy_reads_on_first_access(tmp_path):
    with h5py.File(tmp_path / "d.h5", "w") as f:
        fill(f)
    dm = larder.DataManager(str(tmp_path), out_dir=False)
    dm.load("f", loader="hdf5_proxy", glob_str="d.h5", required=True)
    walk = dm["f/walk"]
    assert walk.shape == (1024,) and walk.dtype == np.float64
    with h5py.File(tmp_path / "d.h5", "r") as f:
        expected = f["walk"][()]
    np.testing.assert_array_equal(walk.data, expected)
    assert dm["f/labels"] == ["alpha", "", "\u03b2eta"]  # strings are read at once


def test_a_damaged_file_is_a_clear_error(tmp_path):
    with h5py.File(tmp_path / "d.h5", "w") as f:
        fill(f)
    data = bytearray((tmp_path / "d.h5").read_bytes())
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 3])
    dm = larder.DataManager(str(tmp_path), out_dir=False)
    with pytest.raises(larder.Error) as e:
        dm.load("f", loader="hdf5", glob_str="cut.h5", required=True)
    assert "cut.h5" in str(e.value)


def test_variable_length_datasets_load_as_lists(tmp_path):
    with h5py.File(tmp_path / "v.h5", "w") as f:
        ds = f.create_dataset("tracks", (3,), dtype=h5py.vlen_dtype(np.float32))
        ds[0], ds[1], ds[2] = [1, 2.5], [], [3]
        f["tracks"].attrs["units"] = "cm"
    with h5py.File(tmp_path / "grid.h5", "w") as f:
        f.create_dataset("grid", (2, 2), dtype=h5py.vlen_dtype(np.int8))
    dm = larder.DataManager(str(tmp_path), out_dir=False)
    dm.load("f", loader="hdf5", glob_str="v.h5", required=True)
    with h5py.File(tmp_path / "v.h5", "r") as f:
        assert dm["f/tracks"] == [row.tolist() for row in f["tracks"][()]]
    assert dm["f/tracks"] == [[1.0, 2.5], [], [3.0]]
    with pytest.raises(larder.Error, match="only 1-D variable-length"):
        dm.load("g", loader="hdf5", glob_str="grid.h5", required=True)
