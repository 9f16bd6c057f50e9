"""The zarr v2 driver from Python, against Debian's zarr-python 2.13 and
numcodecs 0.11: stores zarr-python writes (every compressor, both chunk key
separators, fill values, groups and attributes, partial and missing chunks)
read by larder identically, stores larder writes read by zarr-python
identically, the StoreGate layout, bad input, and the CLI."""

import json
import os
import subprocess

import numcodecs
import numpy as np
import pytest
import zarr

import larder


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "data.zarr")


def sample(dtype, shape, seed=0):
    """Values of `dtype` that exercise it: signs, fractions, big magnitudes."""
    r = rng(seed)
    dtype = np.dtype(dtype)
    if not dtype.isnative:
        return sample(dtype.newbyteorder("="), shape, seed).astype(dtype)
    if dtype.kind == "b":
        return r.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return r.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    if dtype.kind == "f":
        return (r.standard_normal(shape) * 1000).astype(dtype)
    if dtype.kind == "c":
        return (r.standard_normal(shape) + 1j * r.standard_normal(shape)).astype(dtype)
    if dtype.kind == "S":
        words = [b"", b"a", b"bc", b"defgh", b"xyz"]
        return np.array([words[i % len(words)] for i in range(int(np.prod(shape)))],
                        dtype=dtype).reshape(shape)
    raise AssertionError(dtype)


COMPRESSORS = {
    "none": None,
    "blosc-lz4-noshuffle": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.NOSHUFFLE),
    "blosc-lz4-shuffle": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE),
    "blosc-lz4-bitshuffle": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.BITSHUFFLE),
    "blosc-lz4-autoshuffle": numcodecs.Blosc("lz4", 3, numcodecs.Blosc.AUTOSHUFFLE),
    "blosc-zstd": numcodecs.Blosc("zstd", 3, numcodecs.Blosc.SHUFFLE),
    "blosc-lz4hc": numcodecs.Blosc("lz4hc", 5, numcodecs.Blosc.SHUFFLE),
    "blosc-zlib": numcodecs.Blosc("zlib", 5, numcodecs.Blosc.SHUFFLE),
    "blosc-blocksize": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE, blocksize=256),
    "zstd": numcodecs.Zstd(level=3),
    "lz4": numcodecs.LZ4(acceleration=1),
    "gzip": numcodecs.GZip(level=5),
    "zlib": numcodecs.Zlib(level=1),
}


# --- written by zarr-python, read by larder ------------------------------------

@pytest.mark.parametrize("name", sorted(COMPRESSORS))
@pytest.mark.parametrize("separator", [".", "/"])
def test_zarr_python_arrays_read_identically(path, name, separator):
    data = sample("<f4", (37, 11), seed=1)
    g = zarr.open_group(path, mode="w")
    z = g.create_dataset("x", shape=data.shape, chunks=(8, 4), dtype=data.dtype,
                         compressor=COMPRESSORS[name], dimension_separator=separator)
    z[...] = data
    with larder.open(path) as s:
        assert s.driver == "zarr"
        a = s["x"]
        assert a.shape == data.shape and a.dtype == data.dtype and a.chunks == (8, 4)
        for key in [np.s_[...], np.s_[10:20, ::2], np.s_[[5, 1, 5]], np.s_[-1], np.s_[::-3, 4],
                    np.s_[data[:, 0] > 0], np.s_[3, 7], np.s_[:, [10, 0]], np.s_[33:]]:
            np.testing.assert_array_equal(a[key], data[key])
        np.testing.assert_array_equal(a.gather([36, 0, 17, 0]), data[[36, 0, 17, 0]])
        assert a.storage["stored_bytes"] == sum(
            os.path.getsize(os.path.join(root, f))
            for root, _, files in os.walk(os.path.join(path, "x")) for f in files
            if not f.startswith("."))


@pytest.mark.parametrize("dtype", ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8",
                                   "<f2", "<f4", "<f8", "<c8", "<c16", "|S6", ">i4", ">f8",
                                   ">c16", ">u2"])
