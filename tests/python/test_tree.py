"""The data tree: dantro's integration example loaded, printed and selected,
checked against values read directly with h5py and PyYAML."""

import os
import subprocess

import h5py
import numpy as np
import pytest
import yaml

import larder
from sweep_example import write_sweep

SEEDS = (0, 1, 2)
STEPS = (0.1, 1.0)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("sweep"))
    return base, write_sweep(base, seeds=SEEDS, step_sizes=STEPS)


def manager(base, **kwargs):
    kwargs.setdefault("load_cfg", os.path.join(base, "load.yml"))
    kwargs.setdefault("out_dir", False)
    kwargs.setdefault("group_map", {"time_series": "TimeSeriesGroup"})
    kwargs.setdefault("create_groups", [{"path": "simulations", "Cls": "ParamSpaceGroup"}])
    dm = larder.DataManager(base, **kwargs)
    dm.load_from_cfg()
    return dm


def test_load_builds_the_tree_of_the_example(sweep):
    base, runs = sweep
    dm = manager(base)
    sims = dm["simulations"]
    assert sims.classname == "ParamSpaceGroup"
    assert sorted(sims) == sorted(runs)
    space = sims.pspace
    assert isinstance(space, larder.ParamSpace)
    assert space.shape == (len(STEPS), len(SEEDS))
    assert space.dim_names == ["max_step_size", "seed"]
    for name, (seed, step) in runs.items():
        run = sims[name]
        assert run.classname == "ParamSpaceStateGroup"
        assert list(run) == ["params", "data", "log"]
        params = run["params"]
        assert params == yaml.safe_load(open(os.path.join(base, f"sim_{name}", "params.yml")))
        assert params["seed"] == seed
        with h5py.File(os.path.join(base, f"sim_{name}", "data.h5"), "r") as f:
            np.testing.assert_array_equal(run["data/random_walk"].data, f["random_walk"][()])
            np.testing.assert_array_equal(np.asarray(run["data/abm/num_agents"]),
                                          f["abm/num_agents"][()])
            energy = run["data/abm/energy"]
            assert energy.classname == "TimeSeriesGroup"
            assert energy.attrs == {"content": "time_series"}
            assert energy.times == sorted(int(k) for k in f["abm/energy"])
            last = str(energy.times[-1])
            np.testing.assert_array_equal(energy[last].data, f["abm/energy"][last][()])
        assert run["log"].startswith("Creating output directory")
    # int access on a ParamSpaceGroup, '..' and contains
    first = next(iter(runs))
    assert sims[int(first)]["data/../params"] == sims[first]["params"]
    assert sims[".."].path == dm["."].path == f"/{dm.name}"
    assert sims[f"{first}/../.."].classname == "OrderedDataGroup"
    walk = sims[first]["data/random_walk"]
    assert not walk.data.flags.writeable
    assert np.shares_memory(walk.data, walk.data)  # a view of the leaf, not a copy
    assert f"simulations/{first}/data/abm" in dm
    assert "simulations/99" not in dm


def test_missing_key_lists_the_keys(sweep):
    base, runs = sweep
    dm = manager(base)
    first = next(iter(runs))
    with pytest.raises(KeyError) as info:
        dm[f"simulations/{first}/dat"]
    assert "params, data, log" in str(info.value)
    with pytest.raises(larder.InvalidArgumentError):
        dm["/simulations"]


def test_printing_full_and_condensed(sweep):
    base, runs = sweep
    dm = manager(base)
    full = dm.tree
    condensed = dm.tree_condensed
    assert full.startswith("Tree of DataManager ")
    assert " └─ simulations" in full
    assert "<ParamSpaceGroup, 6 members, 1 attribute>" in full
    assert "<ParamSpaceStateGroup, 3 members, 0 attributes>" in full
    assert "<MutableMappingContainer, 1 attribute>" in full
    assert "<StringContainer, str stored, 1 attribute>" in full
    assert "<NumpyDataContainer, float64, shape (21,), 0 attributes>" in full
    assert "<XrDataContainer, float64, (dim_0: 8), 0 attributes>" in full
    # Level 1 (the runs) shows 3 lines of 6: two runs, "... (4 more) ..."
    assert "... (4 more) ..." in condensed
    assert len(condensed.splitlines()) < len(full.splitlines())


