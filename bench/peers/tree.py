"""W8 peer: load a sweep directory and select data/random_walk of every run,
for one implementation, one JSON line per repetition.

    --impl larder   larder.DataManager with the sweep's load.yml (dantro's keys),
                    then select(field="data/random_walk") (PYTHONPATH: build/python)
    --impl h5py     a plain loop: PyYAML for pspace.yml and params.yml (paramspace's
                    tags read as mappings), h5py for data.h5 read into a nested dict
                    with attributes, the log as text; the walks stacked by
                    (max_step_size, seed)

The check is the run count and the sum of the selected array. Run with
Debian's /usr/bin/python3.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import time

import numpy as np


def load_h5py(base: str):
    import h5py
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    for tag in ("!pspace", "!pdim", "!coupled-pdim"):
        Loader.add_constructor(tag, lambda loader, node: loader.construct_mapping(node, deep=True))

    def read_group(group):
        out = {"attrs": dict(group.attrs)}
        for name, item in group.items():
            out[name] = read_group(item) if isinstance(item, h5py.Group) else item[()]
        return out

    with open(os.path.join(base, "pspace.yml")) as f:
        tree = {"pspace": yaml.load(f, Loader=Loader), "simulations": {}}
    for path in sorted(glob.glob(os.path.join(base, "sim_*"))):
        state = re.search(r"sim_(\d+)$", path).group(1)
        with open(os.path.join(path, "params.yml")) as f:
            params = yaml.load(f, Loader=Loader)
        with h5py.File(os.path.join(path, "data.h5"), "r") as f:
            data = read_group(f)
        with open(os.path.join(path, "sim.log")) as f:
            log = f.read()
        tree["simulations"][state] = {"params": params, "data": data, "log": log}

    runs = tree["simulations"].values()
    seeds = sorted({r["params"]["seed"] for r in runs})
    steps = sorted({r["params"]["random_walk"]["max_step_size"] for r in runs})
    first = next(iter(runs))["data"]["random_walk"]
    walks = np.empty((len(steps), len(seeds)) + first.shape, dtype=first.dtype)
    for r in runs:
        p = r["params"]
        walks[steps.index(p["random_walk"]["max_step_size"]), seeds.index(p["seed"])] = \
            r["data"]["random_walk"]
    return len(tree["simulations"]), walks


def load_larder(base: str):
    import larder

    dm = larder.DataManager(base, load_cfg=os.path.join(base, "load.yml"), out_dir=False,
                            group_map={"time_series": "TimeSeriesGroup"})
    dm.load_from_cfg()
    walks = dm["simulations"].select(field="data/random_walk").values
    return len(dm["simulations"]), walks


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--impl", choices=("larder", "h5py"), required=True)
    p.add_argument("--sweep", required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()
    run = load_larder if a.impl == "larder" else load_h5py
    for r in range(-a.warmup, a.repeat):
        start = time.perf_counter()
        runs, walks = run(a.sweep)
        seconds = time.perf_counter() - start
        print(json.dumps({"impl": a.impl, "repeat": r, "warmup": r < 0, "ok": True,
                          "runs": runs, "checksum": round(float(walks.sum()), 6),
                          "rps": runs / seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
