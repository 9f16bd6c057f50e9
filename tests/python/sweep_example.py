"""Writes the parameter sweep of dantro's integration example (random walk and
agent model, seed x max_step_size) the way that example writes it: per run a
``sim_<state>/`` directory with ``data.h5`` (h5py; ``abm/energy`` a group of
one dataset per step with ``content: time_series``), ``params.yml`` and
``sim.log``, plus ``pspace.yml`` holding the ``!pspace`` and the load config
as users write it. Used by tests/python/test_tree.py and bench/workloads/tree.py.

State numbers follow paramspace: dimensions sorted by path
(random_walk.max_step_size, then seed), the last one varying fastest, each
with its default at index 0; names zero-padded to the widest number.
"""

import itertools
import os

import h5py
import numpy as np

LOAD_CFG = r"""
# Load the parameter space object into the ParamSpaceGroup attributes
pspace:
  loader: yaml_to_object    # ... to load it as an ObjectContainer
  glob_str: pspace.yml
  required: true
  load_as_attr: true
  unpack_data: true         # ... and store as ParamSpace obj.
  target_path: simulations

# Load the configuration files that are generated for _each_ simulation
sim_params:
  loader: yaml
  glob_str: sim_*/params.yml
  required: true
  path_regex: sim_(\d+)/params.yml
  target_path: simulations/{match:}/params

# Load the binary output data from each simulation.
sim_data:
  loader: hdf5
  glob_str: sim_*/data.h5
  required: true
  path_regex: sim_(\d+)/data.h5
  target_path: simulations/{match:}/data
  enable_mapping: true
  map_from_attr: content  # which attribute to use for key of type mapping
  parallel: true

# Load the logging output for each simulation
sim_log:
  loader: text
  glob_str: sim_*/sim.log
  required: false
  path_regex: sim_(\d+)/sim.log
  target_path: simulations/{match:}/log
"""


def pspace_yaml(seeds, step_sizes, num_steps, abm_steps, num_agents):
    return f"""!pspace
abm:
  init:
    energy: 1.0
  iterate:
    dE_eat: 0.1
    dE_live: -0.05
    p_death: 0.01
    p_eat: 0.1
  num_agents: {num_agents}
  num_steps: {abm_steps}
random_walk:
  initial_state: 0.0
  max_step_size: !pdim
    default: 1.0
    values: [{", ".join(repr(float(s)) for s in step_sizes)}]
  num_steps: {num_steps}
seed: !pdim
  default: 42
  values: [{", ".join(str(s) for s in seeds)}]
"""


def state_numbers(num_seeds, num_step_sizes):
    """{(seed index, step index): state number}, indices from 0."""
    out = {}
    for i, j in itertools.product(range(num_seeds), range(num_step_sizes)):
        # max_step_size (slower) then seed (fastest); index 0 is the default.
        out[(i, j)] = (j + 1) * (num_seeds + 1) + (i + 1)
    return out


def state_width(num_seeds, num_step_sizes):
    return len(str((num_seeds + 1) * (num_step_sizes + 1) - 1))


def random_walk(seed, num_steps, max_step_size):
    rng = np.random.default_rng(seed)
    steps = rng.uniform(-max_step_size, max_step_size, size=num_steps + 1)
    steps[0] = 0.0
    return np.cumsum(steps)


def write_run(out_dir, seed, max_step_size, num_steps, abm_steps, num_agents):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(1000 + seed)
    log = [f"Creating output directory {out_dir} ...", f"Setting PRNG seed to {seed} ..."]
    with h5py.File(os.path.join(out_dir, "data.h5"), "w") as f:
        f.create_dataset("random_walk", data=random_walk(seed, num_steps, max_step_size))
        g = f.create_group("abm")
        mean_energy = g.create_dataset("mean_energy", shape=(abm_steps + 1,), dtype="float64",
                                       fillvalue=np.nan)
        num_alive = g.create_dataset("num_agents", shape=(abm_steps + 1,), dtype="uint32",
                                     fillvalue=0)
        energy = np.ones(num_agents)
        for step in range(abm_steps + 1):
            if step:
                energy = energy - 0.05 + 0.1 * (rng.random(energy.size) < 0.1)
                energy = energy[energy > 0]
            g.create_dataset(f"energy/{step}", data=energy)
            mean_energy[step] = energy.mean() if energy.size else np.nan
            num_alive[step] = energy.size
            g["energy"].attrs["content"] = "time_series"
            if not energy.size:
                break
    params = f"""abm:
  num_agents: {num_agents}
  num_steps: {abm_steps}
random_walk:
  initial_state: 0.0
  max_step_size: {float(max_step_size)!r}
  num_steps: {num_steps}
seed: {seed}
"""
    with open(os.path.join(out_dir, "params.yml"), "w") as f:
        f.write(params)
    log.append("Storing log output ... good bye!")
    with open(os.path.join(out_dir, "sim.log"), "w") as f:
        f.write("\n".join(log) + "\n")


def write_sweep(base, seeds=(0, 1, 2), step_sizes=(0.1, 1.0), num_steps=20, abm_steps=6,
                num_agents=8):
    """Writes the sweep into `base`; returns {state name: (seed, max_step_size)}."""
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, "pspace.yml"), "w") as f:
        f.write(pspace_yaml(seeds, step_sizes, num_steps, abm_steps, num_agents))
    with open(os.path.join(base, "load.yml"), "w") as f:
        f.write(LOAD_CFG)
    width = state_width(len(seeds), len(step_sizes))
    runs = {}
    for (i, j), state in state_numbers(len(seeds), len(step_sizes)).items():
        name = f"{state:0{width}d}"
        write_run(os.path.join(base, "sim_" + name), seeds[i], step_sizes[j], num_steps,
                  abm_steps, num_agents)
        runs[name] = (seeds[i], step_sizes[j])
    return runs