def test_select_concat_and_merge(sweep):
    base, runs = sweep
    dm = manager(base)
    sel = dm["simulations"].select(field="data/random_walk")
    assert sel.dims == ("max_step_size", "seed", "dim_0")
    assert sel.values.shape == (len(STEPS), len(SEEDS), 21)
    assert list(sel.coords["seed"]) == list(SEEDS)
    assert list(sel.coords["max_step_size"]) == list(STEPS)
    for name, (seed, step) in runs.items():
        with h5py.File(os.path.join(base, f"sim_{name}", "data.h5"), "r") as f:
            expected = f["random_walk"][()]
        np.testing.assert_array_equal(sel.values[STEPS.index(step), SEEDS.index(seed)], expected)
    # The example's reduction: mean over seeds.
    mean = sel.to_xarray().mean("seed")
    assert mean.dims == ("max_step_size", "dim_0")
    np.testing.assert_allclose(mean.values, sel.values.mean(axis=1))

    sub = dm["simulations"].select(fields={"walk": "data/random_walk",
                                           "alive": "data/abm/num_agents"},
                                   subspace={"max_step_size": [1.0]})
    assert set(sub) == {"walk", "alive"}
    assert sub["walk"].values.shape == (1, len(SEEDS), 21)
    assert sub["alive"].values.dtype == np.uint32

    # dantro's field specs: a path as a list, and names for the data dims.
    spec = dm["simulations"].select(fields={"walk": {"path": ["data", "random_walk"],
                                                     "dims": ["time"]}})
    assert spec["walk"].dims == ("max_step_size", "seed", "time")
    np.testing.assert_array_equal(spec["walk"].values, sel.values)
    with pytest.raises(larder.Error, match="names 2 dims"):
        dm["simulations"].select(field={"path": "data/random_walk", "dims": ["a", "b"]})
    with pytest.raises(larder.Error, match="'transform' is not supported"):
        dm["simulations"].select(field={"path": "data/random_walk", "transform": ["mean"]})


def test_select_missing_state(tmp_path):
    base = str(tmp_path)
    runs = write_sweep(base, seeds=SEEDS, step_sizes=STEPS)
    gone = sorted(runs)[-1]
    for f in os.listdir(os.path.join(base, f"sim_{gone}")):
        os.remove(os.path.join(base, f"sim_{gone}", f))
    os.rmdir(os.path.join(base, f"sim_{gone}"))
    dm = manager(base)
    with pytest.raises(larder.Error) as info:
        dm["simulations"].select(field="data/random_walk", method="concat")
    assert gone in str(info.value)
    merged = dm["simulations"].select(field="data/random_walk", method="merge")
    assert merged.values.dtype == np.float64
    assert np.isnan(merged.values[-1, -1]).all()
    assert not np.isnan(merged.values[0, 0]).any()


def test_custom_loader_from_python(sweep):
    base, runs = sweep
    larder.register_loader("line_count", lambda path: {"lines": len(open(path).readlines())})
    dm = larder.DataManager(base, out_dir=False)
    dm.load("logs", loader="line_count", glob_str="sim_*/sim.log", path_regex=r"sim_(\d+)",
            target_path="logs/{match}")
    assert sorted(dm["logs"]) == sorted(runs)
    assert dm["logs"][next(iter(runs))]["lines"] == 3

    larder.register_loader("npy_like", lambda path: np.arange(4.0))
    dm.load("arrays", loader="npy_like", glob_str="sim_*/params.yml",
            target_path="arrays/{dirname}", parallel=True)
    first = dm["arrays"].keys()[0]
    np.testing.assert_array_equal(dm["arrays"][first].data, np.arange(4.0))


