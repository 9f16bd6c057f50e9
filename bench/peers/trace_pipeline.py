#!/usr/bin/python3
"""W7-trace: the cost of a re-run that skips every finished step.

A seeded 3-D float32 volume of SIDE^3 voxels goes through five operations
(standardize, threshold, a 3-point smoothing along z, a z-projection and a
histogram) applied with larder.Trace.apply; then the same five applies run
again on the linked trace, where every step is skipped. One JSON record per
repetition: both times, their ratio in percent, and how many steps the
second run skipped (all five, or the record is wrong). Run with
PYTHONPATH=<build>/python.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

import larder


@larder.operation("bench.standardize")
def standardize(x):
    x = np.asarray(x, dtype=np.float32)
    return (x - x.mean()) / x.std()


@larder.operation("bench.threshold")
def threshold(x, level=0.0):
    return np.asarray(x) > level


@larder.operation("bench.smooth_z")
def smooth_z(x):
    x = np.asarray(x, dtype=np.float32)
    out = x.copy()
    out[1:-1] = (x[:-2] + x[1:-1] + x[2:]) / 3
    return out


@larder.operation("bench.project_z")
def project_z(mask):
    return np.asarray(mask).sum(axis=0, dtype=np.int32)


@larder.operation("bench.histogram")
def histogram(x, bins=64):
    counts, _ = np.histogram(np.asarray(x), bins=bins)
    return counts


STEPS = [
    ("bench.standardize", ["volume"], ["z"], {}),
    ("bench.smooth_z", ["z"], ["smooth"], {}),
    ("bench.threshold", ["smooth"], ["mask"], {"level": 0.1}),
    ("bench.project_z", ["mask"], ["projection"], {}),
    ("bench.histogram", ["smooth"], ["hist"], {"bins": 64}),
]


def pipeline(folder) -> int:
    """The five steps on the trace in `folder`; returns how many were skipped."""
    with larder.Trace.link(folder) as t:
        return sum(t.apply(name, i, o, params=p).skipped for name, i, o, p in STEPS)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=192)
    p.add_argument("--work", required=True, help="working folder; removed at the end")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    args = p.parse_args()
    work = Path(args.work)
    line = {"impl": "larder", "side": args.side}
    try:
        volume = np.random.default_rng(7).standard_normal((args.side,) * 3, dtype=np.float32)
        for r in range(-args.warmup, args.repeat):
            shutil.rmtree(work, ignore_errors=True)
            with larder.Trace.create(work, seed=1) as t:
                t.volume = volume
                folder = t.folder
            start = time.perf_counter()
            first_skipped = pipeline(folder)
            first = time.perf_counter() - start
            start = time.perf_counter()
            skipped = pipeline(folder)
            second = time.perf_counter() - start
            print(json.dumps({**line, "repeat": r, "warmup": r < 0, "ok": first_skipped == 0,
                              "first_s": first, "second_s": second,
                              "skip_cost_pct": 100 * second / first, "skipped": skipped,
                              "steps": len(STEPS)}), flush=True)
        return 0
    except Exception as e:
        print(json.dumps({**line, "ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        print(f"trace_pipeline.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
