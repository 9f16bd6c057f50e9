"""The store from Python: numpy-style access, and HDF5 files shared both ways
with h5py (+ hdf5plugin's filters) and PyTables, values compared exactly."""

import subprocess
import sys

import h5py
import hdf5plugin
import numpy as np
import pytest
import tables

import larder


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "data.h5")


# --- numpy-style access -------------------------------------------------------

def test_indexing_reads_like_numpy(path):
    data = rng().random((50, 12), dtype=np.float32)
    with larder.open(path, "w") as s:
        a = s.create_array("x", data=data, chunks=(8, 5), codec="blosc-lz4")
        for key in [np.s_[10:20, ::2], np.s_[[5, 1, 5]], np.s_[...], np.s_[-1], np.s_[::-3, 4],
                    np.s_[data[:, 0] > 0.5], np.s_[3, 7], np.s_[:, [11, 0]], np.s_[40:]]:
            np.testing.assert_array_equal(a[key], data[key])
        np.testing.assert_array_equal(np.asarray(a), data)
        assert a.shape == (50, 12) and a.dtype == np.float32 and a.chunks == (8, 5) and len(a) == 50
        assert a.codec["id"] == "blosc-lz4" and a.ndim == 2


def test_assignment_and_append_like_numpy(path):
    with larder.open(path, "w") as s:
        a = s.create_array("x", shape=(0, 3), dtype="i8", extendable=True, codec="zstd")
        a.append(np.arange(30).reshape(10, 3))
        a.append([100, 101, 102])  # one row
        a[0:2] = -1
        a[[9, 3], 1] = [7, 8]
        expected = np.vstack([np.arange(30).reshape(10, 3), [[100, 101, 102]]])
        expected[0:2] = -1
        expected[[9, 3], 1] = [7, 8]
        np.testing.assert_array_equal(a[...], expected)
    with larder.open(path) as s:
        np.testing.assert_array_equal(s["x"][...], expected)


def test_groups_attrs_membership_and_tree(path):
    with larder.open(path, "w") as s:
        s.create_group("runs/a")
        s.create_array("runs/a/v", data=np.arange(4.0))
        s["runs"].attrs["seed"] = 42
        s["runs"].attrs["params"] = {"n": 3, "names": ["x", "y"]}
        s["runs/a/v"].attrs["unit"] = "m"
        s["runs/a/v"].attrs["limits"] = np.array([0.5, 2.5])
        assert "runs/a/v" in s and "runs/b" not in s
        assert list(s["runs"]) == ["a"]
        del s["runs/a/v"]
        assert "runs/a/v" not in s
        s.create_array("runs/a/v", data=np.arange(4.0))
        text = s.tree()
        assert "runs/" in text and "(4,) float64" in text
    with larder.open(path) as s:
        attrs = s["runs"].attrs
        assert attrs["seed"] == 42 and attrs["params"] == {"n": 3, "names": ["x", "y"]}
        assert set(attrs) == {"seed", "params"} and len(attrs) == 2
        assert attrs.get("missing", 5) == 5


def test_bad_input_raises_mapped_errors_and_changes_nothing(path, tmp_path):
    with larder.open(path, "w") as s:
        a = s.create_array("x", data=np.arange(10))
        with pytest.raises(IndexError):
            a[10]
        with pytest.raises(larder.OutOfRangeError):
            a[[0, 11]]
        with pytest.raises(ValueError):
            a[0:3] = np.arange(4)
        with pytest.raises(KeyError) as info:
            s["nope"]
        assert "x" in str(info.value)
        with pytest.raises(ValueError, match=r"\(5, 0\)"):
            s.create_array("c", shape=(10, 4), dtype="f4", chunks=(5, 0))
        assert "c" not in s
        with pytest.raises(ValueError):
            a.append([1])  # not extendable
        np.testing.assert_array_equal(a[...], np.arange(10))
    notes = tmp_path / "notes.h5"
    notes.write_text("not hdf5")
    with pytest.raises(OSError) as info:
        larder.open(str(notes), "r+")
    assert isinstance(info.value, larder.CorruptError) and str(notes) in str(info.value)
    assert notes.read_text() == "not hdf5"
    with pytest.raises(KeyError):
        larder.open(str(tmp_path / "missing.h5"))
    with pytest.raises(OSError):
        larder.open(path, "w-")


