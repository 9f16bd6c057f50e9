"""larder.Collection: StoreGate's forms, phases without shared state, stored
metadata, conversions, and StoreGate's own zarr layout written by zarr-python."""

import os

import h5py
import numpy as np
import pytest
import zarr

import larder


@pytest.fixture(params=["h5", "zarr", "lmm", "memory"])
def store(request, tmp_path):
    path = ":memory:" if request.param == "memory" else str(tmp_path / f"c.{request.param}")
    with larder.open(path, "w") as s:
        yield s


def rows(n, k=3):
    """Row i is i*10 + (0..k-1)."""
    return (np.arange(n)[:, None] * 10 + np.arange(k)).astype("f4")


def test_fractions_like_0_7_0_2_0_1_split_rows_in_order(store):
    c = larder.Collection(store, "events")
    c.add("x", rows(1000), phase=(0.7, 0.2, 0.1))
    assert c.phases == ["train", "valid", "test"]
    assert [len(c[p]) for p in c.phases] == [700, 200, 100]
    np.testing.assert_array_equal(c.get("x", "valid"), rows(1000)[700:900])
    c.add("x", rows(5), phase="train")
    assert len(c["train"]) == 705


def test_get_shapes_for_every_var_names_form(store):
    c = larder.Collection(store, "events")
    c.add(["a", "b"], [rows(10), rows(10) + 1], phase="train")
    assert c.get("a").shape == (10, 3)
    assert c.get("a", index=2).shape == (3,)
    assert c.get(("a", "b")).shape == (10, 2, 3)
    assert c.get(("a", "b"), index=2).shape == (2, 3)
    a, b = c.get(["a", "b"], index=(2, 5))
    np.testing.assert_array_equal(b, rows(10)[2:5] + 1)
    np.testing.assert_array_equal(c.get("a", index=[7, 1, 7])[:, 0], [70, 10, 70])
    # Item syntax indexes as numpy does: -1 is the last row.
    np.testing.assert_array_equal(c["train"]["a"][-1], rows(10)[-1])
    assert c["train"][("a", "b")][0:2].shape == (2, 2, 3)
    assert [v.shape for v in c["train"][["a", "b"]][:4]] == [(4, 3), (4, 3)]
    # Tuple data splits along its second axis into the variables.
    c.add(("p", "q"), np.stack([rows(10), rows(10) * 2], axis=1), phase="train")
    np.testing.assert_array_equal(c.get("q"), rows(10) * 2)


def test_phase_views_share_no_state(store):
    c = larder.Collection(store, "events")
    c.add("x", np.arange(10), phase=[6, 4])
    train, test = c["train"], c["valid"]
    np.testing.assert_array_equal(train["x"][:], np.arange(6))
    np.testing.assert_array_equal(test["x"][:], np.arange(6, 10))
    assert "x" in train and "y" not in train
    assert list(train) == ["x"]


def test_shuffled_add_leaves_the_callers_array_and_is_reproducible(store):
    data = np.arange(100)
    before = data.copy()
    c = larder.Collection(store, "a")
    c.add("x", data, phase=(0.5, 0.5), shuffle=3)
    np.testing.assert_array_equal(data, before)
    got = np.concatenate([c.get("x", "train"), c.get("x", "valid")])
    assert not np.array_equal(got, before)
    np.testing.assert_array_equal(np.sort(got), before)
    d = larder.Collection(store, "b")
    d.add("x", data, phase=(0.5, 0.5), shuffle=3)
    np.testing.assert_array_equal(d.get("x", "train"), c.get("x", "train"))


def test_ragged_variables_from_lists_of_arrays(store):
    c = larder.Collection(store, "events")
    jets = [np.full(i % 4, i, dtype="f4") for i in range(20)]
    c.add(["jets", "n"], [jets, np.arange(20)], phase=(0.5, 0.5))
    assert c.info("jets")["kind"] == "jagged"
    got = c["valid"]["jets"][:]
    assert len(got) == 10
    for record, n in zip(got, c.get("n", "valid")):
        np.testing.assert_array_equal(record, jets[n])
    images = [np.ones((i + 1, 2), "u1") for i in range(3)] + [np.ones((1, 5), "u1")]
    c.add("images", images, phase="test")
    assert c.info("images", "test")["kind"] == "shaped"
    assert c["test"]["images"][3].shape == (1, 5)