def test_every_dtype_written_by_zarr_python_reads_identically(path, dtype):
    data = sample(dtype, (20, 3), seed=2)
    g = zarr.open_group(path, mode="w")
    g.create_dataset("x", data=data, chunks=(6, 2), dtype=dtype, compressor=numcodecs.Zstd())
    assert json.load(open(os.path.join(path, "x", ".zarray")))["dtype"] == dtype
    with larder.open(path) as s:
        got = s["x"][...]
        assert got.dtype == np.dtype(dtype).newbyteorder("=") or got.dtype.kind == "S"
        np.testing.assert_array_equal(got, data)
        np.testing.assert_array_equal(s["x"][[19, 2, 2]], data[[19, 2, 2]])


def test_fill_values_partial_and_missing_chunks(path):
    g = zarr.open_group(path, mode="w")
    f = g.create_dataset("f", shape=(10, 3), chunks=(4, 2), dtype="f8", fill_value=np.nan)
    f[5, 1] = 2.5  # one chunk written, the others missing
    g.create_dataset("i", shape=(7,), chunks=(3,), dtype="i2", fill_value=-3)[0:2] = [1, 2]
    g.create_dataset("s", shape=(4,), chunks=(3,), dtype="S5", fill_value=b"ab")[3] = b"xyz"
    g.create_dataset("c", shape=(3,), dtype="c8", fill_value=1 + 2j)
    g.create_dataset("inf", shape=(2,), dtype="f4", fill_value=-np.inf)
    g.create_dataset("b", shape=(3,), dtype="?", fill_value=True)
    g.create_dataset("h", shape=(2,), dtype="f2", fill_value=1.5)
    g.create_dataset("none", shape=(3,), dtype="i4", fill_value=None)
    with larder.open(path) as s:
        for name in ("f", "i", "s", "c", "inf", "b", "h"):
            np.testing.assert_array_equal(s[name][...], g[name][...], err_msg=name)
        assert np.isnan(s["f"].fill_value) and s["i"].fill_value == -3
        assert s["s"].fill_value == "ab" and s["c"].fill_value == [1.0, 2.0]
        assert s["inf"].fill_value == -np.inf and s["b"].fill_value is True
        np.testing.assert_array_equal(s["none"][...], [0, 0, 0])  # null: zeros
        assert sorted(os.listdir(os.path.join(path, "f"))) == [".zarray", "1.0"]


