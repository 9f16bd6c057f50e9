#!/usr/bin/python3
"""PyTables peer of the storage workloads (see storage_common.py).

W1: an EArray (chunkshape (4096, 16), expectedrows set), append per batch;
codecs none and blosc-lz4 (Filters(complevel=5, complib="blosc:lz4",
shuffle=True)), blosc on every core (MAX_BLOSC_THREADS). W2: read(start,
stop, out=) into a reused buffer. W3: a point selection of every element of
the rows (what Table.read_coordinates does; EArray has no such method and
its list indexing forbids repeats) — any order, repeats allowed. W7:
create_array(root, name, obj=...) and node.read().
"""

from __future__ import annotations

import os
import sys

import numpy as np
import tables

import storage_common as common

THREADS = os.cpu_count() or 1


def filters(codec: str) -> tables.Filters:
    if codec == "none":
        return tables.Filters(complevel=0)
    if codec == "blosc-lz4":
        return tables.Filters(complevel=5, complib="blosc:lz4", shuffle=True)
    raise ValueError(f"no PyTables setting for codec {codec!r}")


def open_file(path, mode):
    return tables.open_file(str(path), mode, MAX_BLOSC_THREADS=THREADS)


class Tables:
    details = {"blosc_threads": THREADS}

    def supports(self, workload, codec):
        return None if codec in ("none", "blosc-lz4") else f"no PyTables peer for {codec}"

    def append(self, path, rows, batch, chunk_rows, codec):
        with open_file(path, "w") as f:
            ea = f.create_earray(f.root, "x", atom=tables.Float32Atom(), shape=(0, common.COLS),
                                 chunkshape=(chunk_rows, common.COLS), filters=filters(codec),
                                 expectedrows=len(rows))
            for i in range(0, len(rows), batch):
                ea.append(rows[i:i + batch])

    def read_all(self, path):
        with open_file(path, "r") as f:
            return f.root.x.read()

    def open(self, path):
        f = open_file(path, "r")
        return f, f.root.x, np.empty((4096, common.COLS), dtype=common.DTYPE)

    def close(self, handle):
        handle[0].close()

    def read(self, handle, start, stop):
        _, ea, buf = handle
        out = buf[:stop - start] if len(buf) >= stop - start else np.empty(
            (stop - start, common.COLS), dtype=common.DTYPE)
        ea.read(start, stop, out=out)
        return out

    def gather(self, handle, ids):
        rows = np.repeat(ids, common.COLS)
        cols = np.tile(np.arange(common.COLS), len(ids))
        return handle[1][rows, cols].reshape(len(ids), common.COLS)

    def write_many(self, path, names, arrays):
        with open_file(path, "w") as f:
            for name, a in zip(names, arrays):
                f.create_array(f.root, name, obj=a)

    def read_many(self, path, names):
        with open_file(path, "r") as f:
            return [f.get_node("/", name).read() for name in names]


if __name__ == "__main__":
    sys.exit(common.main(lambda args: Tables(), ["tables"], f"PyTables {tables.__version__}"))
