"""larder.read_npy / read_npz / read_csv against files numpy and Python's
csv module write."""

import csv
import math

import numpy as np
import pytest

import larder


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype="<f8").reshape(2, 3, 4),
        np.arange(12, dtype=">i4").reshape(3, 4),
        np.asfortranarray(np.arange(30, dtype="<f4").reshape(5, 6)),
        np.array([True, False, True]),
        np.array(3.5, dtype=np.float32),
        np.zeros((0, 4), dtype=np.uint16),
        (np.arange(6) + 1j * np.arange(6)).astype(">c16"),
        np.array([b"ab", b"xyz"]),
    ],
    ids=["f8-3d", "big-endian", "fortran", "bool", "scalar", "empty", "complex-be", "bytes"],
)
def test_read_npy_matches_numpy(tmp_path, array):
    path = tmp_path / "a.npy"
    np.save(path, array)
    got = larder.read_npy(str(path))
    assert got.shape == array.shape
    assert got.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, array)


def test_read_npz_stored_and_deflated(tmp_path):
    arrays = {"x": np.linspace(0, 1, 1000), "labels": np.arange(10, dtype=np.int8), "m": np.eye(3)}
    for save in (np.savez, np.savez_compressed):
        path = tmp_path / f"{save.__name__}.npz"
        save(path, **arrays)
        got = larder.read_npz(str(path))
        assert list(got) == list(np.load(path).files)
        for name, value in arrays.items():
            np.testing.assert_array_equal(got[name], value)


def test_damaged_npz_is_a_corrupt_error_naming_the_file(tmp_path):
    path = tmp_path / "d.npz"
    np.savez_compressed(path, x=np.arange(10000.0))
    raw = bytearray(path.read_bytes())
    raw[200] ^= 0xFF  # inside the deflated member
    path.write_bytes(bytes(raw))
    with pytest.raises(larder.CorruptError, match="d.npz"):
        larder.read_npz(str(path))


def test_object_arrays_are_refused_not_unpickled(tmp_path):
    path = tmp_path / "o.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(larder.UnsupportedError, match="object"):
        larder.read_npy(str(path))


def test_read_csv_from_python_csv_module(tmp_path):
    path = tmp_path / "t.csv"
    rows = [(i, i * 0.5, i % 2 == 0, "" if i == 3 else i * 1.5) for i in range(6)]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["n", "half", "even", "with gap"])
        writer.writerows(rows)
    got = larder.read_csv(str(path))
    assert list(got) == ["n", "half", "even", "with gap"]
    assert got["n"].dtype == np.int64 and got["n"].tolist() == [r[0] for r in rows]
    assert got["half"].dtype == np.float64
    assert got["even"].dtype == np.bool_ and got["even"].tolist() == [r[2] for r in rows]
    gap = got["with gap"]
    assert math.isnan(gap[3]) and gap[4] == 6.0


def test_csv_text_cell_names_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,oops\n")
    with pytest.raises(larder.InvalidArgumentError, match=r"line 3, column 'b'.*oops"):
        larder.read_csv(str(path))


def test_csv_text_columns_with_text_true(tmp_path):
    path = tmp_path / "t.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "x"])
        writer.writerows([["alpha", 1.5], ["\u03b2eta, \"quoted\"", 2], ["", 3]])
    got = larder.read_csv(str(path), text=True)
    assert got["name"].tolist() == ["alpha", "\u03b2eta, \"quoted\"", ""]
    assert got["name"].dtype.kind == "U" and got["x"].dtype == np.float64
    # The data tree's csv loader reads text columns as lists of str.
    dm = larder.DataManager(str(tmp_path), out_dir=False)
    dm.load("t", loader="csv", glob_str="t.csv", required=True)
    assert dm["t/name"] == got["name"].tolist()
    np.testing.assert_array_equal(dm["t/x"].data, [1.5, 2, 3])
