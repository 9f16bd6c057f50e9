"""The memory-mapped driver from Python: .lmm directories with the same API
as HDF5, zero-copy read-only views, appends, bad input, memmpy directories
written here exactly as memmpy 0.1.3 writes them, and the CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import larder
from conftest import hash_64bit, write_memmpy


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "data.lmm")


def rng(seed=0):
    return np.random.default_rng(seed)


# --- the Store API -------------------------------------------------------------

def test_round_trip_with_the_hdf5_api(path):
    data = rng().random((50, 12), dtype=np.float32)
    with larder.open(path, "w") as s:
        assert s.driver == "mmap"
        a = s.create_array("g/x", data=data)
        s.create_array("names", data=np.array([b"ab", b"cde"]))
        s.create_array("f", shape=(4,), dtype="i2", fill_value=-7)
        s.attrs["run"] = 3
        a.attrs["units"] = "m"
        a.attrs["lut"] = np.arange(6).reshape(2, 3)
        for key in [np.s_[10:20, ::2], np.s_[[5, 1, 5]], np.s_[...], np.s_[-1], np.s_[::-3, 4],
                    np.s_[data[:, 0] > 0.5], np.s_[3, 7], np.s_[:, [11, 0]], np.s_[40:]]:
            np.testing.assert_array_equal(a[key], data[key])
        a[3:5, 2] = 9
        data[3:5, 2] = 9
        assert "g/x" in s and "g/y" not in s and list(s) == ["f", "g", "names"]
        assert a.chunks is None and a.codec["id"] == "none" and a.storage["layout"] == "contiguous"
        assert "x  (50, 12) float32" in s.tree()
    with larder.open(path, "r") as s:
        np.testing.assert_array_equal(s["g/x"][:], data)
        np.testing.assert_array_equal(s["names"][:], [b"ab", b"cde"])
        np.testing.assert_array_equal(s["f"][:], [-7] * 4)
        assert s.attrs["run"] == 3 and s["g/x"].attrs["units"] == "m"
        np.testing.assert_array_equal(s["g/x"].attrs["lut"], np.arange(6).reshape(2, 3))
        np.testing.assert_array_equal(s["g/x"].gather([49, 0, 49]), data[[49, 0, 49]])
    with larder.open(path, "a") as s:
        del s["g"]
        assert "g" not in s and not os.path.exists(os.path.join(path, "g"))


def test_contiguous_reads_are_read_only_views_that_outlive_the_store(path):
    data = np.arange(4000.0).reshape(1000, 4)
    with larder.open(path, "w") as s:
        s.create_array("x", data=data)
    s = larder.open(path, "r")
    rows = s["x"][100:200]
    one = s["x"][7]
    picked = s["x"][::2]
    s.close()
    del s
    assert not rows.flags.writeable and not one.flags.writeable
    assert picked.flags.writeable  # a strided selection is a copy
    with pytest.raises(ValueError):
        rows[0, 0] = 1
    np.testing.assert_array_equal(rows, data[100:200])
    np.testing.assert_array_equal(one, data[7])
    np.testing.assert_array_equal(picked, data[::2])


def test_appends_grow_the_file_and_resize(path):
    with larder.open(path, "w") as s:
        a = s.create_array("x", shape=(0, 3), dtype="i8", extendable=True)
        for i in range(300):
            a.append(np.full((i % 7 + 1, 3), i))
        a.append(np.array([-1, -2, -3]))
        n = len(a)
        capacity = os.path.getsize(os.path.join(path, "x.bin"))
        assert n * 24 <= capacity <= 2 * n * 24 + 65536
        a.resize(n + 2)
        np.testing.assert_array_equal(a[-2:], 0)
        a.resize(5)
    with larder.open(path, "r") as s:
        expected = np.concatenate([np.full((i % 7 + 1, 3), i) for i in range(300)])
        np.testing.assert_array_equal(s["x"][:], expected[:5])


def test_compression_and_object_strings_are_refused(path):
    with larder.open(path, "w") as s:
        with pytest.raises(larder.UnsupportedError, match="mmap"):
            s.create_array("x", shape=(3,), dtype="f4", codec="zstd")
        with pytest.raises(larder.UnsupportedError):
            s.create_array("s", data=np.array(["a", "bc"], dtype=object))
        assert "x" not in s


# --- bad input -----------------------------------------------------------------

@pytest.fixture
def stored(path):
    with larder.open(path, "w") as s:
        s.create_array("x", data=np.arange(20.0).reshape(10, 2))
    return path


def read_all(path):
    with larder.open(path, "r") as s:
        return s["x"][:].copy()


def edit_sidecar(path, edit):
    sidecar = os.path.join(path, "x.json")
    with open(sidecar) as f:
        doc = json.load(f)
    edit(doc)
    with open(sidecar, "w") as f:
        json.dump(doc, f)


def test_truncated_data_file_is_corrupt(stored):
    os.truncate(os.path.join(stored, "x.bin"), 100)
    with pytest.raises(larder.CorruptError, match="x.bin.*truncated"):
        read_all(stored)


def test_sidecar_claiming_more_rows_than_the_file_holds_is_corrupt(stored):
    def more_rows(doc):
        doc["shape"][0] = doc["length"] = 1 << 40
        doc["checksum"]["blocks"] = ["0" * 16] * ((16 << 40) // (4 << 20))
    edit_sidecar(stored, more_rows)
    with pytest.raises(larder.CorruptError, match="x.bin holds 160 bytes"):
        read_all(stored)


@pytest.mark.parametrize("edit", [
    lambda d: d["shape"].__setitem__(0, -1),
    lambda d: d.__setitem__("shape", [2**62, 2**62]),
    lambda d: d.__setitem__("shape", "10"),
    lambda d: d.__setitem__("length", 10.5),
    lambda d: d.__setitem__("dtype", 8),
    lambda d: d["checksum"].__setitem__("blocks", []),
    lambda d: d.pop("version"),
])
def test_sidecar_with_wrong_fields_is_corrupt(stored, edit):
    edit_sidecar(stored, edit)
    with pytest.raises(larder.CorruptError, match="x.json"):
        read_all(stored)


def test_sidecar_that_does_not_parse_is_corrupt(stored):
    with open(os.path.join(stored, "x.json"), "w") as f:
        f.write('{"format": "larder-mmap", "shape": [')
    with pytest.raises(larder.CorruptError, match="x.json.*not JSON"):
        read_all(stored)


def test_checksum_mismatch_is_found_by_verify(stored, larder_cli):
    ok = subprocess.run([larder_cli, "verify", stored], capture_output=True, text=True)
    assert ok.returncode == 0 and "ok" in ok.stdout, ok.stderr
    with open(os.path.join(stored, "x.bin"), "r+b") as f:
        f.seek(9)
        f.write(b"\x55")
    np.testing.assert_array_equal(read_all(stored).shape, (10, 2))  # reads do not hash
    bad = subprocess.run([larder_cli, "verify", stored], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "checksum mismatch" in bad.stderr and "x.bin" in bad.stderr


# --- commits (format version 2) ---------------------------------------------------

KILLED_WRITER = """
import os, signal, sys
import numpy as np
import larder
s = larder.open(sys.argv[1], "w")
a = s.create_array("x", shape=(0, 4), dtype="<i8", extendable=True)
for i in range(200):  # 64 KB per append, 12.8 MB in all: three full 4 MiB blocks
    a.append(np.arange(i * 8000, (i + 1) * 8000, dtype="<i8").reshape(-1, 4))
