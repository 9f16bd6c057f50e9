"""h5py's names on larder's stores, groups and arrays, checked against h5py
itself on the same files: the mapping and visiting methods, create_dataset
and require_dataset with h5py's keywords, maxshape and read_direct."""

import h5py
import numpy as np
import pytest

import larder


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "names.h5")


def write_nested(path):
    with h5py.File(path, "w") as f:
        f["b/x"] = np.arange(6).reshape(2, 3)
        f["b/c/y"] = np.linspace(0, 1, 5)
        f["a"] = np.float64(2.5)
        f.create_group("d/e")


def test_mapping_and_visit_match_h5py(path):
    write_nested(path)

    def first_dataset(name, obj):
        return name if hasattr(obj, "shape") and name != "a" else None

    # libhdf5 is one library in the process: h5py and larder take turns.
    with h5py.File(path, "r") as h:
        want = {"keys": list(h.keys()), "items": [name for name, _ in h.items()],
                "groups": [isinstance(v, h5py.Group) for v in h.values()],
                "x": h.get("b/x").shape, "visit": [], "visit_b": [],
                "first": h.visititems(first_dataset),
                "names": [h.name, h["b"].name, h["b/c/y"].name], "filename": h.filename}
        h.visit(want["visit"].append)
        h["b"].visit(want["visit_b"].append)
    with larder.open(path) as s:
        assert list(s.keys()) == want["keys"]
        assert [name for name, _ in s.items()] == want["items"]
        assert [isinstance(v, larder.Group) for v in s.values()] == want["groups"]
        assert s.get("missing") is None and s.get("missing", 7) == 7
        assert s.get("b/x").shape == want["x"]
        assert s["b"].get("c/y").shape == (5,)
        seen, seen_b = [], []
        s.visit(seen.append)
        s["b"].visit(seen_b.append)
        assert seen == want["visit"]
        assert seen_b == want["visit_b"] == ["c", "c/y", "x"]
        # Both stop at the first callback result that is not None.
        assert s.visititems(first_dataset) == want["first"] == "b/c/y"
        assert s.visit(lambda name: name if name.endswith("e") else None) == "d/e"
        assert s.visititems(lambda name, obj: None) is None
        # .name is the full path, as h5py and zarr give it.
        names = [s.name, s["b"].name, s["b/c/y"].name]
        assert names == want["names"] == ["/", "/b", "/b/c/y"]
        assert s.root.name == "/" and s.filename == want["filename"] == path


def test_create_dataset_takes_h5py_keywords(path):
    rows = np.arange(60, dtype=np.float32).reshape(20, 3)
    with larder.open(path, "w") as s:
        d = s.create_dataset("g/rows", data=rows, chunks=(10, 3), maxshape=(None, 3),
                             compression="gzip", compression_opts=6, shuffle=True,
                             fillvalue=-1.0)
        assert d.maxshape == (None, 3)
        d.append(rows[:5] + 100)
        s["g"].create_dataset("plain", shape=(4,), dtype="i2")
        s.create_dataset("fast", data=rows, compression="lzf")
    with h5py.File(path, "r") as h:
        r = h["g/rows"]
        assert (r.compression, r.compression_opts, r.shuffle) == ("gzip", 6, True)
        assert r.maxshape == (None, 3) and r.chunks == (10, 3) and r.fillvalue == -1.0
        np.testing.assert_array_equal(r[:20], rows)
        np.testing.assert_array_equal(r[20:], rows[:5] + 100)
        assert h["g/plain"].dtype == np.int16 and h["g/plain"].maxshape == (4,)
        assert h["fast"].compression == "lzf"
    with larder.open(path) as s:
        assert s["g/plain"].maxshape == (4,)


def test_create_dataset_refuses_what_larder_cannot_store(path):
    with larder.open(path, "w") as s:
        g = s.create_group("g")
        with pytest.raises(larder.UnsupportedError, match=r"names.h5:/a: maxshape.*axis 0"):
            s.create_dataset("a", shape=(4, 4), dtype="f4", maxshape=(None, None))
        with pytest.raises(larder.UnsupportedError, match=r"names.h5:/g/b: fletcher32=True"):
            g.create_dataset("b", shape=(4,), dtype="f4", fletcher32=True)
        with pytest.raises(larder.UnsupportedError, match=r"names.h5:/c: .*track_order"):
            s.create_dataset("c", shape=(4,), dtype="f4", track_order=True)
        with pytest.raises(larder.UnsupportedError, match=r"names.h5:/d: compression=32001"):
            s.create_dataset("d", shape=(4,), dtype="f4", compression=32001)
        assert list(s.keys()) == ["g"] and list(g.keys()) == []