def test_update_delete_and_create_empty(store):
    c = larder.Collection(store, "events")
    c.add("x", rows(10))
    c["train"]["x"][2:4] = np.zeros((2, 3), "f4")
    np.testing.assert_array_equal(c.get("x", index=3), [0, 0, 0])
    c.update("x", np.ones(3, "f4"), index=0)
    np.testing.assert_array_equal(c.get("x", index=0), [1, 1, 1])
    c["train"]["y"] = np.arange(10)  # a new variable
    assert c.var_names("train") == ["x", "y"]
    del c["train"]["y"]
    assert c.var_names("train") == ["x"]
    c.create_empty("z", (10, 2), phase=(0.8, 0.2), dtype="i2")
    assert c.get("z", "valid").shape == (2, 2)
    assert c.get("z", "valid").dtype == np.int16
    assert not c.get("z").any()


def test_compiled_metadata_is_stored_and_invalidated(tmp_path):
    path = str(tmp_path / "m.h5")
    with larder.open(path, "w") as s:
        c = larder.Collection(s, "events")
        c.add(["x", "y"], [rows(10), np.arange(10)], phase=(0.7, 0.2, 0.1))
        meta = c.compile()
        assert meta["sizes"] == {"train": 7, "valid": 2, "test": 1}
        assert meta["total"] == 10
    with larder.open(path, "r") as s:
        c = larder.Collection(s, "events")
        assert c.metadata == meta  # no recompile after reopening
        assert c.metadata["variables"]["train"]["x"] == {"kind": "dense", "dtype": "<f4", "shape": [3]}
        assert larder.Collection.data_ids(s) == ["events"]
    with larder.open(path, "r+") as s:
        c = larder.Collection(s, "events")
        c.add(["x", "y"], [rows(2), np.arange(2)], phase="train")
        assert c.metadata is None
        c.compile()
        # phase="all" splits a new variable's rows by the compiled sizes.
        c.add("z", np.arange(12), phase="all")
        assert [len(c[p]) for p in c.phases] == [9, 2, 1]
        np.testing.assert_array_equal(c.get("z", "valid"), [9, 10])
    # h5py sees plain datasets at /<data_id>/<phase>/<var>.
    with h5py.File(path, "r") as f:
        assert f["events/train/x"].shape == (9, 3)


def test_bad_input_is_a_clear_error_and_changes_nothing(store):
    c = larder.Collection(store, "events")
    c.add(["x", "y"], [rows(10), np.arange(10)])
    with pytest.raises(ValueError, match="sum to 1"):
        c.add("x", rows(10), phase=(0.5, 0.2))
    with pytest.raises(ValueError, match="negative"):
        c.add("x", rows(10), phase=(1.2, -0.2))
    with pytest.raises(ValueError, match="'y' has 4"):
        c.add(["x", "y"], [rows(5), np.arange(4)])
    with pytest.raises(larder.TypeMismatchError, match="'x'"):
        c.add(["y", "x"], [np.arange(5), np.arange(5)])  # x holds rows of 3 floats
    assert len(c["train"]) == 10
    with pytest.raises(KeyError, match="variables: x, y"):
        c.get("nope")
    with pytest.raises(KeyError, match="phases: train"):
        c["tset"]
    with pytest.raises(KeyError):
        c.get("x", phase="tset")
    c.add("short", np.arange(3))
    with pytest.raises(ValueError, match="'short' has 3"):
        c.compile()


def test_conversions(store):
    c = larder.Collection(store, "events")
    c.add(["label", "score"], [np.array([2, 0, 1]), np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]])])
    c.onehot("label", 3)
    np.testing.assert_array_equal(c.get("label"), np.eye(3, dtype="f4")[[2, 0, 1]])
    c.argmax("score", axis=1)
    np.testing.assert_array_equal(c.get("score"), [1, 0, 1])
    c.astype("score", "i1")
    assert c.get("score").dtype == np.int8


def test_shuffle_moves_rows_of_every_variable_together(store):
    c = larder.Collection(store, "events")
    jets = [np.full(i % 3, i, dtype="f4") for i in range(50)]
    c.add(["n", "x", "jets"], [np.arange(50), rows(50), jets])
    c.shuffle("train", seed=5)
    n = c.get("n")
    assert sorted(n) == list(range(50)) and list(n) != list(range(50))
    np.testing.assert_array_equal(c.get("x"), rows(50)[n])
    for record, i in zip(c.get("jets"), n):
        np.testing.assert_array_equal(record, jets[i])