os.kill(os.getpid(), signal.SIGKILL)  # nothing flushed, nothing closed
"""


def test_a_killed_writer_loses_nothing_and_verify_checks_recovered_checksums(path, larder_cli):
    writer = subprocess.run([sys.executable, "-c", KILLED_WRITER, path],
                            env={**os.environ}, capture_output=True, text=True)
    assert writer.returncode == -9, writer.stderr
    with open(os.path.join(path, "x.json")) as f:
        assert json.load(f)["length"] == 0  # the rows are in the commit file only
    with larder.open(path, "r") as s:
        np.testing.assert_array_equal(s["x"][:].ravel(), np.arange(1_600_000))
    ok = subprocess.run([larder_cli, "verify", path], capture_output=True, text=True)
    assert ok.returncode == 0 and "ok" in ok.stdout, ok.stderr
    with open(os.path.join(path, "x.bin"), "r+b") as f:
        f.seek(5 << 20)  # inside block 1, whose checksum only x.sums holds
        f.write(b"\x55")
    bad = subprocess.run([larder_cli, "verify", path], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "checksum mismatch" in bad.stderr and "block 1" in bad.stderr, bad.stderr


def test_a_reader_in_another_process_sees_appends_as_they_commit(path):
    with larder.open(path, "w") as s:
        a = s.create_array("x", shape=(0,), dtype="<f8", extendable=True)
        reader = subprocess.Popen(
            [sys.executable, "-c",
             "import sys, larder\n"
             "s = larder.open(sys.argv[1], 'r'); x = s['x']\n"
             "for line in sys.stdin:\n"
             "    print(len(x), float(x[-1]) if len(x) else None, flush=True)\n", path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            for n in (1, 5, 1000):
                a.append(np.arange(len(a), len(a) + n, dtype="<f8"))
                reader.stdin.write("?\n")
                reader.stdin.flush()
                assert reader.stdout.readline().split() == [str(len(a)), str(float(len(a) - 1))]
        finally:
            reader.stdin.close()
            reader.wait()


# --- memmpy directories ----------------------------------------------------------

def test_memmpy_directory_reads_identically(tmp_path):
    directory = str(tmp_path / "data.mmpy")
    lengths = rng().integers(0, 10, 11)
    arrays = {
        "x": rng(1).random((11, 3)),
        "n": np.arange(11, dtype=np.int32),
        "jag": rng(2).random(int(lengths.sum())).astype(np.float32),
        "jag:index": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "sample": np.full(11, hash_64bit("ttbar"), dtype=np.uint64),
    }
    write_memmpy(directory, arrays)
    assert os.path.getsize(os.path.join(directory, f"{hash_64bit('x'):0>16x}.npy")) == 264
    with larder.open(directory) as s:
        assert s.driver == "memmpy"
        assert sorted(s.keys()) == sorted(arrays)
        for name, values in arrays.items():
            if name == "jag":  # jagged records: see test_ragged.py
                assert isinstance(s[name], larder.Ragged) and len(s[name]) == 11
                continue
            assert s[name].dtype == values.dtype and s[name].shape == values.shape
            np.testing.assert_array_equal(s[name][:], values)
        assert s["x"].attrs["check"].startswith("2026")
        with pytest.raises(larder.Error):
            s["x"][0] = 1
    with pytest.raises(larder.UnsupportedError, match="read-only"):
        larder.open(directory, "a")


# --- the command line --------------------------------------------------------------

def test_cli_info_and_copy_h5_to_lmm_and_back(tmp_path, larder_cli):
    data = rng().random((300, 5))
    h5, lmm, back = (str(tmp_path / n) for n in ("a.h5", "b.lmm", "c.h5"))
    with larder.open(h5, "w") as s:
        s.create_array("g/x", data=data, chunks=(64, 5), codec="zstd", extendable=True)
        s["g/x"].attrs["units"] = "m"
    for src, dst in ((h5, lmm), (lmm, back)):
        out = subprocess.run([larder_cli, "cp", src + ":g", dst], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    info = subprocess.run([larder_cli, "info", lmm], capture_output=True, text=True)
    assert info.returncode == 0 and "mmap" in info.stdout and "x" in info.stdout, info.stderr
    cat = subprocess.run([larder_cli, "cat", lmm + ":g/x"], capture_output=True, text=True)
    assert cat.returncode == 0, cat.stderr
    with larder.open(back) as s:
        np.testing.assert_array_equal(s["g/x"][:], data)
        assert s["g/x"].attrs["units"] == "m"
    with larder.open(lmm) as s:
        np.testing.assert_array_equal(s["g/x"][:], data)