# --- larder writes, h5py and PyTables read ------------------------------------------

WRITE_CASES = [
    ("none", {}),
    ("blosc-lz4", {}),
    ("blosc-zstd", {"shuffle": "bit"}),
    ("lz4", {}),
    ("gzip", {}),
    ("lzf", {}),
    ("zstd", {}),
]


@pytest.mark.parametrize("codec, extra", WRITE_CASES)
def test_h5py_and_pytables_read_what_larder_writes(path, codec, extra):
    data = rng(1).normal(size=(3000, 7)).astype(np.float32)
    with larder.open(path, "w") as s:
        s.create_array("grid", data=data, chunks=(512, 7), codec=codec, **extra)
        ext = s.create_array("events", shape=(0, 7), dtype="f4", chunks=(256, 7), codec=codec,
                             extendable=True, **extra)
        for start in range(0, 3000, 700):
            ext.append(data[start:start + 700])
    with larder.open(path) as s:
        filter_id = {"none": 0, "lz4": 32004, "gzip": 1, "lzf": 32000, "zstd": 32015}.get(codec, 32001)
    if filter_id and not h5py.h5z.filter_avail(filter_id):
        pytest.skip(f"this machine's HDF5 has no plugin for filter {filter_id}; Debian ships none for zstd")
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["grid"][...], data)
        np.testing.assert_array_equal(f["events"][...], data)
        assert f["events"].maxshape == (None, 7)
    with tables.open_file(path) as t:
        np.testing.assert_array_equal(t.root.grid.read(), data)
        np.testing.assert_array_equal(t.root.events.read(), data)


def test_h5py_reads_every_dtype_larder_writes(path):
    arrays = {
        "b": np.array([True, False, True]),
        "i1": np.array([-1, 2, 3], dtype="i1"), "u2": np.array([1, 2, 65535], dtype="u2"),
        "i8": np.array([-(2**62), 0, 2**62]), "f2": np.array([0.5, -2, 65504], dtype="f2"),
        "c8": np.array([1 + 2j, -3j], dtype="c8"), "c16": np.array([1e300 + 1j]),
        "s": np.array([b"ab", b"cdef"]), "be": np.arange(5, dtype=">f4"),
    }
    with larder.open(path, "w") as s:
        for name, value in arrays.items():
            s.create_array(name, data=value)
        s.create_array("scalar", data=np.float64(2.5))
        s.create_array("v", data=np.array(["x", "longer text", ""], dtype=object))
        s.attrs["flag"] = True
        s.attrs["text"] = "hello"
        s.attrs["nums"] = [1, 2, 3]
    with h5py.File(path, "r") as f:
        for name, value in arrays.items():
            got = f[name][...]
            assert got.dtype == value.dtype, name
            np.testing.assert_array_equal(got, value)
        assert f["scalar"][()] == 2.5
        assert [x.decode() for x in f["v"][...]] == ["x", "longer text", ""]
        assert f.attrs["flag"] == True  # noqa: E712 - a numpy bool
        assert f.attrs["text"] == "hello"
        np.testing.assert_array_equal(f.attrs["nums"], [1, 2, 3])


# --- h5py and PyTables write, larder reads ------------------------------------------

