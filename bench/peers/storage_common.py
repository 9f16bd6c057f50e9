"""The part of the storage peers (W1 append, W2 scan, W3 gather, W7 many)
that does not depend on the library: command line, inputs, the repetition
loop, the checks, one JSON line per repetition.

Each peer script (storage_numpy.py, storage_h5py.py, ...) defines a class
with the methods below and calls main(); run it with Debian's
/usr/bin/python3. Every repetition is timed from opening the store to
closing it, so a library that defers writing to close() pays for it.

    append(path, rows, batch, chunk_rows, codec)  W1: write `rows` in batches
    open(path) -> handle, close(handle)           W2, W3 reads
    read(handle, start, stop) -> ndarray          W2: rows start:stop
    gather(handle, ids) -> ndarray                W3: rows ids, in that order
    write_many(path, names, arrays)               W7
    read_many(path, names) -> list of ndarray     W7, in the order of names
    read_all(path) -> ndarray                     the check after W1
    supports(workload, codec) -> str | None       why a combination is refused
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

COLS = 16
DTYPE = np.dtype("<f4")


def parse_args(impls: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="storage workload peer (see bench/README.md)")
    p.add_argument("--impl", choices=impls, default=impls[0])
    p.add_argument("--workload", required=True, choices=["append", "scan", "gather", "many"])
    p.add_argument("--codec", default="none", help="none | lzf | blosc-lz4")
    p.add_argument("--input", required=True, help="raw float32 rows (append, scan, gather) "
                                                  "or the W7 arrays, concatenated")
    p.add_argument("--index", help="W7: .npz with the arrays' sizes, names and read order")
    p.add_argument("--ids", help="W3: .npy of int64 row ids")
    p.add_argument("--store", required=True, help="file or folder to write; removed at the end")
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--chunk-rows", type=int, default=4096)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    return p.parse_args()


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def disk_bytes(path: Path) -> int:
    """Size of a file, or of every file under a folder (zarr)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def settle() -> None:
    """Writes dirty pages back before a timed phase, so that write-back of the
    previous phase does not land in it. Not timed."""
    os.sync()


def load_rows(path: str) -> np.ndarray:
    raw = np.fromfile(path, dtype=DTYPE)
    return raw.reshape(-1, COLS)


def column_sums(batch: np.ndarray, acc: np.ndarray) -> None:
    """Adds the column sums of one batch to acc (float64). Sums 64 rows at a
    time as one 1024-wide float32 row (fast: numpy's axis-0 reduce over only
    16 columns is slow), then those in float64. The same code for everyone."""
    head = len(batch) - len(batch) % 64
    if head:
        partial = batch[:head].reshape(-1, 64 * COLS).sum(axis=0)
        acc += partial.reshape(64, COLS).sum(axis=0, dtype=np.float64)
    if head < len(batch):
        acc += batch[head:].sum(axis=0, dtype=np.float64)


def crc32_of(arrays) -> str:
    crc = 0
    for a in arrays:
        crc = zlib.crc32(np.ascontiguousarray(a).view(np.uint8).reshape(-1), crc)
    return f"{crc:08x}"