def test_groups_attributes_and_storegate_layout(path):
    # As multiml's ZarrDatabase: zarr.open_group, one group per data_id and
    # phase, arrays chunked by rows and appended to.
    root = zarr.open_group(path, mode="a")
    root.attrs.update({"creator": "storegate", "nested": {"k": [1, 2.5, None]}, "nan": np.nan})
    data = {}
    for phase, n in (("train", 70), ("valid", 20), ("test", 10)):
        g = root.require_group(f"run1/{phase}")
        g.attrs["phase"] = phase
        for var, cols in (("jets", 4), ("label", None)):
            shape = (n, cols) if cols else (n,)
            values = sample("<f4", shape, seed=len(phase) + (cols or 0))
            z = g.create_dataset(var, shape=(0,) + shape[1:], chunks=(16,) + shape[1:],
                                 dtype="<f4")
            z.append(values[: n // 2])
            z.append(values[n // 2:])
            data[f"run1/{phase}/{var}"] = values
    with larder.open(path) as s:
        assert s.keys() == ["run1"] and s["run1"].keys() == ["test", "train", "valid"]
        visited = []
        s.visit(visited.append)
        assert "run1/train/jets" in visited and len(visited) == 1 + 3 + 6
        assert s.attrs["creator"] == "storegate"
        assert s.attrs["nested"] == {"k": [1, 2.5, None]}
        assert np.isnan(s.attrs["nan"])
        assert s["run1/valid"].attrs["phase"] == "valid"
        for key, values in data.items():
            np.testing.assert_array_equal(s[key][...], values)
            assert s[key].chunks[0] == 16
        assert "run1/train/jets" in s and "run1/train/nope" not in s
    # larder appends where StoreGate left off; zarr-python sees it.
    with larder.open(path, "a") as s:
        s["run1/train/jets"].append(np.ones((5, 4), dtype="<f4"))
        s["run1/test"].attrs["seen"] = True
    z = zarr.open_group(path, mode="r")
    assert z["run1/train/jets"].shape == (75, 4)
    np.testing.assert_array_equal(z["run1/train/jets"][70:], 1)
    assert z["run1/test"].attrs["seen"] is True


def test_fortran_order_arrays_read_identically(path):
    data = sample("<i8", (9, 7), seed=4)
    g = zarr.open_group(path, mode="w")
    g.create_dataset("x", data=data, chunks=(4, 3), order="F", compressor=numcodecs.Blosc())
    with larder.open(path, "r+") as s:
        np.testing.assert_array_equal(s["x"][...], data)
        s["x"][2, 5] = -1
    data[2, 5] = -1
    np.testing.assert_array_equal(zarr.open_group(path, "r")["x"][...], data)


def test_unsupported_zarr_features_raise_clearly(path):
    g = zarr.open_group(path, mode="w")
    g.create_dataset("text", data=np.array(["a", "bc"], dtype=object), dtype=str)
    g.create_dataset("delta", data=np.arange(5), filters=[numcodecs.Delta(dtype="<i8")])
    g.create_dataset("u", data=np.array(["ab", "c"], dtype="<U2"))
    g.create_dataset("ok", data=np.arange(3))
    with larder.open(path) as s:
        assert s.keys() == ["delta", "ok", "text", "u"]
        with pytest.raises(larder.UnsupportedError, match="objects"):
            s["text"][...]
        with pytest.raises(larder.UnsupportedError, match="delta"):
            s["delta"][...]
        with pytest.raises(larder.UnsupportedError, match="<U2"):
            s["u"][...]
        np.testing.assert_array_equal(s["ok"][...], np.arange(3))
    zarr.open(os.path.join(os.path.dirname(path), "root_array.zarr"), mode="w", shape=(3,))
    with pytest.raises(larder.UnsupportedError, match="root is an array"):
        larder.open(os.path.join(os.path.dirname(path), "root_array.zarr"))


# --- written by larder, read by zarr-python --------------------------------------

CODECS = {
    "none": {"codec": None},
    "blosc-lz4": {"codec": "blosc-lz4", "level": 5, "shuffle": "byte"},
    "blosc-lz4-bit": {"codec": "blosc-lz4", "level": 3, "shuffle": "bit"},
    "blosc-zstd": {"codec": "blosc-zstd", "level": 3, "shuffle": "none"},
    "zstd": {"codec": "zstd:5"},
    "lz4": {"codec": "lz4"},
    "gzip": {"codec": "gzip", "level": 6},
    "gzip-framed": {"codec": {"id": "gzip", "format": "gzip"}},
}


@pytest.mark.parametrize("name", sorted(CODECS))
@pytest.mark.parametrize("separator", [".", "/"])
def test_larder_arrays_read_identically_in_zarr_python(path, name, separator):
    data = sample("<f8", (53, 9), seed=5)
    with larder.open(path, "w", dimension_separator=separator) as s:
        a = s.create_array("g/x", data=data, chunks=(10, 4), **CODECS[name])
        a.attrs["units"] = "m"
        a.attrs["lut"] = np.arange(6).reshape(2, 3)
    z = zarr.open_group(path, mode="r")
    x = z["g/x"]
    assert x.chunks == (10, 4) and x.dtype == np.dtype("<f8")
    np.testing.assert_array_equal(x[...], data)
    assert x.attrs["units"] == "m" and x.attrs["lut"] == [[0, 1, 2], [3, 4, 5]]
    expected = None if name == "none" else x.compressor.codec_id
    assert (x.compressor.codec_id if x.compressor else None) == expected
    first = "1/2" if separator == "/" else "1.2"
    assert os.path.isfile(os.path.join(path, "g", "x", *first.split("/")))
    if separator == ".":  # zarr-python 2.13 counts only the top level of nested keys
        assert x.nchunks_initialized == 6 * 3


@pytest.mark.parametrize("dtype", ["|b1", "|i1", "<i2", "<i8", "|u1", "<u4", "<u8", "<f2", "<f4",
                                   "<c8", "<c16", "|S4"])
def test_every_dtype_written_by_larder_reads_identically(path, dtype):
    data = sample(dtype, (25, 2), seed=6)
    with larder.open(path, "w") as s:
        s.create_array("x", data=data, chunks=(7, 2), codec="blosc-zstd")
    z = zarr.open_group(path, mode="r")["x"]
    assert z.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(z[...], data)


def test_fill_values_written_by_larder(path):
    with larder.open(path, "w") as s:
        s.create_array("f", shape=(10,), dtype="f4", chunks=(4,), fill_value=np.nan)
        s["f"][5] = 1
        s.create_array("i", shape=(5,), dtype="u2", fill_value=7)
        s.create_array("s", shape=(3,), dtype="S3", fill_value=b"ab")
        s.create_array("c", shape=(2,), dtype="c16", fill_value=complex(1, -1))
        s.create_array("z", shape=(2,), dtype="i8")
    z = zarr.open_group(path, mode="r")
    expected = np.full(10, np.nan, dtype="f4")
    expected[5] = 1
    np.testing.assert_array_equal(z["f"][...], expected)
    assert np.isnan(z["f"].fill_value) and z["i"].fill_value == 7
    np.testing.assert_array_equal(z["i"][...], [7] * 5)
    np.testing.assert_array_equal(z["s"][...], [b"ab"] * 3)
    np.testing.assert_array_equal(z["c"][...], [1 - 1j] * 2)
    assert z["z"].fill_value == 0
    assert z["f"].nchunks_initialized == 1  # chunks never written stay missing


def test_appends_and_resizes_match_zarr_python(path):
    with larder.open(path, "w") as s:
        a = s.create_array("x", shape=(0, 3), dtype="i8", chunks=(5, 3), codec="zstd",
                           extendable=True)
        for i in range(20):
            a.append(np.full((i % 4 + 1, 3), i))
        expected = np.concatenate([np.full((i % 4 + 1, 3), i) for i in range(20)])
        np.testing.assert_array_equal(zarr.open_group(path, "r")["x"][...], expected)
        a.resize((12, 2))  # shrinks both axes: chunks outside are deleted, like zarr does
        z = zarr.open_group(path, "r")["x"]
        assert z.shape == (12, 2) and z.nchunks_initialized == 3
        np.testing.assert_array_equal(z[...], expected[:12, :2])
        a.resize((15, 3))
        grown = np.zeros((15, 3), dtype="i8")
        grown[:12, :2] = expected[:12, :2]
        np.testing.assert_array_equal(zarr.open_group(path, "r")["x"][...], grown)
        np.testing.assert_array_equal(a[...], grown)
    # And the other way: zarr-python appends to what larder wrote.
    zarr.open_group(path, "a")["x"].append(np.full((2, 3), 99))
    with larder.open(path) as s:
        assert s["x"].shape == (17, 3)
        np.testing.assert_array_equal(s["x"][15:], 99)


def test_consolidated_metadata_is_removed_when_larder_changes_metadata(path):
    g = zarr.open_group(path, mode="w")
    g.create_dataset("x", data=np.arange(10), chunks=(4,))
    zarr.consolidate_metadata(path)
    with larder.open(path, "r+") as s:
        s["x"][0:2] = [7, 8]  # chunk data only: the consolidated metadata stays valid
        assert os.path.exists(os.path.join(path, ".zmetadata"))
        np.testing.assert_array_equal(zarr.open_consolidated(path, mode="r")["x"][:3], [7, 8, 2])
        s["x"].append(np.array([10]))
        assert not os.path.exists(os.path.join(path, ".zmetadata"))
    assert zarr.open_group(path, "r")["x"].shape == (11,)


def test_large_array_both_ways(path):
    data = (rng(7).standard_normal((4096, 1024)) * 100).round().astype("<f4")  # 16 MiB
    with larder.open(path, "w") as s:
        a = s.create_array("x", shape=(0, 1024), dtype="f4", codec="blosc-lz4", extendable=True)
        for i in range(0, 4096, 1000):
            a.append(data[i:i + 1000])
    np.testing.assert_array_equal(zarr.open_group(path, "r")["x"][...], data)
    zarr.open_group(path, "a")["x"][100:200] = -1
    data[100:200] = -1
    with larder.open(path) as s:
        np.testing.assert_array_equal(s["x"][...], data)
        ids = rng(8).integers(0, 4096, 5000)
        np.testing.assert_array_equal(s["x"].gather(ids), data[ids])


# --- bad input -------------------------------------------------------------------

@pytest.fixture
def stored(path):
    g = zarr.open_group(path, mode="w")
    g.create_dataset("x", data=np.arange(20.0).reshape(10, 2), chunks=(4, 2),
                     compressor=numcodecs.Zstd())
    g.create_dataset("raw", data=np.arange(8), chunks=(4,), compressor=None)
    return path


def read(path, name):
    with larder.open(path) as s:
        return s[name][...]


def test_metadata_that_does_not_parse_is_corrupt(stored):
    with open(os.path.join(stored, "x", ".zarray"), "w") as f:
        f.write('{"zarr_format": 2, "shape": [')
    with pytest.raises(larder.CorruptError, match=r"x/\.zarray.*not valid JSON"):
        read(stored, "x")
    np.testing.assert_array_equal(read(stored, "raw"), np.arange(8))  # the others still read


@pytest.mark.parametrize("key, value", [("shape", [-1, 2]), ("chunks", [0, 2]), ("dtype", 8),
                                        ("order", "Z"), ("fill_value", "zero"), ("shape", "10")])
def test_metadata_with_wrong_fields_is_corrupt(stored, key, value):
    meta_path = os.path.join(stored, "x", ".zarray")
    meta = json.load(open(meta_path))
    meta[key] = value
    json.dump(meta, open(meta_path, "w"))
    with pytest.raises(larder.CorruptError, match=r"\.zarray"):
        read(stored, "x")


def test_damaged_chunks_are_corrupt_naming_the_file(stored):
    with open(os.path.join(stored, "raw", "1"), "wb") as f:
        f.write(b"\0" * 31)
    with pytest.raises(larder.CorruptError, match=r"raw/1.*31 bytes"):
        read(stored, "raw")
    chunk = os.path.join(stored, "x", "1.0")
    good = open(chunk, "rb").read()
    with open(chunk, "wb") as f:
        f.write(good[: len(good) // 2])
    with pytest.raises(larder.CorruptError, match=r"x/1\.0"):
        read(stored, "x")
    with larder.open(stored, "r+") as s:
        with pytest.raises(larder.CorruptError):
            s["x"][5, 0] = 1  # must read the damaged chunk first: nothing is written
        np.testing.assert_array_equal(s["x"][:4], np.arange(8.0).reshape(4, 2))
    assert open(chunk, "rb").read() == good[: len(good) // 2]


def test_unknown_compressor_is_unsupported(stored):
    meta_path = os.path.join(stored, "x", ".zarray")
    meta = json.load(open(meta_path))
    meta["compressor"] = {"id": "bz2", "level": 9}
    json.dump(meta, open(meta_path, "w"))
    with pytest.raises(larder.UnsupportedError, match="bz2"):
        read(stored, "x")


def test_modes(tmp_path):
    path = str(tmp_path / "m.zarr")
    with pytest.raises(larder.NotFoundError):
        larder.open(path, "r")
    larder.open(path, "w").close()
    with pytest.raises(larder.IOError):
        larder.open(path, "w-")
    with larder.open(path, "a") as s:
        s.create_group("g")
    assert list(zarr.open_group(path, "r").group_keys()) == ["g"]
    with pytest.raises(larder.InvalidArgumentError):
        larder.open(path, "w", dimension_separator="-")


# --- the command line --------------------------------------------------------------

def test_cli_copies_between_hdf5_and_zarr(tmp_path, larder_cli):
    data = rng().random((300, 5))
    h5, zr, back = (str(tmp_path / n) for n in ("a.h5", "b.zarr", "c.h5"))
    with larder.open(h5, "w") as s:
        s.create_array("g/x", data=data, chunks=(64, 5), codec="blosc-lz4", extendable=True)
        s["g/x"].attrs["units"] = "m"
    for src, dst in ((h5, zr), (zr, back)):
        out = subprocess.run([larder_cli, "cp", src + ":g", dst], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    info = subprocess.run([larder_cli, "info", zr], capture_output=True, text=True)
    assert info.returncode == 0 and "zarr" in info.stdout and "x" in info.stdout, info.stderr
    z = zarr.open_group(zr, "r")
    np.testing.assert_array_equal(z["g/x"][...], data)
    assert z["g/x"].attrs["units"] == "m" and z["g/x"].compressor.cname == "lz4"
    with larder.open(back) as s:
        np.testing.assert_array_equal(s["g/x"][:], data)


def test_a_symlink_back_to_an_enclosing_group_is_not_entered(tmp_path):
    path = str(tmp_path / "loop.zarr")
    with larder.open(path, "w") as s:
        s.create_array("a/x", data=np.arange(3))
    os.symlink("..", os.path.join(path, "a", "loop"))
    with larder.open(path) as s:
        seen = []
        s.visit(seen.append)
        assert seen == ["a", "a/loop", "a/x"]
        assert "loop/  (a link to a group it is inside of)" in s.tree()
