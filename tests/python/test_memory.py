"""The memory driver from Python: a scratch store in RAM with the same API as
a file, saved to .h5 and .lmm with larder.copy() and loaded back; h5py reads
what it saved."""

import subprocess

import h5py
import numpy as np
import pytest

import larder


def rng(seed=0):
    return np.random.default_rng(seed)


# --- the Store API -----------------------------------------------------------------

def test_open_memory_makes_an_empty_writable_store():
    with larder.open(":memory:") as s:
        assert s.driver == "memory" and s.mode == "w" and s.path == ":memory:"
        assert len(s) == 0 and list(s) == []
        s.create_group("g")
        assert "g" in s
    with larder.open("scratch", "a", driver="memory") as s:
        assert s.driver == "memory" and len(s) == 0  # every open is a fresh store
    with pytest.raises(larder.NotFoundError, match="'w'"):
        larder.open(":memory:", "r")


def test_numpy_indexing_reads_and_writes_like_numpy():
    data = rng().random((40, 6), dtype=np.float32)
    with larder.open(":memory:") as s:
        a = s.create_array("g/x", data=data, chunks=(8, 6))
        for key in [np.s_[10:20, ::2], np.s_[[5, 1, 5]], np.s_[...], np.s_[-1], np.s_[::-3, 4],
                    np.s_[data[:, 0] > 0.5], np.s_[3, 5], np.s_[:, [5, 0]], np.s_[35:]]:
            np.testing.assert_array_equal(a[key], data[key])
        a[3:5, 2] = 9
        a[[0, 7], 0] = -1
        data[3:5, 2] = 9
        data[[0, 7], 0] = -1
        np.testing.assert_array_equal(np.asarray(a), data)
        np.testing.assert_array_equal(a.gather([39, 0, 39]), data[[39, 0, 39]])
        assert a.shape == (40, 6) and a.dtype == np.float32 and a.chunks == (8, 6)
        assert a.codec["id"] == "none"
        assert a.storage == {"logical_bytes": data.nbytes, "stored_bytes": data.nbytes,
                             "layout": "memory", "filters": ""}
        with pytest.raises(larder.OutOfRangeError):
            a[40]
        with pytest.raises(larder.UnsupportedError):
            s.create_array("z", shape=(4,), dtype="f4", codec="zstd")
        assert "z" not in s


def test_strings_of_both_kinds():
    with larder.open(":memory:") as s:
        s.create_array("fixed", data=np.array([b"ab", b"cde"]))
        s.create_array("text", data=np.array(["µm", "", "long text"], dtype=object))
        np.testing.assert_array_equal(s["fixed"][::-1], [b"cde", b"ab"])
        assert list(s["text"][[2, 0]]) == ["long text", "µm"]
        s["text"][1] = "filled"
        assert list(s["text"][:]) == ["µm", "filled", "long text"]


def test_appends_resize_and_fill_values():
    with larder.open(":memory:") as s:
        e = s.create_array("e", shape=(0, 3), dtype="i8", extendable=True, fill_value=-1)
        e.append([1, 2, 3])
        e.append(np.arange(12).reshape(4, 3))
        assert e.shape == (5, 3) and e.extendable
        np.testing.assert_array_equal(e[0], [1, 2, 3])
        np.testing.assert_array_equal(e[1:], np.arange(12).reshape(4, 3))
        with pytest.raises(larder.InvalidArgumentError):
            e.append(np.zeros((2, 4), dtype="i8"))
        assert e.shape == (5, 3)
        e.resize(7)
        np.testing.assert_array_equal(e[5:], -np.ones((2, 3)))
        e.resize((2, 3))
        np.testing.assert_array_equal(e[:], [[1, 2, 3], [0, 1, 2]])
        f = s.create_array("f", shape=(4,), dtype="f2", fill_value=1.5)
        np.testing.assert_array_equal(f[:], np.full(4, 1.5, dtype="f2"))


