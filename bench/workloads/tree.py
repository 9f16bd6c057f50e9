"""W8 of BENCH.md: load a parameter sweep of 30 runs (and of 1,000 runs) —
each an HDF5 file of nested groups, a YAML params file and a text log — into
a data tree from dantro's load config, then select data/random_walk from
every run into one N-D array: larder.DataManager next to a plain Python loop
with h5py + PyYAML building the same nested dict and stacked array
(bench/peers/tree.py, one process each).

The inputs, generated once under <data>/tree by tests/python/sweep_example.py
(the sweep of dantro's integration example): 10 seeds x 3 step sizes, and
100 seeds x 10 step sizes; random walks of 1,024 steps, an agent model of 42
agents over up to 30 steps. Sizes do not follow SCALE (the run counts are the
workload). Each sweep's .json holds the checksum of the selected array.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness import Case, Context, Metric, Run, Target, Workload, missing_python_package, progress

VERSION = 1
SWEEPS = {30: (10, 3), 1000: (100, 10)}


def paths(ctx: Context, runs: int) -> dict:
    base = ctx.data / "tree" / f"sweep{runs}.v{VERSION}"
    return {"base": base, "expect": base.with_suffix(".json")}


def prepare_sweep(ctx: Context, runs: int) -> dict:
    p = paths(ctx, runs)
    if p["expect"].is_file():
        return json.loads(p["expect"].read_text())
    sys.path.insert(0, str(ctx.repo / "tests" / "python"))
    import numpy as np
    import sweep_example

    seeds, steps = SWEEPS[runs]
    progress(f"W8: generating a sweep of {runs} runs")
    step_sizes = tuple(round(0.1 * (i + 1), 1) for i in range(steps))
    written = sweep_example.write_sweep(str(p["base"]), seeds=tuple(range(seeds)),
                                        step_sizes=step_sizes, num_steps=1023, abm_steps=30,
                                        num_agents=42)
    walks = np.stack([np.stack([sweep_example.random_walk(s, 1023, m) for s in range(seeds)])
                      for m in step_sizes])
    expect = {"runs": len(written), "checksum": round(float(walks.sum()), 6)}
    p["expect"].write_text(json.dumps(expect))
    return expect


class TreeWorkload(Workload):
    id = "W8"
    name = "tree"
    title = ("load a sweep of 30 / 1,000 runs (HDF5 + YAML + log each) into a data tree from a "
             "load config and select one field of every run into one N-D array")
    metrics = (Metric("rps", "runs/s"),)

    def missing(self, ctx: Context) -> list[str]:
        return missing_python_package(ctx)

    def prepare(self, ctx: Context) -> None:
        for runs in SWEEPS:
            prepare_sweep(ctx, runs)

    def cases(self, ctx: Context) -> list[Case]:
        cases = []
        for runs in SWEEPS:
            expect = prepare_sweep(ctx, runs)
            base = paths(ctx, runs)["base"]

            def run(impl: str, label: str) -> Run:
                argv = [ctx.python, str(ctx.repo / "bench" / "peers" / "tree.py"), "--impl", impl,
                        "--sweep", str(base), "--repeat", str(ctx.repeat),
                        "--warmup", str(ctx.warmup)]
                env = {"PYTHONPATH": str(ctx.build / "python")} if impl == "larder" else None
                return Run(label, argv, subject=impl == "larder", env=env)

            cases.append(Case(key={"runs": str(runs)},
                              runs=[run("larder", "larder DataManager"),
                                    run("h5py", "h5py + PyYAML loop")],
                              expect=expect, target=Target(10, "h5py + PyYAML loop")))
        return cases
