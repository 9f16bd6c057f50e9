#!/usr/bin/python3
"""larder's own program for the storage workloads (see storage_common.py),
through its Python API. Run with PYTHONPATH=<build>/python so that larder
comes from the build being measured; the record's "library" says which file
was imported.

W1: create_array(extendable=True, chunks=(4096, 16)) and append per batch
(committed when it returns); codecs none, lzf, blosc-lz4 (level 5, byte
shuffle). W2: a[start:stop]. W3: a.gather(ids). W7: create_array(name,
data=...) and s[name][...]. The store's suffix picks the driver: .h5
(larder), .lmm (larder-mmap), .zarr (larder-zarr, a zarr v2 directory that
zarr-python reads).
"""

from __future__ import annotations

import sys

import larder

import storage_common as common

CODEC_ARGS = {
    "none": {"codec": None},
    "lzf": {"codec": "lzf"},
    "blosc-lz4": {"codec": "blosc-lz4", "level": 5, "shuffle": "byte"},
}


class Larder:
    def supports(self, workload, codec):
        return None if codec in CODEC_ARGS else f"no larder setting for {codec}"

    def append(self, path, rows, batch, chunk_rows, codec):
        with larder.open(str(path), "w") as s:
            a = s.create_array("x", shape=(0, common.COLS), dtype=common.DTYPE.str,
                               chunks=(chunk_rows, common.COLS), extendable=True,
                               **CODEC_ARGS[codec])
            for i in range(0, len(rows), batch):
                a.append(rows[i:i + batch])

    def read_all(self, path):
        with larder.open(str(path), "r") as s:
            return s["x"][...]

    def open(self, path):
        s = larder.open(str(path), "r")
        return s, s["x"]

    def close(self, handle):
        handle[0].close()

    def read(self, handle, start, stop):
        return handle[1][start:stop]

    def gather(self, handle, ids):
        return handle[1].gather(ids)

    def write_many(self, path, names, arrays):
        with larder.open(str(path), "w") as s:
            for name, a in zip(names, arrays):
                s.create_array(name, data=a)

    def read_many(self, path, names):
        with larder.open(str(path), "r") as s:
            return [s[name][...] for name in names]


if __name__ == "__main__":
    sys.exit(common.main(lambda args: Larder(), ["larder"],
                         f"larder {larder.__version__} from {larder.__file__}"))
