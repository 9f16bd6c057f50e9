"""Storage workloads of BENCH.md: W1 append, W2 scan, W3 gather, W7 many
small arrays — larder's Python API next to numpy, h5py, PyTables and zarr.

Every implementation is a script in bench/peers/ (storage_<library>.py, the
shared loop in storage_common.py) run in its own process with Debian's
/usr/bin/python3; larder's gets PYTHONPATH=<build>/python. W2 and W3 first
write the W1 array with the library being measured (not timed) and read it
warm from the page cache.

Inputs, generated once per SCALE under <data>/storage with seeded numpy:
  rows   8,000,000 x 16 float32 (x SCALE): columns 0-3 uniform [0, 1),
         4-7 normal, 8-11 Poisson(5) counts, 12-15 normal rounded to 1/16
  ids    100,000 (x SCALE) uniform random row ids, unsorted, with repeats
  many   2,000 (x SCALE) float32 arrays of 1 KiB to 1 MiB (Beta(0.5, 1.5)
         over that range: skewed small, ~528 MB at SCALE=1), and the order
         W7 reads them back in
Each has a .json next to it with what a correct result must show (crc32 of
the rows, column sums, crc32 of the gathered rows, ...), computed here from
the input, never by an implementation.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import zlib
from pathlib import Path

import numpy as np

from harness import Case, Context, Info, Metric, Record, Run, Target, Workload, progress

SEED = 20240607
COLS = 16
DTYPE = np.dtype("<f4")
BATCH_ROWS = 4096
CHUNK_ROWS = 4096
BASE_ROWS = 8_000_000  # W1, at SCALE=1
BASE_IDS = 100_000  # W3
BASE_ARRAYS = 2_000  # W7
ARRAY_BYTES = (1 << 10, 1 << 20)  # W7 sizes: from 1 KiB to 1 MiB
GENERATOR_BLOCK = 1 << 18  # rows per seeded block; part of the data's definition
GENERATOR_VERSION = 1  # bump when the generators change

# impl -> (peer script in bench/peers, its --impl, store suffix)
IMPLS = {
    "larder": ("storage_larder.py", "larder", ".h5"),
    "larder-mmap": ("storage_larder.py", "larder", ".lmm"),  # the driver follows the suffix
    "larder-zarr": ("storage_larder.py", "larder", ".zarr"),
    "larder-trace": ("storage_trace.py", "trace", ".trace"),  # a working folder
    "numpy-raw": ("storage_numpy.py", "raw", ".raw"),
    "numpy-memmap": ("storage_numpy.py", "memmap", ".raw"),
    "h5py": ("storage_h5py.py", "h5py", ".h5"),
    "tables": ("storage_tables.py", "tables", ".h5"),
    "zarr": ("storage_zarr.py", "zarr", ".zarr"),
}


@dataclasses.dataclass(frozen=True)
class CodecCase:
    codec: str  # none | lzf | blosc-lz4 (blosc: lz4 level 5, byte shuffle)
    peers: tuple[str, ...]
    target: Target | tuple[Target, ...] | None = None


# ---------------------------------------------------------------- inputs


def row_count(ctx: Context) -> int:
    return max(BATCH_ROWS, round(BASE_ROWS * ctx.scale))


def folder(ctx: Context) -> Path:
    return ctx.data / "storage"


def rows_path(ctx: Context) -> Path:
    return folder(ctx) / f"rows-{row_count(ctx)}x{COLS}-f32.v{GENERATOR_VERSION}.raw"


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def write_atomically(path: Path, write) -> None:
    """write(tmp) fills a temporary file, renamed to path once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def read_expect(path: Path) -> dict | None:
    """The expectations of an input, if both it and they are complete."""
    try:
        return json.loads(sidecar(path).read_text()) if path.is_file() else None
    except (OSError, ValueError):
        return None


