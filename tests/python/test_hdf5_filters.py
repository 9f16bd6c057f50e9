"""HDF5 filters against the real tools: lzf and bitshuffle chunks, and files
written through larder's own HDF5 filters, opened in h5py.

lzf is checked both ways against h5py's lzf filter (32000, built into h5py)
and against liblzf itself (Debian's liblzf1, through ctypes). Debian has no
bitshuffle HDF5 plugin (32008) and no Python bitshuffle module; the bit
transpose is checked here against numpy, and in tests/codec/bitshuffle_test.cpp
against c-blosc's copy of the bitshuffle library. Files written by
libhdf5 through larder's filter callbacks come from the C++ store test
program (Hdf5FiltersInterop.WritesAFileForH5py); h5py reads them with the
Debian plugins for blosc (32001), lz4 (32004) and its own lzf.
"""

import ctypes
import ctypes.util
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

import larder

LZF = 32000
BITSHUFFLE = 32008


def smooth(n, dtype):
    t = np.arange(n)
    return (1000 + 200 * np.sin(t * 3e-3) + np.random.default_rng(0).normal(0, 0.5, n)).astype(dtype)


def chunk_slices(dset):
    """(offset, slices) of every chunk of a chunked dataset."""
    grid = [range(0, n, c) for n, c in zip(dset.shape, dset.chunks)]
    for offset in np.array(np.meshgrid(*grid, indexing="ij")).reshape(len(grid), -1).T:
        offset = tuple(int(o) for o in offset)
        yield offset, tuple(slice(o, o + c) for o, c in zip(offset, dset.chunks))


def padded_chunk(data, dset, slices):
    """The chunk's values with the part past the data's edge zeroed, and a mask of the known part."""
    chunk = np.zeros(dset.chunks, dtype=data.dtype)
    known = np.zeros(dset.chunks, dtype=bool)
    part = data[slices]
    region = tuple(slice(0, n) for n in part.shape)
    chunk[region] = part
    known[region] = True
    return chunk, known


# --- lzf ---------------------------------------------------------------------

LZF_ARRAYS = {
    "float32": lambda: smooth(50_000, "<f4"),
    "int16": lambda: (np.arange(60_000) // 7 % 500).astype("<i2"),
    "uint8_2d": lambda: np.tile(np.frombuffer(b"larder and h5py share lzf chunks. ", np.uint8), 3000)[:100_000].reshape(400, 250),
    "float64_noise": lambda: np.random.default_rng(5).random(20_000),
}


@pytest.mark.parametrize("name", sorted(LZF_ARRAYS))
def test_lzf_chunks_h5py_writes_decode_in_larder(tmp_path, name):
    data = LZF_ARRAYS[name]()
    chunks = (4096,) if data.ndim == 1 else (64, 100)
    with h5py.File(tmp_path / "h5py.h5", "w") as f:
        dset = f.create_dataset("x", data=data, chunks=chunks, compression="lzf")
        fid, _, cd_values, _ = dset.id.get_create_plist().get_filter(0)
        assert fid == LZF
        chunk_bytes = int(np.prod(chunks)) * data.itemsize
        assert tuple(cd_values) == (4, 0x105, chunk_bytes)
        codec = larder.Codec.from_hdf5(LZF, list(cd_values))
        assert codec.id == "lzf"
        filtered = raw = 0
        for offset, slices in chunk_slices(dset):
            mask, stored = dset.id.read_direct_chunk(offset)
            expected, known = padded_chunk(data, dset, slices)
            if mask & 1:  # lzf could not shrink it: stored as is
                got = np.frombuffer(stored, dtype=data.dtype).reshape(chunks)
                raw += 1
            else:
                got = codec.decode(stored, dtype=data.dtype, shape=chunks)
                filtered += 1
            np.testing.assert_array_equal(got[known], expected[known])
        if name == "float64_noise":
            assert raw > 0  # h5py stores chunks lzf cannot shrink as they are
        else:
            assert filtered > 0


@pytest.mark.parametrize("name", sorted(LZF_ARRAYS))
def test_larder_lzf_chunks_read_back_through_h5py(tmp_path, name):
    data = LZF_ARRAYS[name]()
    chunks = (4096,) if data.ndim == 1 else (64, 100)
    codec = larder.Codec("lzf")
    path = tmp_path / "larder.h5"
    with h5py.File(path, "w") as f:
        dset = f.create_dataset("x", shape=data.shape, dtype=data.dtype, chunks=chunks, compression="lzf")
        for offset, slices in chunk_slices(dset):
            chunk, _ = padded_chunk(data, dset, slices)
            dset.id.write_direct_chunk(offset, codec.encode(chunk), filter_mask=0)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["x"][...], data)
        mask, _ = f["x"].id.read_direct_chunk((0,) * data.ndim)
        assert mask == 0  # h5py's filter decoded larder's stream


