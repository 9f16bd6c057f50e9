"""W4 of BENCH.md: one shuffled epoch over 2,000,000 (x SCALE) x 16 float32
rows in batches of 256, each batch gathered as one array — larder's Loader
(full permutation and chunk-aware block shuffle) on HDF5 blosc-lz4, mmap and
zarr, next to numpy memmap + permutation, h5py per-batch sorted fancy index
(uncompressed, blosc-lz4, blosc-lz4 with a large chunk cache) and
zarr-python (bench/peers/loader.py, one process per implementation).

The rows are W1's generator (workloads/storage.py) at 2,000,000 rows,
written once per SCALE under <data>/loader as raw float32 with a .json of
their sum; each store (chunks of 4096 x 16, blosc-lz4 level 5 byte shuffle)
is written by larder from them, untimed, and read by every library. h5py
without a large cache reads only the first 100,000 (x SCALE) rows of each
epoch, and so does zarr-python: a whole epoch takes them minutes. Checks: every row id at most once
(exactly once for whole epochs) and the sum of the batches equal to the
input's sum (whole epochs) or to the rows' sum read from the raw file
(prefixes), to a relative 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness import Case, Context, Metric, Record, Run, Target, Workload, missing_python_package, progress
from workloads.storage import COLS, row_blocks, write_atomically

BASE_ROWS = 2_000_000
PREFIX_ROWS = 100_000
VERSION = 1
BIG_CACHE_MB = 1024


def rows(ctx: Context) -> int:
    return max(10_000, round(BASE_ROWS * ctx.scale))


def raw_path(ctx: Context) -> Path:
    return ctx.data / "loader" / f"rows-{rows(ctx)}x{COLS}.v{VERSION}.raw"


def prepare(ctx: Context) -> dict:
    path = raw_path(ctx)
    expect_path = path.with_suffix(".json")
    if path.is_file() and expect_path.is_file():
        return json.loads(expect_path.read_text())
    n = rows(ctx)
    progress(f"W4: generating {path} ({n * COLS * 4 / 1e6:.0f} MB)")
    total = 0.0

    def write(tmp: Path) -> None:
        nonlocal total
        with open(tmp, "wb") as f:
            left = n
            for block in row_blocks(n):
                block = block[:left]
                total += float(block.sum(dtype=np.float64))
                block.tofile(f)
                left -= len(block)

    write_atomically(path, write)
    expect = {"rows": n, "sum": total}
    write_atomically(expect_path, lambda tmp: tmp.write_text(json.dumps(expect)))
    return expect


def sum_check(expect: dict):
    def check(record: Record) -> list[str]:
        want = expect["sum"] if record.get("full_epoch") else record.get("prefix_sum")
        got = record.get("sum")
        if not isinstance(got, (int, float)) or not isinstance(want, (int, float)):
            return ["sum missing"]
        if abs(got - want) > 1e-9 * max(1.0, abs(want)):
            return [f"sum of the batches {got!r} differs from the rows' {want!r}"]
        return []
    return check


class LoaderWorkload(Workload):
    id = "W4"
    name = "loader"
    title = ("one shuffled epoch over 2M (x SCALE) x 16 float32 rows, batches of 256 "
             "gathered as arrays")
    metrics = (Metric("mrows_per_s", "M rows/s"),)

    def missing(self, ctx: Context) -> list[str]:
        return missing_python_package(ctx)

    def prepare(self, ctx: Context) -> None:
        prepare(ctx)

    def cases(self, ctx: Context) -> list[Case]:
        expect = prepare(ctx)
        raw = raw_path(ctx)
        work = ctx.data / "loader" / f"stores-{rows(ctx)}.v{VERSION}"
        prefix = max(1000, round(PREFIX_ROWS * ctx.scale))

        def run(label: str, impl: str, store: str | None, *extra: str, subject=False) -> Run:
            argv = [ctx.python, str(ctx.repo / "bench" / "peers" / "loader.py"), "--impl", impl,
                    "--raw", str(raw), "--repeat", str(ctx.repeat), "--warmup", str(ctx.warmup),
                    *extra]
            if store is not None:
                argv += ["--store", str(work / store)]
            return Run(label, argv, subject=subject, env={"PYTHONPATH": str(ctx.build / "python")})

        blosc = ("--codec", "blosc-lz4")
        big = ("--cache-mb", str(BIG_CACHE_MB))
        check = sum_check(expect)
        return [
            Case(key={"storage": "hdf5 blosc-lz4"}, check=check, target=Target(20, "h5py big cache"),
                 runs=[run("larder full, big cache", "larder", "x.h5", *blosc, *big, subject=True),
                       run("larder block", "larder", "x.h5", *blosc, "--shuffle", "block",
                           subject=True),
                       run("h5py big cache", "h5py", "x.h5", *blosc, *big),
                       run("h5py", "h5py", "x.h5", *blosc, "--max-rows", str(prefix)),
                       run("h5py uncompressed", "h5py", "x-none.h5", "--max-rows", str(prefix))]),
            Case(key={"storage": "mmap"}, check=check, target=Target(1, "numpy-memmap"),
                 runs=[run("larder full", "larder", "x.lmm", subject=True),
                       run("larder block", "larder", "x.lmm", "--shuffle", "block", subject=True),
                       run("numpy-memmap", "numpy-memmap", None)]),
            Case(key={"storage": "zarr blosc-lz4"}, check=check,
                 runs=[run("larder full, big cache", "larder", "x.zarr", *blosc, *big, subject=True),
                       run("larder block", "larder", "x.zarr", *blosc, "--shuffle", "block",
                           subject=True),
                       run("zarr", "zarr", "x.zarr", *blosc, "--max-rows", str(prefix))]),
        ]