def row_blocks(n: int):
    """The W1 rows, generated block by block from seeded generators."""
    for block, start in enumerate(range(0, n, GENERATOR_BLOCK)):
        rng = np.random.default_rng([SEED, 1, block])
        m = min(GENERATOR_BLOCK, n - start)
        out = np.empty((m, COLS), dtype=DTYPE)
        out[:, 0:4] = rng.random((m, 4), dtype=np.float32)
        out[:, 4:8] = rng.standard_normal((m, 4), dtype=np.float32)
        out[:, 8:12] = rng.poisson(5.0, (m, 4))
        out[:, 12:16] = np.round(rng.standard_normal((m, 4)) * 16) / 16
        yield out


def prepare_rows(ctx: Context) -> dict:
    path = rows_path(ctx)
    expect = read_expect(path)
    if expect is not None:
        return expect
    n = row_count(ctx)
    progress(f"storage: generating {path} ({n * COLS * DTYPE.itemsize / 1e6:.0f} MB)")
    sums, abs_sums, crc = np.zeros(COLS), np.zeros(COLS), 0

    def write(tmp: Path) -> None:
        nonlocal sums, abs_sums, crc
        with open(tmp, "wb") as f:
            for block in row_blocks(n):
                sums += block.sum(axis=0, dtype=np.float64)
                abs_sums += np.abs(block).sum(axis=0, dtype=np.float64)
                crc = zlib.crc32(block, crc)
                block.tofile(f)

    write_atomically(path, write)
    expect = {"rows": n, "cols": COLS, "bytes": n * COLS * DTYPE.itemsize,
              "crc32": f"{crc:08x}", "sums": sums.tolist(), "abs_sums": abs_sums.tolist()}
    write_atomically(sidecar(path), lambda tmp: tmp.write_text(json.dumps(expect)))
    return expect


def ids_path(ctx: Context) -> Path:
    k = max(100, round(BASE_IDS * ctx.scale))
    return folder(ctx) / f"ids-{k}-of-{row_count(ctx)}.v{GENERATOR_VERSION}.npy"


def prepare_ids(ctx: Context) -> dict:
    path = ids_path(ctx)
    expect = read_expect(path)
    if expect is not None:
        return expect
    prepare_rows(ctx)
    n, k = row_count(ctx), max(100, round(BASE_IDS * ctx.scale))
    ids = np.random.default_rng([SEED, 3]).integers(0, n, k, dtype=np.int64)
    rows = np.memmap(rows_path(ctx), dtype=DTYPE, mode="r").reshape(-1, COLS)
    gathered = np.ascontiguousarray(rows[ids])
    write_atomically(path, lambda tmp: np.save(tmp, ids))
    expect = {"rows": k, "cols": COLS, "dtype": "float32", "crc32": f"{zlib.crc32(gathered):08x}"}
    write_atomically(sidecar(path), lambda tmp: tmp.write_text(json.dumps(expect)))
    return expect


def many_paths(ctx: Context) -> tuple[Path, Path]:
    count = max(10, round(BASE_ARRAYS * ctx.scale))
    base = folder(ctx) / f"many-{count}.v{GENERATOR_VERSION}"
    return base.with_name(base.name + ".f32"), base.with_name(base.name + ".npz")


def prepare_many(ctx: Context) -> dict:
    data, index = many_paths(ctx)
    expect = read_expect(data)
    if expect is not None and index.is_file():
        return expect
    count = max(10, round(BASE_ARRAYS * ctx.scale))
    rng = np.random.default_rng([SEED, 7])
    low, high = ARRAY_BYTES
    nbytes = low + (high - low) * rng.beta(0.5, 1.5, count)
    sizes = (nbytes // DTYPE.itemsize).astype(np.int64)
    names = np.array([f"a{i:05d}" for i in range(count)])
    order = rng.permutation(count)
    progress(f"storage: generating {data} ({count} arrays, "
             f"{sizes.sum() * DTYPE.itemsize / 1e6:.0f} MB)")
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in sizes]

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            for a in arrays:
                a.tofile(f)

    write_atomically(data, write)
    write_atomically(index, lambda tmp: np.savez(tmp, sizes=sizes, names=names, read_order=order))
    crc = 0
    for i in order:
        crc = zlib.crc32(arrays[i], crc)
    expect = {"arrays": count, "wrong": 0, "bytes": int(sizes.sum()) * DTYPE.itemsize,
              "crc32": f"{crc:08x}"}
    write_atomically(sidecar(data), lambda tmp: tmp.write_text(json.dumps(expect)))
    return expect


