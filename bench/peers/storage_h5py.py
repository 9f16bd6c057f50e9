#!/usr/bin/python3
"""h5py peer of the storage workloads (see storage_common.py).

W1: a resizable dataset (maxshape (None, 16)), resized and assigned per
batch; codecs none, lzf, blosc-lz4 (hdf5plugin.Blosc, lz4 level 5, byte
shuffle; the HDF5 blosc filter honours BLOSC_NTHREADS, which the runner
sets to the core count). W2: read_direct into a reused buffer. W3: h5py
needs increasing indices without repeats, so the ids are sorted and made
unique, read with a fancy index, and put back in the given order. One fancy
index per chunk's worth of ids: HDF5 1.10 builds the selection of one index
over all ~100,000 ids in quadratic time (minutes); per chunk it is
BENCH.md's 0.21 M rows/s. W7: create_dataset(name, data=...) and
dataset[()].
"""

from __future__ import annotations

import sys

import h5py
import numpy as np

import storage_common as common


def filters(codec: str) -> dict:
    if codec == "none":
        return {}
    if codec == "lzf":
        return {"compression": "lzf"}
    if codec == "blosc-lz4":
        import hdf5plugin  # registers the blosc filter

        return dict(hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE))
    raise ValueError(f"no h5py setting for codec {codec!r}")


class H5py:
    def supports(self, workload, codec):
        return None if codec in ("none", "lzf", "blosc-lz4") else f"h5py has no {codec}"

    def append(self, path, rows, batch, chunk_rows, codec):
        with h5py.File(path, "w") as f:
            d = f.create_dataset("x", shape=(0, common.COLS), maxshape=(None, common.COLS),
                                 dtype=common.DTYPE, chunks=(chunk_rows, common.COLS),
                                 **filters(codec))
            n = 0
            for i in range(0, len(rows), batch):
                block = rows[i:i + batch]
                d.resize(n + len(block), axis=0)
                d[n:n + len(block)] = block
                n += len(block)

    def read_all(self, path):
        with h5py.File(path, "r") as f:
            return f["x"][()]

    def open(self, path):
        f = h5py.File(path, "r")
        return f, f["x"], np.empty((4096, common.COLS), dtype=common.DTYPE)

    def close(self, handle):
        handle[0].close()

    def read(self, handle, start, stop):
        _, d, buf = handle
        out = buf[:stop - start] if len(buf) >= stop - start else np.empty(
            (stop - start, common.COLS), dtype=common.DTYPE)
        d.read_direct(out, np.s_[start:stop], np.s_[0:stop - start])
        return out

    def gather(self, handle, ids):
        d = handle[1]
        unique, back = np.unique(ids, return_inverse=True)
        out = np.empty((len(unique), common.COLS), dtype=common.DTYPE)
        step = d.chunks[0]
        bounds = np.searchsorted(unique, np.arange(0, d.shape[0] + step, step))
        for a, b in zip(bounds[:-1], bounds[1:]):
            if a < b:
                out[a:b] = d[unique[a:b]]
        return out[back]

    def write_many(self, path, names, arrays):
        with h5py.File(path, "w") as f:
            for name, a in zip(names, arrays):
                f.create_dataset(name, data=a)

    def read_many(self, path, names):
        with h5py.File(path, "r") as f:
            return [f[name][()] for name in names]


if __name__ == "__main__":
    sys.exit(common.main(lambda args: H5py(), ["h5py"],
                         f"h5py {h5py.__version__}, HDF5 {h5py.version.hdf5_version}"))