def liblzf():
    name = ctypes.util.find_library("lzf") or "liblzf.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        pytest.skip("liblzf is not installed (Debian: liblzf1)")
    lib.lzf_compress.restype = ctypes.c_uint
    lib.lzf_compress.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p, ctypes.c_uint]
    lib.lzf_decompress.restype = ctypes.c_uint
    lib.lzf_decompress.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p, ctypes.c_uint]
    return lib


def lzf_inputs():
    rng = np.random.default_rng(8)
    yield b"a"
    yield b"abc" * 1000
    yield bytes(100_000)
    yield rng.bytes(30_000)
    yield smooth(40_000, "<f4").tobytes()
    yield np.arange(50_000, dtype="<i4").tobytes()
    yield rng.bytes(8192) * 3  # matches exactly at the largest offset
    yield bytes(rng.integers(0, 4, 70_000, dtype=np.uint8))


def test_lzf_matches_liblzf_both_ways():
    lib = liblzf()
    codec = larder.Codec("lzf")
    for data in lzf_inputs():
        ours = codec.encode(data)
        assert len(ours) <= len(data) + (len(data) + 31) // 32
        out = ctypes.create_string_buffer(len(data))
        assert lib.lzf_decompress(ours, len(ours), out, len(data)) == len(data)
        assert out.raw == data

        theirs = ctypes.create_string_buffer(len(data) + len(data) // 16 + 64)
        n = lib.lzf_compress(data, len(data), theirs, len(theirs))
        assert n > 0
        assert bytes(codec.decode(theirs.raw[:n], size=len(data))) == data


def test_lzf_streams_from_liblzf_that_are_cut_or_damaged_are_corrupt():
    lib = liblzf()
    data = smooth(10_000, "<f4").tobytes()
    buf = ctypes.create_string_buffer(len(data) + 100)
    n = lib.lzf_compress(data, len(data), buf, len(buf))
    stream = buf.raw[:n]
    codec = larder.Codec("lzf")
    for cut in (0, 1, n // 2, n - 1):
        with pytest.raises(larder.CorruptError):
            codec.decode(stream[:cut], size=len(data))
    with pytest.raises(larder.CorruptError):
        codec.decode(stream, size=len(data) - 1)


# --- bitshuffle --------------------------------------------------------------


def reference_bitshuffle(data, typesize, block):
    """The bitshuffle transpose, from its definition, with numpy."""
    elements = np.frombuffer(data, np.uint8).reshape(-1, typesize)
    n = len(elements)
    whole = n - n % 8
    out = []
    for start in range(0, whole, block):
        rows = elements[start:min(start + block, whole)]
        bits = np.unpackbits(rows, axis=1, bitorder="little")  # element i: bit 8j + k
        out.append(np.packbits(bits.T, axis=1, bitorder="little").tobytes())
    out.append(elements[whole:].tobytes())
    return b"".join(out)


@pytest.mark.parametrize("typesize", [1, 2, 4, 8, 3])
def test_bitshuffle_transpose_matches_numpy(typesize):
    rng = np.random.default_rng(typesize)
    for n in (8, 13, 1000, 5003):
        data = rng.bytes(n * typesize)
        codec = larder.Codec("bitshuffle", typesize=typesize, block_size=64, format="none")
        assert codec.encode(data) == reference_bitshuffle(data, typesize, 64)
        assert bytes(codec.decode(codec.encode(data), size=len(data))) == data


def test_bitshuffle_interop_with_an_hdf5_plugin(tmp_path):
    if not h5py.h5z.filter_avail(BITSHUFFLE):
        pytest.skip("this h5py has no bitshuffle filter (32008): Debian ships no bitshuffle plugin")
    data = smooth(100_000, "<f4")
    with h5py.File(tmp_path / "b.h5", "w") as f:
        dset = f.create_dataset("x", data=data, chunks=(10_000,), compression=BITSHUFFLE, compression_opts=(0, 2))
        _, _, cd_values, _ = dset.id.get_create_plist().get_filter(0)
        codec = larder.Codec.from_hdf5(BITSHUFFLE, list(cd_values))
        for offset, slices in chunk_slices(dset):
            mask, stored = dset.id.read_direct_chunk(offset)
            assert mask == 0
            np.testing.assert_array_equal(codec.decode(stored, dtype="<f4", shape=(10_000,)), data[slices])
            dset.id.write_direct_chunk(offset, codec.encode(data[slices]), filter_mask=0)
        np.testing.assert_array_equal(dset[...], data)


# --- files written through larder's HDF5 filters ----------------------------


def store_test_program():
    explicit = os.environ.get("LARDER_STORE_TESTS")
    if explicit:
        return Path(explicit)
    # The package in the build tree is <build>/python/larder; tests are in <build>/tests.
    return Path(larder.__file__).parent.parent.parent / "tests" / "store_tests"


def expected_values(dtype, shape):
    """What tests/store/hdf5_filters_test.cpp writes for each element type."""
    k = np.arange(int(np.prod(shape)))
    by_type = {
        np.dtype("float32"): lambda: (k % 1000).astype(np.float32) * np.float32(0.25),
        np.dtype("float64"): lambda: k * 0.5,
        np.dtype("int16"): lambda: (k // 3 % 3000).astype(np.int16),
        np.dtype("int32"): lambda: (k // 5).astype(np.int32),
    }
    return by_type[np.dtype(dtype)]().reshape(shape)


def test_files_written_through_larders_filters_open_in_h5py(tmp_path):
    program = store_test_program()
    if not program.exists():
        pytest.skip(f"{program} is not built (set LARDER_STORE_TESTS)")
    run = subprocess.run(
        [str(program), "--gtest_filter=Hdf5FiltersInterop.WritesAFileForH5py"],
        env={**os.environ, "LARDER_FILTER_FILES": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[  PASSED  ] 1 test" in run.stdout, run.stdout
    checked = set()
    with h5py.File(tmp_path / "larder_filters.h5", "r") as f:
        assert len(f) == 13
        for name, dset in f.items():
            fid, _, cd_values, filter_name = dset.id.get_create_plist().get_filter(0)
            assert b"(larder)" in filter_name
            # The stored cd_values name the codec that wrote the chunks.
            assert larder.Codec.from_hdf5(fid, list(cd_values)).id
            if not h5py.h5z.filter_avail(fid):
                continue  # zstd and bitshuffle: no Debian plugin to read them with
            mask, _ = dset.id.read_direct_chunk((0, 0))
            assert mask == 0, name  # the chunk went through the filter
            np.testing.assert_array_equal(dset[...], expected_values(dset.dtype, dset.shape), err_msg=name)
            checked.add(fid)
    assert {32000, 32001, 32004} <= checked
