"""Batch loaders from Python: every source form, shuffles, epochs, padding,
split loaders with a cut as subset, the torch adapter with DataLoader
workers, and the `larder epoch` command."""

import subprocess

import h5py
import numpy as np
import pytest

import larder

N = 3000


def make_store(path):
    """x (N, 2) float32 = [i, -i], y int64 = 3i, jets: row i holds i % 4 items 10i + k."""
    codec = "blosc-lz4" if path.endswith(".h5") or path.endswith(".zarr") else None
    with larder.open(path, "w") as s:
        x = np.stack([np.arange(N), -np.arange(N)], axis=1).astype(np.float32)
        s.create_array("events/x", data=x, chunks=(128, 2), codec=codec)
        s.create_array("events/y", data=np.arange(N, dtype=np.int64) * 3, chunks=(128,), codec=codec)
        jets = s.create_ragged("events/jets", dtype="f4", codec=codec)
        lengths = np.arange(N) % 4
        jets.extend(np.concatenate([10 * i + np.arange(k, dtype=np.float32) for i, k in enumerate(lengths)]),
                    lengths=lengths)
    return path


@pytest.fixture(params=["h5", "lmm", "zarr"])
def store_path(request, tmp_path):
    return make_store(str(tmp_path / f"data.{request.param}"))


def check_batch(batch):
    ids = batch["_index"]
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(batch["x"][:, 0], ids.astype(np.float32))
    np.testing.assert_array_equal(batch["x"][:, 1], -ids.astype(np.float32))
    np.testing.assert_array_equal(batch["y"], 3 * ids)


@pytest.mark.parametrize("shuffle", [None, "full", "block"])
def test_store_pairs_visit_every_row_once_per_epoch(store_path, shuffle):
    with larder.open(store_path) as s:
        loader = larder.Loader((s, ["events/x", "events/y"]), 256, shuffle=shuffle, seed=3, threads=2)
        assert len(loader) == (N + 255) // 256 and loader.rows == N
        orders = []
        for epoch in range(2):
            seen = []
            for batch in loader:
                assert set(batch) == {"events/x", "events/y", "_index"}
                check_batch({"x": batch["events/x"], "y": batch["events/y"], "_index": batch["_index"]})
                seen.append(batch["_index"])
            order = np.concatenate(seen)
            np.testing.assert_array_equal(np.sort(order), np.arange(N))
            orders.append(order)
        assert (shuffle is None) == np.array_equal(orders[0], orders[1])
        loader.set_epoch(0)
        again = np.concatenate([b["_index"] for b in loader])
        np.testing.assert_array_equal(again, orders[0])


def test_groups_dicts_and_numpy_arrays(tmp_path):
    path = make_store(str(tmp_path / "d.h5"))
    with larder.open(path) as s:
        group = s["events"]
        by_group = larder.Loader((group, ["x", "y"]), 100, shuffle="full", seed=1)
        mixed = larder.Loader({"x": group["x"], "y": np.arange(N, dtype=np.int64) * 3}, 100,
                              shuffle="full", seed=1)
        for a, b in zip(by_group, mixed):
            check_batch(a)
            check_batch(b)
            np.testing.assert_array_equal(a["_index"], b["_index"])
    in_memory = larder.Loader({"x": np.zeros((N, 2), np.float32), "y": np.arange(N)}, 7, drop_last=True)
    assert len(in_memory) == N // 7
    assert sum(len(b["_index"]) for b in in_memory) == 7 * (N // 7)


def test_a_file_name_opens_the_store(tmp_path):
    path = make_store(str(tmp_path / "d.lmm"))
    loader = larder.Loader((path, ["events/y"]), 1000)
    np.testing.assert_array_equal(np.concatenate([b["events/y"] for b in loader]), 3 * np.arange(N))


class Phase:
    """What a collection phase offers a loader."""

    def __init__(self, store):
        self.store = store

    def _loader_columns(self):
        return [("x", self.store["events/x"]), ("y", self.store["events/y"])]


def test_collection_phases_by_their_columns(store_path):
    with larder.open(store_path) as s:
        loader = larder.Loader(Phase(s), 500, shuffle="block", seed=2)
        total = 0
        for batch in loader:
            check_batch(batch)
            total += len(batch["_index"])
        assert total == N


def test_threads_never_change_the_batches(store_path):
    with larder.open(store_path) as s:
        runs = []
        for threads in (1, 3):
            loader = larder.Loader((s, ["events/x"]), 128, shuffle="block", seed=9, threads=threads,
                                   prefetch=4)
            runs.append([b["events/x"] for b in loader])
        for a, b in zip(*runs):
            np.testing.assert_array_equal(a, b)


def test_ragged_columns_padded_clipped_or_as_offsets(tmp_path):
    path = make_store(str(tmp_path / "d.h5"))
    with larder.open(path) as s:
        jets = s["events/jets"]
        padded = next(iter(larder.Loader({"jets": jets}, 8, pad={"jets": (3, np.nan)})))
        assert padded["jets"].shape == (8, 3) and padded["jets"].dtype == np.float32
        np.testing.assert_array_equal(padded["jets"][2, :2], [20, 21])
        assert np.isnan(padded["jets"][2, 2])
        with pytest.raises(ValueError, match="record 3 has 3 items"):
            next(iter(larder.Loader({"jets": jets}, 8, pad={"jets": (2, 0.0)})))
        clipped = next(iter(larder.Loader({"jets": jets}, 8, pad={"jets": (2, 0.0)}, clip=True)))
        np.testing.assert_array_equal(clipped["jets"][3], [30, 31])
        flat = next(iter(larder.Loader({"jets": jets}, 4)))
        np.testing.assert_array_equal(flat["jets_offsets"], [0, 0, 1, 3, 6])
        np.testing.assert_array_equal(flat["jets"], [10, 20, 21, 30, 31, 32])


def test_shards_split_every_epoch_between_ranks(tmp_path):
    path = make_store(str(tmp_path / "d.lmm"))
    with larder.open(path) as s:
        parts = [np.concatenate([b["_index"] for b in larder.Loader(
            (s, ["events/y"]), 64, shuffle="full", seed=4, rank=r, world_size=4)]) for r in range(4)]
    assert [len(p) for p in parts] == [750] * 4
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(N))