class Runner:
    def __init__(self, impl: Any, args: argparse.Namespace, line: dict) -> None:
        self.impl, self.args, self.line = impl, args, line
        self.store = Path(args.store)
        self.store.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, r: int, **fields: Any) -> None:
        print(json.dumps({**self.line, "repeat": r, "warmup": r < 0, "ok": True, **fields}),
              flush=True)

    def repetitions(self):
        return range(-self.args.warmup, self.args.repeat)

    # W1 ------------------------------------------------------------------
    def append(self) -> None:
        a = self.args
        rows = load_rows(a.input)
        nbytes = rows.nbytes
        for r in self.repetitions():
            remove(self.store)
            settle()
            start = time.perf_counter()
            self.impl.append(self.store, rows, a.batch, a.chunk_rows, a.codec)
            seconds = time.perf_counter() - start
            stored = disk_bytes(self.store)
            back = self.impl.read_all(self.store)
            self.emit(r, seconds=seconds, gbps=nbytes / seconds / 1e9, rows=int(back.shape[0]),
                      cols=int(back.shape[1]), bytes=nbytes, disk_bytes=stored,
                      ratio=nbytes / stored, crc32=crc32_of([back]))
            del back

    def build_store(self) -> int:
        """W2, W3: writes the W1 array with this library (not timed)."""
        rows = load_rows(self.args.input)
        remove(self.store)
        self.impl.append(self.store, rows, self.args.batch, self.args.chunk_rows, self.args.codec)
        settle()
        return len(rows)

    # W2 ------------------------------------------------------------------
    def scan(self) -> None:
        n = self.build_store()
        batch = self.args.batch
        for r in self.repetitions():
            acc = np.zeros(COLS)
            start = time.perf_counter()
            handle = self.impl.open(self.store)
            seen = 0
            for i in range(0, n, batch):
                block = self.impl.read(handle, i, min(n, i + batch))
                seen += len(block)
                column_sums(block, acc)
            self.impl.close(handle)
            seconds = time.perf_counter() - start
            nbytes = n * COLS * DTYPE.itemsize
            self.emit(r, seconds=seconds, gbps=nbytes / seconds / 1e9, rows=seen,
                      sums=acc.tolist(), disk_bytes=disk_bytes(self.store))

    # W3 ------------------------------------------------------------------
    def gather(self) -> None:
        self.build_store()
        ids = np.load(self.args.ids)
        for r in self.repetitions():
            start = time.perf_counter()
            handle = self.impl.open(self.store)
            out = self.impl.gather(handle, ids)
            self.impl.close(handle)
            seconds = time.perf_counter() - start
            self.emit(r, seconds=seconds, mrows_per_s=len(ids) / seconds / 1e6,
                      rows=int(out.shape[0]), cols=int(out.shape[1]), dtype=str(out.dtype),
                      crc32=crc32_of([out]))
            del out

    # W7 ------------------------------------------------------------------
    def many(self) -> None:
        index = np.load(self.args.index)
        sizes, names = index["sizes"], [str(n) for n in index["names"]]
        order = index["read_order"]
        flat = np.fromfile(self.args.input, dtype=DTYPE)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        arrays = [flat[offsets[i]:offsets[i + 1]] for i in range(len(sizes))]
        read_names = [names[i] for i in order]
        total = int(flat.nbytes)
        for r in self.repetitions():
            remove(self.store)
            settle()
            start = time.perf_counter()
            self.impl.write_many(self.store, names, arrays)
            write_s = time.perf_counter() - start
            settle()
            start = time.perf_counter()
            back = self.impl.read_many(self.store, read_names)
            read_s = time.perf_counter() - start
            wrong = sum(1 for i, b in zip(order, back)
                        if b.dtype != DTYPE or not np.array_equal(b, arrays[i]))
            self.emit(r, write_s=write_s, read_s=read_s,
                      writes_per_s=len(names) / write_s / 1e3,
                      reads_per_s=len(back) / read_s / 1e3,
                      write_gbps=total / write_s / 1e9, read_gbps=total / read_s / 1e9,
                      arrays=len(back), wrong=wrong, bytes=total,
                      disk_bytes=disk_bytes(self.store), crc32=crc32_of(back))
            del back


def main(make_impl, impls: list[str], library: str) -> int:
    """Runs one peer: make_impl(args) returns the library adapter."""
    args = parse_args(impls)
    line = {"impl": args.impl, "workload": args.workload, "codec": args.codec,
            "library": library}
    runner = None
    try:
        impl = make_impl(args)
        refused = impl.supports(args.workload, args.codec)
        if refused:
            raise ValueError(refused)
        line.update(getattr(impl, "details", {}))
        runner = Runner(impl, args, line)
        getattr(runner, args.workload)()
        return 0
    except Exception as e:  # reported as a failed record, then a non-zero exit
        print(json.dumps({**line, "ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        print(f"{Path(sys.argv[0]).name}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        remove(Path(args.store))