H5PY_CASES = {
    "contiguous": {},
    "chunked": {"chunks": (100, 3)},
    "compact": {"compact": True},
    "deflate": {"chunks": (100, 3), "compression": "gzip", "compression_opts": 4},
    "shuffle+deflate": {"chunks": (64, 3), "compression": "gzip", "shuffle": True},
    "fletcher32": {"chunks": (64, 3), "fletcher32": True},
    "lzf": {"chunks": (64, 3), "compression": "lzf"},
    "blosc": {"chunks": (64, 3), **hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE)},
    "blosc-bit-zstd": {"chunks": (64, 3), **hdf5plugin.Blosc(cname="zstd", clevel=3,
                                                            shuffle=hdf5plugin.Blosc.BITSHUFFLE)},
    "blosclz": {"chunks": (64, 3), **hdf5plugin.Blosc()},
    "lz4": {"chunks": (64, 3), **hdf5plugin.LZ4()},
    "resizable": {"chunks": (50, 3), "maxshape": (None, 3)},
}


@pytest.mark.parametrize("case", sorted(H5PY_CASES))
def test_larder_reads_what_h5py_writes(path, case):
    data = rng(2).integers(-1000, 1000, size=(500, 3)).astype(np.int32)
    options = dict(H5PY_CASES[case])
    with h5py.File(path, "w") as f:
        if options.pop("compact", False):
            data = data[:20]
            space = h5py.h5s.create_simple(data.shape)
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_layout(h5py.h5d.COMPACT)
            dset = h5py.h5d.create(f.id, b"x", h5py.h5t.STD_I32LE, space, dcpl=dcpl)
            dset.write(h5py.h5s.ALL, h5py.h5s.ALL, data)
        else:
            f.create_dataset("x", data=data, **options)
    with larder.open(path) as s:
        x = s["x"]
        np.testing.assert_array_equal(x[...], data)
        np.testing.assert_array_equal(x[[7, 2, 7, 499 % len(data)]], data[[7, 2, 7, 499 % len(data)]])
        np.testing.assert_array_equal(x[::-5, 1], data[::-5, 1])


def test_larder_appends_to_an_h5py_resizable_dataset(path):
    data = np.arange(350 * 2, dtype=np.float64).reshape(350, 2)
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=data[:130], chunks=(50, 2), maxshape=(None, 2), compression="gzip")
    with larder.open(path, "a") as s:
        s["x"].append(data[130:])
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["x"][...], data)
    with larder.open(path) as s:
        np.testing.assert_array_equal(s["x"][...], data)