def test_configs_cannot_escape_base_path(sweep, tmp_path):
    base, runs = sweep
    dm = larder.DataManager(base, out_dir=False)
    with pytest.raises(ValueError, match=r"'\.\.'"):
        dm.load("x", loader="text", glob_str="../*/sim.log")
    with pytest.raises(ValueError, match="absolute"):
        dm.load("x", loader="text", glob_str=os.path.join(base, "*.yml"))
    with pytest.raises(ValueError, match="leaves the tree"):
        dm.load("x", loader="text", glob_str="pspace.yml", target_path="../../x")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(str(tmp_path), os.path.join(base, "outside"))
    try:
        with pytest.raises(ValueError, match="outside base path"):
            dm.load("x", loader="text", glob_str="outside/*")
    finally:
        os.remove(os.path.join(base, "outside"))
    assert "x" not in dm


def test_malformed_yaml_and_unknown_tags(tmp_path):
    (tmp_path / "bad.yml").write_text("a: [1, 2\n")
    (tmp_path / "evil.yml").write_text("a: !!python/object/apply:os.system ['echo hi']\n")
    (tmp_path / "tagged.yml").write_text("a: !custom 3\n")
    dm = larder.DataManager(str(tmp_path), out_dir=False)
    for name in ("bad", "evil", "tagged"):
        with pytest.raises(larder.Error):
            dm.load(name, loader="yaml", glob_str=f"{name}.yml", required=True)
        assert name not in dm
    # Not required: skipped with a warning.
    dm.load("evil", loader="yaml", glob_str="evil.yml")
    assert "evil" not in dm and dm.warnings
    with pytest.raises(ValueError, match="not_a_key"):
        dm.load("x", loader="yaml", glob_str="bad.yml", not_a_key=1)


def test_out_dir(tmp_path):
    dm = larder.DataManager(str(tmp_path), out_dir="out/{timestamp:}", timefstr="%Y%m")
    assert os.path.isdir(dm.out_dir)
    assert dm.out_dir.startswith(str(tmp_path / "out"))
    assert larder.DataManager(str(tmp_path), out_dir=False).out_dir is None


def test_default_group_map_is_the_clis(sweep):
    base, runs = sweep
    dm = manager(base, group_map=None)
    first = next(iter(runs))
    assert dm["simulations"][first]["data/abm/energy"].classname == "TimeSeriesGroup"
    plain = manager(base, group_map={})
    assert plain["simulations"][first]["data/abm/energy"].classname == "OrderedDataGroup"


def test_cli_tree_and_select(sweep, larder_cli, tmp_path):
    base, runs = sweep
    cfg = os.path.join(base, "load.yml")
    out = subprocess.run([larder_cli, "tree", base, "--cfg", cfg, "--condensed"],
                         capture_output=True, text=True, check=True).stdout
    assert "ParamSpaceGroup, 6 members" in out
    assert "TimeSeriesGroup" in out
    result = str(tmp_path / "result.h5")
    subprocess.run([larder_cli, "select", base, "--cfg", cfg, "--field", "data/random_walk",
                    "--out", result + ":walks"], capture_output=True, text=True, check=True)
    with h5py.File(result, "r") as f:
        walks = f["walks"][()]
        assert walks.shape == (len(STEPS), len(SEEDS), 21)
    name = sorted(runs)[0]
    seed, step = runs[name]
    with h5py.File(os.path.join(base, f"sim_{name}", "data.h5"), "r") as f:
        np.testing.assert_array_equal(walks[STEPS.index(step), SEEDS.index(seed)],
                                      f["random_walk"][()])
    bad = subprocess.run([larder_cli, "tree", base, "--cfg", os.path.join(base, "pspace.yml")],
                         capture_output=True, text=True)
    assert bad.returncode != 0