# ---------------------------------------------------------------- workloads


class StorageWorkload(Workload):
    """What W1, W2, W3 and W7 share: one case per codec, one run per
    implementation, each a peer script with the same arguments."""

    mode = ""  # the peers' --workload
    codec_cases: tuple[CodecCase, ...] = ()
    mmap = False  # uncompressed cases also run larder's memory-mapped store
    zarr = False  # uncompressed and blosc-lz4 cases also run larder's zarr driver
    trace = False  # uncompressed cases also run through a larder Trace (W7)

    def missing(self, ctx: Context) -> list[str]:
        package = ctx.build / "python" / "larder"
        if (package / "__init__.py").is_file() and any(package.glob("_larder*.so")):
            return []
        return [f"{package} (build it: ninja -C {ctx.build} _larder)"]

    def inputs(self, ctx: Context) -> tuple[list[str], dict]:
        """The peers' input arguments and the expected record fields."""
        raise NotImplementedError

    def check(self, ctx: Context):
        """A further check of each record (see harness.Case.check), or None."""
        return None

    def run(self, ctx: Context, impl: str, codec: str, args: list[str]) -> Run:
        script, impl_arg, suffix = IMPLS[impl]
        store = folder(ctx) / "work" / f"{self.name}-{impl}-{codec}{suffix}"
        argv = [ctx.python, str(ctx.repo / "bench" / "peers" / script), "--impl", impl_arg,
                "--workload", self.mode, "--codec", codec, *args, "--store", str(store),
                "--batch", str(BATCH_ROWS), "--chunk-rows", str(CHUNK_ROWS),
                "--repeat", str(ctx.repeat), "--warmup", str(ctx.warmup)]
        # The HDF5 blosc filter under h5py uses blosc's global context, whose
        # thread count comes from this variable (PyTables and zarr set theirs).
        env = {"BLOSC_NTHREADS": str(os.cpu_count() or 1)}
        if impl.startswith("larder"):
            env["PYTHONPATH"] = str(ctx.build / "python")
        return Run(impl, argv, subject=impl.startswith("larder"), env=env)

    def cases(self, ctx: Context) -> list[Case]:
        args, expect = self.inputs(ctx)
        cases = []
        for cc in self.codec_cases:
            larder = ["larder"]
            if self.mmap and cc.codec == "none":
                larder.append("larder-mmap")
            if self.zarr and cc.codec in ("none", "blosc-lz4"):
                larder.append("larder-zarr")
            if self.trace and cc.codec == "none":
                larder.append("larder-trace")
            runs = [self.run(ctx, impl, cc.codec, args) for impl in (*larder, *cc.peers)]
            cases.append(Case(key={"codec": cc.codec}, runs=runs, expect=expect,
                              check=self.check(ctx), target=cc.target))
        return cases


class AppendWorkload(StorageWorkload):
    id = "W1"
    name = "append"
    title = ("append 8M x 16 float32 rows (x SCALE) in batches of 4096 to a new "
             "extendable array, chunks 4096 x 16 (GB/s of rows)")
    mode = "append"
    mmap = True
    zarr = True
    metrics = (Metric("gbps", "write GB/s"),)
    infos = (Info("ratio", "size ratio"),)
    codec_cases = (
        # BENCH.md: uncompressed HDF5 >= 0.9x numpy raw, mmap >= 1x;
        # blosc-lz4 HDF5 >= 2x PyTables. The zarr rows have no goal.
        CodecCase("none", ("numpy-raw", "h5py", "tables"),
                  (Target(0.9, "numpy-raw", subjects=("larder",)),
                   Target(1, "numpy-raw", subjects=("larder-mmap",)))),
        CodecCase("lzf", ("h5py",)),
        CodecCase("blosc-lz4", ("h5py", "tables", "zarr"),
                  Target(2, "tables", subjects=("larder",))),
    )

    def prepare(self, ctx: Context) -> None:
        prepare_rows(ctx)

    def inputs(self, ctx):
        e = prepare_rows(ctx)
        return ["--input", str(rows_path(ctx))], {k: e[k] for k in ("rows", "cols", "bytes",
                                                                    "crc32")}


