"""W5 of BENCH.md: 1,000,000 (x SCALE) ragged float32 records with
Poisson(40) lengths — write all (in batches of 10,000 records), read all in
order, read 10,000 random records — larder's compressed HDF5 ragged records
next to numpy flat values + offsets, an h5py variable-length dataset and a
PyTables VLArray (bench/peers/ragged.py, one process per implementation).

The input, generated once per SCALE under <data>/ragged with seeded numpy:
lengths ~ Poisson(40); values 25 + Exponential(30) rounded to 1/100 (a jet
momentum spectrum in GeV); 10,000 uniform random record ids, with repeats.
Its .json holds the crc32s a correct run must print.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

from harness import Case, Context, Info, Metric, Run, Target, Workload, missing_python_package, progress

SEED = 20261121
BASE_RECORDS = 1_000_000
RANDOM_READS = 10_000
VERSION = 1


def paths(ctx: Context) -> dict[str, Path]:
    n = max(RANDOM_READS, round(BASE_RECORDS * ctx.scale))
    base = ctx.data / "ragged" / f"r{n}.v{VERSION}"
    return {"values": base.with_suffix(".values.raw"), "offsets": base.with_suffix(".offsets.npy"),
            "ids": base.with_suffix(".ids.npy"), "expect": base.with_suffix(".json"), "n": n}


def crc32_of(a: np.ndarray, crc: int = 0) -> int:
    return zlib.crc32(np.ascontiguousarray(a).view(np.uint8).reshape(-1), crc)


def prepare(ctx: Context) -> dict:
    p = paths(ctx)
    if p["expect"].is_file() and p["values"].is_file():
        return json.loads(p["expect"].read_text())
    progress(f"W5: generating {p['n']:,} ragged records")
    rng = np.random.default_rng(SEED)
    lengths = rng.poisson(40, p["n"])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    values = (np.round((25 + rng.exponential(30, int(offsets[-1]))) * 100) / 100).astype("<f4")
    ids = rng.integers(0, p["n"], RANDOM_READS).astype(np.int64)
    random_crc = 0
    for i in ids:
        random_crc = crc32_of(values[offsets[i]:offsets[i + 1]], random_crc)
    p["values"].parent.mkdir(parents=True, exist_ok=True)
    values.tofile(p["values"])
    np.save(p["offsets"], offsets)
    np.save(p["ids"], ids)
    expect = {"records": p["n"], "crc32_all": f"{crc32_of(values):08x}",
              "crc32_random": f"{random_crc:08x}"}
    p["expect"].write_text(json.dumps(expect))
    return expect


class RaggedWorkload(Workload):
    id = "W5"
    name = "ragged"
    title = ("1M (x SCALE) ragged float32 records, Poisson(40) lengths: write all, read all "
             "in order, read 10,000 random records")
    metrics = (Metric("write_mrps", "write M rec/s"), Metric("read_mrps", "read M rec/s"),
               Metric("random_krps", "random k rec/s"))
    infos = (Info("ratio", "size ratio"),)

    def missing(self, ctx: Context) -> list[str]:
        return missing_python_package(ctx)

    def prepare(self, ctx: Context) -> None:
        prepare(ctx)

    def cases(self, ctx: Context) -> list[Case]:
        expect = prepare(ctx)
        p = paths(ctx)
        work = ctx.data / "ragged" / "work"

        def run(impl: str, codec: str, suffix: str) -> Run:
            argv = [ctx.python, str(ctx.repo / "bench" / "peers" / "ragged.py"), "--impl", impl,
                    "--codec", codec, "--values", str(p["values"]), "--offsets",
                    str(p["offsets"]), "--ids", str(p["ids"]),
                    "--store", str(work / f"W5-{impl}-{codec}{suffix}"),
                    "--repeat", str(ctx.repeat), "--warmup", str(ctx.warmup)]
            env = {"PYTHONPATH": str(ctx.build / "python")} if impl == "larder" else None
            return Run(impl if codec == "none" else f"{impl} {codec}", argv,
                       subject=impl == "larder", env=env)

        runs = [run("larder", "blosc-lz4", ".h5"), run("numpy", "none", ".flat"),
                run("h5py", "none", ".h5"), run("tables", "none", ".h5")]
        return [Case(key={"codec": "larder blosc-lz4; peers none"}, runs=runs, expect=expect,
                     target=Target(1, "numpy"))]
