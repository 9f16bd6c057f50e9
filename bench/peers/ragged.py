"""W5 peer: ragged float32 records — write all in batches, read all in order,
read random records — for one implementation, one JSON line per repetition.

    --impl larder   larder ragged records in HDF5, blosc-lz4 (PYTHONPATH: build/python)
    --impl numpy    flat values + int64 offsets, raw files (memmap for random reads)
    --impl h5py     an HDF5 variable-length dataset (h5py.vlen_dtype)
    --impl tables   a PyTables VLArray

Each implementation gets the records in its natural bulk form: larder and
numpy values + lengths per batch, h5py and PyTables the records as arrays.
Reading all gives them in the library's bulk form (values + offsets, an
object array, a list); random reads give the records at the ids in order.
The checks are crc32s of the values read, computed the same way for all.
Run with Debian's /usr/bin/python3.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import zlib
from pathlib import Path

import numpy as np

IMPLS = ("larder", "numpy", "h5py", "tables")


def crc32_of(arrays) -> str:
    crc = 0
    for a in arrays:
        crc = zlib.crc32(np.ascontiguousarray(a, dtype="<f4").view(np.uint8).reshape(-1), crc)
    return f"{crc:08x}"


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class Larder:
    def __init__(self, codec: str) -> None:
        import larder
        self.larder, self.codec = larder, (None if codec == "none" else codec)

    def write(self, path, values, offsets, batch):
        with self.larder.open(str(path), "w") as s:
            r = s.create_ragged("r", dtype="f4", codec=self.codec)
            lengths = np.diff(offsets)
            for a in range(0, len(lengths), batch):
                b = min(a + batch, len(lengths))
                r.extend(values[offsets[a]:offsets[b]], lengths=lengths[a:b])

    def read_all(self, path):
        with self.larder.open(str(path)) as s:
            block = s["r"].read()
            return len(block), [block.values]

    def read_random(self, path, ids):
        with self.larder.open(str(path)) as s:
            block = s["r"].gather(ids)
            return [block.values]


class Numpy:
    def write(self, path, values, offsets, batch):
        path.mkdir(parents=True)
        with open(path / "values.raw", "wb") as f:
            for a in range(0, len(offsets) - 1, batch):
                b = min(a + batch, len(offsets) - 1)
                f.write(memoryview(values[offsets[a]:offsets[b]]))
        offsets.tofile(path / "offsets.raw")

    def read_all(self, path):
        values = np.fromfile(path / "values.raw", dtype="<f4")
        offsets = np.fromfile(path / "offsets.raw", dtype="<i8")
        return len(offsets) - 1, [values]

    def read_random(self, path, ids):
        values = np.memmap(path / "values.raw", dtype="<f4", mode="r")
        offsets = np.memmap(path / "offsets.raw", dtype="<i8", mode="r")
        return [values[offsets[i]:offsets[i + 1]] for i in ids]


class H5py:
    def __init__(self) -> None:
        import h5py
        self.h5py = h5py

    def write(self, path, values, offsets, batch):
        records = np.split(values, offsets[1:-1])
        with self.h5py.File(path, "w") as f:
            d = f.create_dataset("r", (0,), maxshape=(None,), chunks=(1024,),
                                 dtype=self.h5py.vlen_dtype(np.float32))
            for a in range(0, len(records), batch):
                block = np.empty(min(batch, len(records) - a), dtype=object)
                block[:] = records[a:a + len(block)]
                d.resize((a + len(block),))
                d[a:a + len(block)] = block

    def read_all(self, path):
        with self.h5py.File(path, "r") as f:
            records = f["r"][:]
            return len(records), records

    def read_random(self, path, ids):
        with self.h5py.File(path, "r") as f:
            d = f["r"]
            return [d[i] for i in ids]


class Tables:
    def __init__(self) -> None:
        import tables
        self.tables = tables

    def write(self, path, values, offsets, batch):
        records = np.split(values, offsets[1:-1])
        with self.tables.open_file(str(path), "w") as f:
            vl = f.create_vlarray("/", "r", self.tables.Float32Atom(), expectedrows=len(records))
            for record in records:
                vl.append(record)

    def read_all(self, path):
        with self.tables.open_file(str(path), "r") as f:
            records = f.root.r.read()
            return len(records), records

    def read_random(self, path, ids):
        with self.tables.open_file(str(path), "r") as f:
            vl = f.root.r
            return [vl[int(i)] for i in ids]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--impl", choices=IMPLS, required=True)
    p.add_argument("--codec", default="none")
    p.add_argument("--values", required=True, help="raw float32 values, back to back")
    p.add_argument("--offsets", required=True, help=".npy int64 offsets (records + 1)")
    p.add_argument("--ids", required=True, help=".npy int64 record ids for random reads")
    p.add_argument("--store", required=True)
    p.add_argument("--batch", type=int, default=10000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()
    impl = {"larder": lambda: Larder(a.codec), "numpy": Numpy, "h5py": H5py,
            "tables": Tables}[a.impl]()
    values = np.fromfile(a.values, dtype="<f4")
    offsets = np.load(a.offsets)
    ids = np.load(a.ids)
    store = Path(a.store)
    store.parent.mkdir(parents=True, exist_ok=True)
    n = len(offsets) - 1
    for r in range(-a.warmup, a.repeat):
        remove(store)
        start = time.perf_counter()
        impl.write(store, values, offsets, a.batch)
        write_s = time.perf_counter() - start
        start = time.perf_counter()
        count, got = impl.read_all(store)
        read_s = time.perf_counter() - start
        crc_all = crc32_of(got)
        del got
        start = time.perf_counter()
        picked = impl.read_random(store, ids)
        random_s = time.perf_counter() - start
        size = sum(f.stat().st_size for f in store.rglob("*")) if store.is_dir() else \
            store.stat().st_size
        print(json.dumps({"impl": a.impl, "repeat": r, "warmup": r < 0, "ok": True,
                          "records": count, "crc32_all": crc_all,
                          "crc32_random": crc32_of(picked),
                          "write_mrps": n / write_s / 1e6, "read_mrps": count / read_s / 1e6,
                          "random_krps": len(ids) / random_s / 1e3,
                          "ratio": values.nbytes / size}), flush=True)
    remove(store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
