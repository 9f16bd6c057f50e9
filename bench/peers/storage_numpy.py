#!/usr/bin/python3
"""numpy peers of the storage workloads (see storage_common.py):

  --impl raw     W1: ndarray.tofile per batch; W2: readinto a reused buffer
  --impl memmap  W2: slices of np.memmap; W3: fancy index of np.memmap

Both use the flat file of float32 rows that raw writes; no compression.
"""

from __future__ import annotations

import sys

import numpy as np

import storage_common as common


class Numpy:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def supports(self, workload: str, codec: str) -> str | None:
        if codec != "none":
            return f"numpy stores raw bytes only, not {codec}"
        if self.kind == "memmap" and workload in ("append", "many"):
            return "numpy memmap is measured on reads (W2, W3) only"
        if self.kind == "raw" and workload in ("gather", "many"):
            return "numpy raw is measured on W1 and W2 only"
        return None

    def append(self, path, rows, batch, chunk_rows, codec):
        with open(path, "wb") as f:
            for i in range(0, len(rows), batch):
                rows[i:i + batch].tofile(f)

    def read_all(self, path):
        return common.load_rows(str(path))

    def open(self, path):
        if self.kind == "memmap":
            return np.memmap(path, dtype=common.DTYPE, mode="r").reshape(-1, common.COLS)
        f = open(path, "rb", buffering=0)
        return f, np.empty((4096, common.COLS), dtype=common.DTYPE)

    def close(self, handle):
        if self.kind == "memmap":
            handle._mmap.close()
        else:
            handle[0].close()

    def read(self, handle, start, stop):
        if self.kind == "memmap":
            return handle[start:stop]
        f, buf = handle
        if len(buf) < stop - start:
            buf = np.empty((stop - start, common.COLS), dtype=common.DTYPE)
        out = buf[:stop - start]
        f.seek(start * common.COLS * common.DTYPE.itemsize)
        if f.readinto(memoryview(out).cast("B")) != out.nbytes:
            raise OSError("short read")
        return out

    def gather(self, handle, ids):
        return handle[ids]


if __name__ == "__main__":
    sys.exit(common.main(lambda args: Numpy(args.impl), ["raw", "memmap"],
                         f"numpy {np.__version__}"))