def test_to_memory_and_back(tmp_path):
    with larder.open(str(tmp_path / "h.h5"), "w") as s:
        c = larder.Collection(s, "events", codec="blosc-lz4")
        c.add("x", rows(100))
        c.to_memory("x")
        assert c.info("x")["in_memory"]
        c["train"]["x"][0] = np.full(3, -1, "f4")
        c.to_storage("x")
        assert not c.info("x")["in_memory"]
        np.testing.assert_array_equal(c.get("x", index=0), [-1, -1, -1])
        assert s["events/train/x"].codec["id"] == "blosc-lz4"


def write_storegate_zarr(path, data_id, phases):
    """What multiml's ZarrDatabase writes: zarr.open(dir), a group per data_id
    and phase, an array per variable with chunks (chunk, *full inner dims) and
    zarr's default compressor."""
    root = zarr.open(path, mode="a")
    group = root.require_group(data_id)
    for phase in ("train", "valid", "test"):
        group.require_group(phase)
    for phase, variables in phases.items():
        for name, values in variables.items():
            chunks = (4,) + values.shape[1:]
            group[phase].create_dataset(name, data=values[:2], chunks=chunks)
            group[phase][name].append(values[2:])


def test_storegate_zarr_stores_open_as_collections(tmp_path):
    path = str(tmp_path / "storegate")
    x = rows(10)
    write_storegate_zarr(path, "higgs", {
        "train": {"x": x[:6], "label": np.arange(6, dtype="f4")},
        "test": {"x": x[6:], "label": np.arange(6, 10, dtype="f4")},
    })
    with larder.open(path, "r") as s:
        assert larder.Collection.data_ids(s) == ["higgs"]
        c = larder.Collection(s, "higgs")
        assert c.phases == ["train", "valid", "test"]
        assert len(c["train"]) == 6 and len(c["valid"]) == 0
        np.testing.assert_array_equal(c["test"]["x"][:], x[6:])
        np.testing.assert_array_equal(c.get(("x", "x"), "test", index=1), np.stack([x[7], x[7]]))
        np.testing.assert_array_equal(c.get("label", "all"), np.arange(10))
        assert c.metadata is None  # StoreGate keeps no metadata on disk
    # And what larder writes in zarr, zarr-python reads at StoreGate's paths.
    with larder.open(str(tmp_path / "out.zarr"), "w") as s:
        larder.Collection(s, "higgs").add("x", x, phase=(0.6, 0.4))
    out = zarr.open(str(tmp_path / "out.zarr"), mode="r")
    np.testing.assert_array_equal(out["higgs/valid/x"][:], x[6:])


def test_loader_columns_name_the_stored_variables(store):
    c = larder.Collection(store, "events")
    c.add(["x", "jets"], [rows(4), [np.ones(i, "f4") for i in range(4)]])
    columns = dict(c["train"]._loader_columns())
    assert isinstance(columns["x"], larder.Dataset)
    assert isinstance(columns["jets"], larder.Ragged)
    assert len(columns["jets"]) == 4


def test_a_phase_feeds_a_loader_with_a_cut_as_subset(tmp_path):
    with larder.open(str(tmp_path / "l.h5"), "w") as s:
        c = larder.Collection(s, "events", codec="blosc-lz4")
        n = np.arange(1000)
        jets = [np.full(i % 5, i, dtype="f4") for i in range(1000)]
        c.add(["n", "jets"], [n, jets], phase=(0.8, 0.2), shuffle=1)
        passing = larder.cut(s["events/train"], "(n % 3 == 0) & (len(jets) >= 1)")
        loader = larder.Loader(c["train"], batch_size=64, shuffle="block", seed=2,
                               subset=passing, pad={"jets": (3, np.nan)}, clip=True)
        seen = []
        for batch in loader:
            assert batch["jets"].shape[1:] == (3,)
            for row, value, padded in zip(batch["_index"], batch["n"], batch["jets"]):
                assert value % 3 == 0 and value % 5 >= 1
                np.testing.assert_array_equal(padded[: min(value % 5, 3)], value)
            seen.extend(batch["_index"])
        assert sorted(seen) == list(passing)
        train, valid = larder.split_loaders(c["train"], fractions=(0.5, 0.5), batch_size=100)
        assert len(train) + len(valid) == 8
