#!/usr/bin/python3
"""zarr 2 peer of the storage workloads (see storage_common.py).

A DirectoryStore array, chunks (4096, 16), compressor numcodecs Blosc(lz4,
level 5, byte shuffle) on every core (numcodecs.blosc.set_nthreads). W1:
Array.append per batch. W2: get_basic_selection(out=) into a reused buffer.
W3: get_orthogonal_selection((ids, slice(None))), which takes any order and
repeats.
"""

from __future__ import annotations

import os
import sys

import numcodecs
import numpy as np
import zarr
from numcodecs import blosc

import storage_common as common

THREADS = os.cpu_count() or 1


class Zarr:
    details = {"blosc_threads": THREADS}

    def __init__(self) -> None:
        blosc.set_nthreads(THREADS)

    def supports(self, workload, codec):
        if workload == "many":
            return "zarr is not a W7 peer"
        return None if codec == "blosc-lz4" else "the zarr peer measures blosc-lz4 only"

    def append(self, path, rows, batch, chunk_rows, codec):
        compressor = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
        z = zarr.open(str(path), mode="w", shape=(0, common.COLS), dtype=common.DTYPE,
                      chunks=(chunk_rows, common.COLS), compressor=compressor)
        for i in range(0, len(rows), batch):
            z.append(rows[i:i + batch])

    def read_all(self, path):
        return zarr.open(str(path), mode="r")[...]

    def open(self, path):
        return zarr.open(str(path), mode="r"), np.empty((4096, common.COLS), dtype=common.DTYPE)

    def close(self, handle):
        pass

    def read(self, handle, start, stop):
        z, buf = handle
        out = buf[:stop - start] if len(buf) >= stop - start else np.empty(
            (stop - start, common.COLS), dtype=common.DTYPE)
        z.get_basic_selection(slice(start, stop), out=out)
        return out

    def gather(self, handle, ids):
        return handle[0].get_orthogonal_selection((ids, slice(None)))


if __name__ == "__main__":
    sys.exit(common.main(lambda args: Zarr(), ["zarr"],
                         f"zarr {zarr.__version__}, numcodecs {numcodecs.__version__}"))