def test_a_writer_that_dies_loses_no_appended_row(path):
    # The child appends, then leaves with os._exit: nothing is flushed or
    # closed, so the file is what kill -9 would leave.
    child = f"""
import os, sys, numpy as np
sys.path[:0] = {sys.path!r}
import larder
s = larder.open({path!r}, "w")
a = s.create_array("x", shape=(0, 3), dtype="int64", chunks=(16, 3), codec="zstd", extendable=True)
a.attrs["run"] = 7
for i in range(0, 1000, 37):
    a.append(np.arange(i * 3, min(i + 37, 1000) * 3).reshape(-1, 3))
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", child], check=True)
    want = np.arange(3000).reshape(1000, 3)
    with larder.open(path) as s:  # read-only: the journal is the truth
        np.testing.assert_array_equal(s["x"][...], want)
    with larder.open(path, "a"):  # a writable open repairs libhdf5's view
        pass
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["x"][...], want)
        assert f["x"].attrs["run"] == 7


def test_larder_reads_h5py_types_links_and_attributes(path, tmp_path):
    other = str(tmp_path / "other.h5")
    with h5py.File(other, "w") as f:
        f["far"] = np.arange(3)
    with h5py.File(path, "w") as f:
        g = f.create_group("a/b")
        g["bools"] = np.array([True, False])
        g["c"] = np.array([1 + 1j, 2 - 2j])
        g["half"] = np.array([0.25, 8], dtype="f2")
        g["big"] = np.arange(4, dtype=">i4")
        g["fixed"] = np.array([b"x", b"yz"])
        g["vlen"] = np.array(["one", "two"], dtype=h5py.string_dtype())
        g["scalar"] = 7.0
        f["soft"] = h5py.SoftLink("/a/b/c")
        f["ext"] = h5py.ExternalLink(other, "/far")
        f["dangling"] = h5py.SoftLink("/nowhere")
        g.attrs.update({"i": 3, "f": 1.5, "s": "txt", "b": True, "arr": np.arange(3),
                        "strs": ["a", "b"], "bs": b"raw"})
    with larder.open(path) as s:
        b = s["a/b"]
        np.testing.assert_array_equal(b["bools"][...], [True, False])
        np.testing.assert_array_equal(b["c"][...], [1 + 1j, 2 - 2j])
        np.testing.assert_array_equal(b["half"][...], np.array([0.25, 8], dtype="f2"))
        np.testing.assert_array_equal(b["big"][...], np.arange(4))
        assert b["big"].dtype == np.dtype(">i4")
        assert list(b["fixed"][...]) == [b"x", b"yz"]
        assert list(b["vlen"][...]) == ["one", "two"]
        assert b["scalar"][()] == 7.0
        np.testing.assert_array_equal(s["soft"][...], [1 + 1j, 2 - 2j])
        np.testing.assert_array_equal(s["ext"][...], [0, 1, 2])
        assert "dangling" not in s and "dangling" not in list(s)
        attrs = b.attrs
        assert attrs["i"] == 3 and attrs["f"] == 1.5 and attrs["s"] == "txt" and attrs["b"] is True
        np.testing.assert_array_equal(attrs["arr"], [0, 1, 2])
        assert attrs["strs"] == ["a", "b"] and attrs["bs"] == "raw"
    with larder.open(path, untrusted=True) as s:
        with pytest.raises(NotImplementedError):  # external links are not followed when untrusted
            s["ext"]
        assert "ext" not in list(s)
        np.testing.assert_array_equal(s["soft"][...], [1 + 1j, 2 - 2j])


def test_larder_reads_what_pytables_writes(path):
    data = rng(3).random((1000, 4))
    with tables.open_file(path, "w") as t:
        filters = tables.Filters(complevel=5, complib="blosc:lz4", shuffle=True)
        e = t.create_earray("/", "e", atom=tables.Float64Atom(), shape=(0, 4), filters=filters)
        e.append(data[:600])
        e.append(data[600:])
        t.create_carray("/", "c", obj=data, filters=tables.Filters(complevel=3, complib="zlib"))
        t.create_array("/", "plain", obj=data[:10])
    with larder.open(path) as s:
        np.testing.assert_array_equal(s["e"][...], data)
        np.testing.assert_array_equal(s["c"][[999, 0, 500]], data[[999, 0, 500]])
        np.testing.assert_array_equal(s["plain"][...], data[:10])
        assert s["e"].codec == {"id": "blosc-lz4", "level": 5, "shuffle": "byte", "typesize": 8}


def test_in_memory_store_with_write_back(path):
    with larder.open(path, "w", in_memory=True, write_back=True) as s:
        s.create_array("x", data=np.arange(5))
    with h5py.File(path) as f:
        np.testing.assert_array_equal(f["x"][...], np.arange(5))


# --- the CLI ------------------------------------------------------------------------

def test_cli_info_cat_and_cp(path, tmp_path, larder_cli):
    data = rng(4).random((1000, 3)).astype(np.float32)
    with larder.open(path, "w") as s:
        s.create_array("g/x", data=data, codec="blosc-lz4", chunks=(100, 3))
        s["g"].attrs["note"] = "hi"
    out = subprocess.run([larder_cli, "info", path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "(1000, 3)" in out.stdout and "blosc-lz4" in out.stdout and "chunks=(100, 3)" in out.stdout
    out = subprocess.run([larder_cli, "cat", f"{path}:g/x", "--slice", "[5, 0]", "--format", "csv"],
                         capture_output=True, text=True)
    rows = [list(map(float, line.split(","))) for line in out.stdout.splitlines()]
    np.testing.assert_allclose(rows, data[[5, 0]], rtol=1e-6)
    npy = subprocess.run([larder_cli, "cat", f"{path}:g/x", "--slice", "10:20", "--format", "npy"],
                         capture_output=True)
    npy_path = tmp_path / "x.npy"
    npy_path.write_bytes(npy.stdout)
    np.testing.assert_array_equal(np.load(npy_path), data[10:20])
    target = str(tmp_path / "copy.h5")
    out = subprocess.run([larder_cli, "cp", f"{path}:g", target, "--codec", "zstd:1"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    with larder.open(target) as s:
        np.testing.assert_array_equal(s["g/x"][...], data)
        assert s["g/x"].codec["id"] == "zstd" and s["g"].attrs["note"] == "hi"
    out = subprocess.run([larder_cli, "cat", f"{path}:g/nope"], capture_output=True, text=True)
    assert out.returncode == 1 and "members: x" in out.stderr and out.stderr.count("\n") == 1
    out = subprocess.run([larder_cli, "info", path, "--json"], capture_output=True, text=True)
    import json
    nodes = {n["path"]: n for n in json.loads(out.stdout)["nodes"]}
    assert nodes["/g/x"]["shape"] == [1000, 3] and nodes["/g"]["attrs"] == {"note": "hi"}


def test_hard_link_cycles_are_listed_not_followed(path, tmp_path, larder_cli):
    with h5py.File(path, "w") as f:
        f["a/x"] = np.arange(3)
        f["a/loop"] = f["a"]  # /a is its own member
    with larder.open(path) as s:
        seen = []
        s.visit(seen.append)
        assert seen == ["a", "a/loop", "a/x"]
        assert "loop/  (a link to a group it is inside of)" in s.tree()
        np.testing.assert_array_equal(s["a/loop/loop/x"][...], np.arange(3))
        with larder.open(str(tmp_path / "copy.h5"), "w") as t:
            with pytest.raises(larder.UnsupportedError, match="cycle"):
                larder.copy(s, t, "a")
            assert "a" not in t
    out = subprocess.run([larder_cli, "info", path], capture_output=True, text=True)
    assert out.returncode == 0 and "loop" in out.stdout, out.stderr
    dm = larder.DataManager(str(tmp_path), out_dir=False)
    with pytest.raises(larder.UnsupportedError, match="cycle"):
        dm.load("f", loader="hdf5", glob_str="data.h5", required=True)


def test_fill_values_h5py_sets_read_back_exactly(path):
    with h5py.File(path, "w") as f:
        f.create_dataset("half", shape=(3,), dtype="f2", fillvalue=1.5)
        f.create_dataset("pair", shape=(3,), dtype="c16", fillvalue=1 - 2j)
    with larder.open(path) as s:
        assert s["half"].fill_value == 1.5
        assert s["pair"].fill_value == [1.0, -2.0]
        np.testing.assert_array_equal(s["pair"][...], np.full(3, 1 - 2j))


def test_complex_fill_values_from_python(path):
    with larder.open(path, "w") as s:
        a = s.create_array("c", shape=(3,), dtype="c8", fill_value=1 - 2j)
        assert a.fill_value == [1.0, -2.0]
        np.testing.assert_array_equal(a[...], np.full(3, 1 - 2j, dtype="c8"))
    with h5py.File(path, "r") as f:
        assert f["c"].fillvalue == 1 - 2j


def test_complex_attributes_stay_complex(path):
    with larder.open(path, "w") as s:
        g = s.create_group("g")
        g.attrs["z"] = np.complex64(1 + 2j)
        g.attrs["w"] = 3 - 4j
        assert g.attrs["z"] == 1 + 2j and g.attrs["w"] == 3 - 4j
    with h5py.File(path, "r") as f:
        assert f["g"].attrs["w"] == 3 - 4j and f["g"].attrs["z"].dtype == np.complex64