def test_attributes_keep_json_and_arrays():
    with larder.open(":memory:") as s:
        g = s.create_group("g")
        g.attrs["n"] = 3
        g.attrs["name"] = "run"
        g.attrs["config"] = {"seed": 7, "dims": ["x", "y"]}
        g.attrs["lut"] = np.arange(6, dtype="i2").reshape(2, 3)
        assert g.attrs["n"] == 3 and g.attrs["name"] == "run"
        assert g.attrs["config"] == {"seed": 7, "dims": ["x", "y"]}
        lut = g.attrs["lut"]
        assert lut.dtype == np.int16 and lut.shape == (2, 3)
        np.testing.assert_array_equal(lut, np.arange(6).reshape(2, 3))
        assert sorted(g.attrs) == ["config", "lut", "n", "name"]
        del g.attrs["n"]
        assert "n" not in g.attrs
        with pytest.raises(KeyError):
            g.attrs["n"]


def test_a_closed_store_refuses_its_arrays():
    s = larder.open(":memory:")
    a = s.create_array("x", data=np.arange(3))
    s.close()
    with pytest.raises(larder.InvalidArgumentError, match="closed"):
        a[:]


# --- larder.copy: saving and loading -------------------------------------------------

def scratch_store():
    s = larder.open(":memory:")
    s.attrs["title"] = "scratch"
    e = s.create_array("run/events", shape=(0, 4), dtype="f8", chunks=(64, 4), extendable=True)
    e.append(rng(1).random((300, 4)))
    e.attrs["units"] = "GeV"
    s.create_array("run/names", data=np.array([b"a", b"bc"]))
    s.create_array("run/ids", data=np.arange(10, dtype="u4"))
    s["run"].attrs["lut"] = np.eye(2)
    return s


@pytest.mark.parametrize("name", ["saved.h5", "saved.lmm"])
def test_a_scratch_store_is_saved_to_a_file_and_reopened(tmp_path, name):
    target = str(tmp_path / name)
    with scratch_store() as s:
        with larder.open(target, "w") as out:
            larder.copy(s, out)
        with larder.open(target) as back:
            assert back.attrs["title"] == "scratch"
            np.testing.assert_array_equal(back["run/events"][:], s["run/events"][:])
            assert back["run/events"].extendable and back["run/events"].attrs["units"] == "GeV"
            np.testing.assert_array_equal(back["run/names"][:], [b"a", b"bc"])
            assert back["run/ids"].dtype == np.uint32
            np.testing.assert_array_equal(back["run"].attrs["lut"], np.eye(2))


def test_h5py_reads_a_saved_scratch_store_with_its_codec(tmp_path):
    target = str(tmp_path / "saved.h5")
    with scratch_store() as s, larder.open(target, "w") as out:
        larder.copy(s, out, codec="zstd:3")
        events = s["run/events"][:]
    with h5py.File(target, "r") as f:
        np.testing.assert_array_equal(f["run/events"][:], events)
        assert f["run/events"].chunks == (64, 4) and f["run/events"].maxshape == (None, 4)


def test_an_h5_file_is_loaded_into_memory_and_back(tmp_path):
    path = str(tmp_path / "a.h5")
    data = rng().random((500, 3))
    with larder.open(path, "w") as s:
        s.create_array("g/x", data=data, chunks=(64, 3), codec="blosc-lz4")
        s["g"].attrs["seed"] = 7
    with larder.open(path) as f, larder.open(":memory:") as m:
        larder.copy(f, m, "g")  # to its own name
        assert m["g/x"].codec["id"] == "none" and m["g/x"].chunks == (64, 3)
        np.testing.assert_array_equal(m["g/x"][:], data)
        assert m["g"].attrs["seed"] == 7
        m["g/x"][0] = 0
        larder.copy(m["g"], m, target_path="copy")  # a group into another place
        assert m["copy/x"][0, 0] == 0 and m["copy"].attrs["seed"] == 7
        with pytest.raises(larder.InvalidArgumentError, match="exists"):
            larder.copy(f, m, "g")
        with pytest.raises(TypeError):
            larder.copy(f, "not a store")
    with larder.open(path) as f:
        np.testing.assert_array_equal(f["g/x"][:], data)  # the file is untouched


def test_the_cli_refuses_memory_stores(tmp_path, larder_cli):
    path = str(tmp_path / "a.h5")
    with larder.open(path, "w") as s:
        s.create_group("g")
    for args in ([path, ":memory:"], [":memory:", path]):
        out = subprocess.run([larder_cli, "cp", *args], capture_output=True, text=True)
        assert out.returncode != 0 and "memory store" in out.stderr, out.stderr
