"""larder.Array crosses to and from numpy without copying."""

import gc
import sys

import numpy as np
import pytest

import larder


def test_wrapping_a_contiguous_numpy_array_does_not_copy():
    data = np.arange(12, dtype="<f4").reshape(3, 4)
    arr = larder.Array(data)
    assert arr.shape == (3, 4)
    assert arr.dtype == np.dtype("<f4")
    assert arr.nbytes == 48 and arr.ndim == 2 and arr.size == 12 and len(arr) == 3
    view = np.asarray(arr)
    assert np.shares_memory(view, data)
    data[1, 2] = 99
    assert view[1, 2] == 99


def test_non_contiguous_input_is_copied_into_c_order():
    data = np.arange(20, dtype=np.int64).reshape(4, 5)[:, ::2]
    arr = larder.Array(data)
    view = np.asarray(arr)
    assert view.flags.c_contiguous
    assert not np.shares_memory(view, data)
    np.testing.assert_array_equal(view, data)


def test_the_array_keeps_the_numpy_owner_alive():
    data = np.arange(1000, dtype=np.float64)
    before = sys.getrefcount(data)
    arr = larder.Array(data)
    assert sys.getrefcount(data) == before + 1
    del arr
    gc.collect()
    assert sys.getrefcount(data) == before


def test_a_numpy_view_keeps_larder_memory_alive():
    arr = larder.Array(np.arange(5, dtype=np.int32)).copy()  # larder-owned buffer
    view = np.asarray(arr)
    del arr
    gc.collect()
    np.testing.assert_array_equal(view, [0, 1, 2, 3, 4])


@pytest.mark.parametrize(
    "dtype", ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8",
              "<c8", "<c16", "|S5", ">f8"])
def test_every_fixed_size_dtype_round_trips(dtype):
    rng = np.random.default_rng(7)
    data = rng.integers(0, 100, size=(3, 7)).astype(dtype)
    arr = larder.Array(data)
    assert arr.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(arr), data)


def test_indexing_and_dtype_conversion_go_through_numpy():
    arr = larder.Array(np.arange(10, dtype=np.int16))
    np.testing.assert_array_equal(arr[[7, 1, 7]], [7, 1, 7])
    assert np.asarray(arr, dtype=np.float64).dtype == np.float64
    assert repr(arr) == "larder.Array(shape=(10,), dtype=int16)"


def test_unsupported_inputs_raise_larder_errors():
    with pytest.raises(larder.UnsupportedError):
        larder.Array(np.array(["a", None], dtype=object))
    with pytest.raises(larder.InvalidArgumentError, match="'<U3'"):
        larder.Array(np.array(["abc"]))
    with pytest.raises(TypeError):
        len(larder.Array(np.float32(3)))