def test_require_dataset(path):
    with larder.open(path, "w") as s:
        made = s.require_dataset("x", shape=(3, 2), dtype="f8")
        made[...] = np.ones((3, 2))
        again = s.require_dataset("x", shape=(3, 2), dtype="f4")  # f4 casts to f8
        np.testing.assert_array_equal(again[...], np.ones((3, 2)))
        with pytest.raises(larder.TypeMismatchError, match=r"names.h5:/x: .* float32 exactly"):
            s.require_dataset("x", shape=(3, 2), dtype="f4", exact=True)
        with pytest.raises(larder.TypeMismatchError, match=r"names.h5:/x: holds shape \(3, 2\).*\(4, 2\)"):
            s.require_dataset("x", shape=(4, 2), dtype="f8")
        s.create_group("g")
        with pytest.raises(larder.TypeMismatchError, match="names.h5:/g: holds a Group, not an array"):
            s.require_dataset("g", shape=(1,), dtype="f8")


def test_read_direct_matches_h5py(path):
    data = np.arange(40, dtype=np.int32).reshape(8, 5)
    want = np.zeros((10, 5), np.int32)
    with h5py.File(path, "w") as f:
        f["x"] = data
        f["x"].read_direct(want, np.s_[2:6], np.s_[4:8])
    with larder.open(path) as s:
        got = np.zeros((10, 5), np.int32)
        s["x"].read_direct(got, np.s_[2:6], np.s_[4:8])
        np.testing.assert_array_equal(got, want)
        whole = np.empty((8, 5), np.int32)
        s["x"].read_direct(whole)
        np.testing.assert_array_equal(whole, data)
        frozen = np.zeros((8, 5), np.int32)
        frozen.flags.writeable = False
        with pytest.raises(larder.InvalidArgumentError, match=r"names.h5:/x: .*\(read-only\)"):
            s["x"].read_direct(frozen)
        with pytest.raises(larder.InvalidArgumentError, match="not list"):
            s["x"].read_direct([0] * 40)


def test_shuffle_before_a_codec_is_hdf5s_filter(tmp_path):
    path = str(tmp_path / "s.h5")
    data = np.linspace(0, 1, 1000).astype(np.float32)
    with larder.open(path, "w") as s:
        a = s.create_array("x", data=data, chunks=(100,), codec="zstd", shuffle="byte")
        assert a.shuffle and a.storage["filters"].startswith("shuffle+zstd")
        assert not s.create_array("y", data=data, chunks=(100,), codec="gzip").shuffle
        with pytest.raises(larder.UnsupportedError, match=r"s.h5:/z: shuffle 'bit'.*gzip"):
            s.create_array("z", data=data, codec="gzip", shuffle="bit")
        assert "z" not in s
    with h5py.File(path, "r") as h:
        assert h["x"].shuffle and not h["y"].shuffle
        np.testing.assert_array_equal(h["x"][...], data)
    for other, codec in (("s.lmm", None), ("s.zarr", "gzip"), ("s.zarr", None)):
        with larder.open(str(tmp_path / other), "a") as s:
            with pytest.raises(larder.UnsupportedError, match=f"{other}:/x: .*HDF5's"):
                s.create_array("x", data=data, codec=codec, shuffle="byte")
            assert "x" not in s


def test_h5py_shuffle_and_gzip_read_copy_and_keep(tmp_path):
    src, dst, z = (str(tmp_path / n) for n in ("h.h5", "copy.h5", "copy.zarr"))
    data = np.arange(3000, dtype=np.int32).reshape(1000, 3)
    with h5py.File(src, "w") as f:
        f.create_dataset("x", data=data, chunks=(100, 3), compression="gzip",
                         compression_opts=5, shuffle=True)
    with larder.open(src) as s, larder.open(dst, "w") as d, larder.open(z, "w") as zs:
        x = s["x"]
        assert x.shuffle and x.codec["id"] == "gzip" and x.codec["level"] == 5
        np.testing.assert_array_equal(x[...], data)
        larder.copy(s, d)
        larder.copy(s, zs)  # zarr has no shuffle filter: dropped, gzip kept
        assert not zs["x"].shuffle and zs["x"].codec["id"] == "gzip"
        np.testing.assert_array_equal(zs["x"][...], data)
    with h5py.File(dst, "r") as h:
        y = h["x"]
        assert (y.shuffle, y.compression, y.compression_opts) == (True, "gzip", 5)
        np.testing.assert_array_equal(y[...], data)
