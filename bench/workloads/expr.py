"""W6 of BENCH.md: evaluate `(a > 0.5) & ((b < 0.2) | (c*c + d*d < 1.0))`
over 10,000,000 (x SCALE) rows of four float32 columns, uniform [0, 1),
producing the mask and the count — larder's evaluator on an mmap store and
on HDF5 (uncompressed and blosc-lz4) next to numpy on np.memmap, numexpr
(2 threads) and pandas.eval (bench/peers/expr.py, one process each).

The input, generated once per SCALE under <data>/expr with seeded numpy:
one raw little-endian float32 file per column. Its .json holds the count a
correct run must print.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness import Case, Context, Metric, Run, Target, Workload, missing_python_package, progress

SEED = 20261121
BASE_ROWS = 10_000_000
VERSION = 1
EXPRESSION = "(a > 0.5) & ((b < 0.2) | (c*c + d*d < 1.0))"


def paths(ctx: Context) -> dict:
    n = max(1000, round(BASE_ROWS * ctx.scale))
    base = ctx.data / "expr" / f"n{n}.v{VERSION}"
    return {"base": base, "expect": base.with_suffix(".json"), "n": n}


def prepare(ctx: Context) -> dict:
    p = paths(ctx)
    if p["expect"].is_file():
        return json.loads(p["expect"].read_text())
    progress(f"W6: generating 4 x {p['n']:,} float32 values")
    rng = np.random.default_rng(SEED)
    p["base"].parent.mkdir(parents=True, exist_ok=True)
    columns = {}
    for name in "abcd":
        columns[name] = rng.random(p["n"], dtype=np.float32)
        columns[name].astype("<f4").tofile(f"{p['base']}.{name}.raw")
    a, b, c, d = (columns[k] for k in "abcd")
    count = int(np.count_nonzero((a > 0.5) & ((b < 0.2) | (c * c + d * d < 1.0))))
    expect = {"rows": p["n"], "count": count}
    p["expect"].write_text(json.dumps(expect))
    return expect


class ExprWorkload(Workload):
    id = "W6"
    name = "expr"
    title = ("cut (a > 0.5) & ((b < 0.2) | (c*c + d*d < 1.0)) over 10M (x SCALE) rows of four "
             "float32 columns: mask and count")
    metrics = (Metric("mrps", "M rows/s"),)

    def missing(self, ctx: Context) -> list[str]:
        return missing_python_package(ctx)

    def prepare(self, ctx: Context) -> None:
        prepare(ctx)

    def cases(self, ctx: Context) -> list[Case]:
        expect = prepare(ctx)
        p = paths(ctx)
        work = ctx.data / "expr" / "work"

        def run(impl: str, label: str, store: str = "") -> Run:
            argv = [ctx.python, str(ctx.repo / "bench" / "peers" / "expr.py"), "--impl", impl,
                    "--columns", str(p["base"]), "--rows", str(p["n"]),
                    "--repeat", str(ctx.repeat), "--warmup", str(ctx.warmup)]
            if store:
                argv += ["--store", str(work / store)]
            env = {"PYTHONPATH": str(ctx.build / "python")} if impl.startswith("larder") else None
            return Run(label, argv, subject=impl.startswith("larder"), env=env)

        n = p["n"]
        runs = [run("larder-mmap", "larder mmap", f"W6-{n}.lmm"),
                run("larder-hdf5", "larder hdf5", f"W6-{n}.h5"),
                run("larder-hdf5-lz4", "larder hdf5 blosc-lz4", f"W6-{n}-lz4.h5"),
                run("numpy", "numpy memmap"), run("numexpr", "numexpr 2 threads"),
                run("pandas", "pandas.eval")]
        # The goal is for the store read as numpy reads its memmap; the HDF5
        # rows copy every value out through libhdf5 and are shown beside it.
        return [Case(key={"expression": "W6"}, runs=runs, expect=expect,
                     target=Target(2, "numpy memmap", subjects=("larder mmap",)))]