def test_split_loaders_with_a_cut_as_subset(tmp_path):
    path = make_store(str(tmp_path / "d.h5"))
    with larder.open(path) as s:
        y = s["events/y"][:]
        cut = (y % 2 == 0)  # a mask, as a cut gives
        train, valid, test = larder.split_loaders((s, ["events/y"]), fractions=(0.8, 0.1, 0.1),
                                                  split_seed=5, subset=cut, batch_size=100,
                                                  shuffle="full")
        assert [l.rows_per_epoch for l in (train, valid, test)] == [1200, 150, 150]
        ids = [np.concatenate([b["_index"] for b in part]) for part in (train, valid, test)]
        # Disjoint and covering the cut: together they are its rows, each once.
        np.testing.assert_array_equal(np.sort(np.concatenate(ids)), np.flatnonzero(cut))
        again = larder.split_loaders((s, ["events/y"]), split_seed=5, subset=cut, batch_size=100)
        np.testing.assert_array_equal(np.concatenate([b["_index"] for b in again[1]]), np.sort(ids[1]))
        with pytest.raises(ValueError, match="sum to"):
            larder.split_loaders((s, ["events/y"]), fractions=(0.5, 0.2), batch_size=10)
        with pytest.raises(ValueError, match="negative"):
            larder.split_loaders((s, ["events/y"]), fractions=(1.5, -0.5), batch_size=10)


def test_bad_input_gets_clear_errors_and_changes_nothing(tmp_path):
    path = make_store(str(tmp_path / "d.h5"))
    with larder.open(path) as s:
        with pytest.raises(KeyError):
            larder.Loader((s, ["events/nope"]), 10)
        with pytest.raises(ValueError, match="batch size 0"):
            larder.Loader((s, ["events/y"]), 0)
        with pytest.raises(ValueError, match="rank 2"):
            larder.Loader((s, ["events/y"]), 10, rank=2, world_size=2)
        with pytest.raises(ValueError, match="has 5 rows but"):
            larder.Loader({"y": s["events/y"], "short": np.zeros(5)}, 10)
        with pytest.raises(ValueError, match="shuffle 'yes'"):
            larder.Loader((s, ["events/y"]), 10, shuffle="yes")
        with pytest.raises(IndexError):
            larder.Loader((s, ["events/y"]), 10, subset=[N])
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["events/y"][:], 3 * np.arange(N))


def test_breaking_out_of_an_epoch_stops_cleanly(tmp_path):
    path = make_store(str(tmp_path / "d.h5"))
    with larder.open(path) as s:
        loader = larder.Loader((s, ["events/x", "events/y"]), 16, shuffle="block", threads=3, prefetch=8)
        for _ in range(20):
            for i, batch in enumerate(loader):
                if i == 2:
                    break
        assert loader.epoch == 20


def test_torch_dataloader_workers_share_each_epoch(tmp_path):
    torch = pytest.importorskip("torch")
    import larder.torch

    path = make_store(str(tmp_path / "d.lmm"))
    dataset = larder.torch.IterableDataset((path, ["events/x", "events/y"]), 100, shuffle="full",
                                           seed=1, rank=1, world_size=2)
    seen = []
    for batch in torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2):
        assert isinstance(batch["events/y"], torch.Tensor)
        np.testing.assert_array_equal(batch["events/y"].numpy(), 3 * batch["_index"].numpy())
        seen.append(batch["_index"].numpy())
    other = larder.torch.IterableDataset((path, ["events/y"]), 100, shuffle="full", seed=1,
                                         rank=0, world_size=2)
    seen += [b["_index"].numpy() for b in torch.utils.data.DataLoader(other, batch_size=None,
                                                                       num_workers=2)]
    np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(N))


def test_the_epoch_command_reports_rows_per_second(tmp_path, larder_cli):
    path = make_store(str(tmp_path / "d.h5"))
    out = subprocess.run([larder_cli, "epoch", f"{path}:events", "--vars", "x,y,jets", "--batch", "256",
                          "--shuffle", "block", "--pad", "jets=4:nan", "--epochs", "2"],
                         capture_output=True, text=True, check=True).stdout
    assert f"{2 * N} rows" in out and "rows/s" in out
    bad = subprocess.run([larder_cli, "epoch", f"{path}:events", "--vars", "x,nope"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "nope" in bad.stderr