class ScanWorkload(StorageWorkload):
    id = "W2"
    name = "scan"
    title = ("read the W1 array back in batches of 4096 rows, summing the columns; "
             "warm page cache (GB/s of rows)")
    mode = "scan"
    mmap = True
    zarr = True
    metrics = (Metric("gbps", "read GB/s"),)
    codec_cases = (
        CodecCase("none", ("numpy-raw", "numpy-memmap", "h5py", "tables"),
                  Target(1, "numpy-memmap")),
        CodecCase("lzf", ("h5py",)),
        CodecCase("blosc-lz4", ("h5py", "tables", "zarr"), Target(2)),
    )

    def prepare(self, ctx: Context) -> None:
        prepare_rows(ctx)

    def inputs(self, ctx):
        e = prepare_rows(ctx)
        return ["--input", str(rows_path(ctx))], {"rows": e["rows"]}

    def check(self, ctx):
        e = prepare_rows(ctx)
        return sums_check(e["sums"], e["abs_sums"])


def sums_check(want: list[float], abs_sums: list[float]):
    """W2: the column sums must match the input's within float32 rounding
    (each implementation sums 64-row float32 partials in float64)."""

    def check(record: Record) -> list[str]:
        got = record.get("sums")
        if not isinstance(got, list) or len(got) != len(want):
            return [f"sums is {got!r}, expected {len(want)} numbers"]
        bad = [j for j, (g, w, a) in enumerate(zip(got, want, abs_sums))
               if not math.isfinite(g) or abs(g - w) > 1e-5 * a + 1e-3]
        return [f"column {j} sums to {got[j]!r}, expected {want[j]!r}" for j in bad[:3]]

    return check


class GatherWorkload(StorageWorkload):
    id = "W3"
    name = "gather"
    title = ("gather 100,000 (x SCALE) uniform random row ids, unsorted with repeats, "
             "from the W1 array into one array in their order (M rows/s)")
    mode = "gather"
    mmap = True
    zarr = True
    metrics = (Metric("mrows_per_s", "M rows/s"),)
    codec_cases = (
        # BENCH.md: mmap >= 1x numpy, HDF5 blosc >= 10x h5py; the other
        # rows are shown beside them without a goal.
        CodecCase("none", ("numpy-memmap", "h5py", "tables"),
                  Target(1, "numpy-memmap", subjects=("larder-mmap",))),
        CodecCase("blosc-lz4", ("h5py", "tables", "zarr"),
                  Target(10, "h5py", subjects=("larder",))),
    )

    def prepare(self, ctx: Context) -> None:
        prepare_ids(ctx)

    def inputs(self, ctx):
        e = prepare_ids(ctx)
        return (["--input", str(rows_path(ctx)), "--ids", str(ids_path(ctx))],
                {k: e[k] for k in ("rows", "cols", "dtype", "crc32")})


class ManyWorkload(StorageWorkload):
    id = "W7"
    name = "many"
    title = ("store 2,000 (x SCALE) named float32 arrays of 1 KiB-1 MiB one by one, then "
             "read them back one by one in shuffled order (k arrays/s)")
    mode = "many"
    metrics = (Metric("writes_per_s", "write k/s"), Metric("reads_per_s", "read k/s"))
    infos = (Info("write_gbps", "write GB/s"), Info("read_gbps", "read GB/s"))
    codec_cases = (CodecCase("none", ("h5py", "tables"), Target(2, "h5py")),)
    trace = True

    def prepare(self, ctx: Context) -> None:
        prepare_many(ctx)

    def inputs(self, ctx):
        e = prepare_many(ctx)
        data, index = many_paths(ctx)
        return ["--input", str(data), "--index", str(index)], e
