"""W4 peer: one shuffled epoch of batches of 256 rows over the W4 array, for
one implementation, one JSON line per repetition.

    --impl larder        larder.Loader (full or block shuffle); the store's
                         suffix picks the driver (.h5 blosc-lz4, .lmm, .zarr)
    --impl numpy-memmap  numpy memmap of the raw rows, fancy index per batch
    --impl h5py          h5py, per-batch sorted fancy index (--cache-mb: rdcc_nbytes)
    --impl zarr          zarr-python, get_orthogonal_selection of sorted ids

Peers visit the rows in numpy's permutation (default_rng([seed, epoch]));
larder in its own. Each batch is gathered into one array and summed (float64);
the record carries the rows read, the sum and whether every row id of the
epoch was seen exactly once (checked after the timing stops). --max-rows
stops an epoch early (for peers too slow to finish one in reasonable time):
then the workload checks the sum of the prefix it read.
Stores are made (untimed) from the raw rows when missing: larder writes
them, and h5py / zarr-python read larder's files.
Run with Debian's /usr/bin/python3.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

CHUNK_ROWS = 4096
COLS = 16


def raw_rows(path: str) -> np.memmap:
    return np.memmap(path, dtype="<f4", mode="r").reshape(-1, COLS)


def make_store(store: Path, raw: str, codec: str | None) -> None:
    if store.exists():
        return
    import larder
    rows = raw_rows(raw)
    tmp = store.with_name(store.stem + ".tmp" + store.suffix)
    if tmp.is_dir():
        shutil.rmtree(tmp)
    elif tmp.exists():
        tmp.unlink()
    # In one call with the data: an mmap array created by shape alone and
    # then written in parts fails here ("x.bin shrank", a driver bug).
    with larder.open(str(tmp), "w") as s:
        s.create_array("x", data=np.asarray(rows), chunks=(CHUNK_ROWS, COLS), codec=codec)
    tmp.rename(store)


def permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def peer_batches(get, n: int, batch: int, seed: int, epoch: int, max_rows: int):
    order = permutation(n, seed, epoch)[:max_rows]
    for a in range(0, len(order), batch):
        ids = order[a:a + batch]
        yield ids, get(ids)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--impl", choices=("larder", "numpy-memmap", "h5py", "zarr"), required=True)
    p.add_argument("--raw", required=True, help="the W4 rows, raw float32")
    p.add_argument("--store", help="the store to read (made from --raw when missing)")
    p.add_argument("--codec", default="none")
    p.add_argument("--shuffle", default="full", choices=("full", "block"))
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--cache-mb", type=int, default=0, help="chunk cache (0: the library's default)")
    p.add_argument("--threads", type=int, default=2, help="larder's loader threads")
    p.add_argument("--max-rows", type=int, default=0, help="stop each epoch after this many rows")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()
    codec = None if a.codec == "none" else a.codec
    n = len(raw_rows(a.raw))
    max_rows = a.max_rows or n
    store = Path(a.store) if a.store else None
    if store is not None:
        store.parent.mkdir(parents=True, exist_ok=True)
        make_store(store, a.raw, codec)

    close = lambda: None  # noqa: E731
    if a.impl == "larder":
        import larder
        options = {"chunk_cache": a.cache_mb << 20} if a.cache_mb else {}
        s = larder.open(str(store), "r", **options)
        close = s.close
        loader = larder.Loader((s, ["x"]), a.batch, shuffle=a.shuffle, seed=a.seed,
                               threads=a.threads, prefetch=8)

        def epoch_batches(epoch):
            loader.set_epoch(epoch)
            for b in loader:
                yield b["_index"], b["x"]
    else:
        if a.impl == "numpy-memmap":
            data = raw_rows(a.raw)
            get = lambda ids: data[ids]  # noqa: E731
        elif a.impl == "h5py":
            import h5py
            import hdf5plugin  # noqa: F401  (registers blosc)
            kwargs = {"rdcc_nbytes": a.cache_mb << 20, "rdcc_nslots": 1_000_003} if a.cache_mb else {}
            f = h5py.File(str(store), "r", **kwargs)
            close = f.close
            d = f["x"]
            get = lambda ids: d[np.sort(ids)]  # noqa: E731
        else:
            import zarr
            z = zarr.open(str(store), mode="r")["x"]
            get = lambda ids: z.get_orthogonal_selection((np.sort(ids), slice(None)))  # noqa: E731

        def epoch_batches(epoch):
            return peer_batches(get, n, a.batch, a.seed, epoch, max_rows)

    for r in range(-a.warmup, a.repeat):
        ids_seen = []
        total = 0.0
        rows = 0
        start = time.perf_counter()
        for ids, batch in epoch_batches(r + a.warmup):
            if batch.shape != (len(ids), COLS):
                raise SystemExit(f"batch of shape {batch.shape} for {len(ids)} ids")
            total += float(batch.sum(dtype=np.float64))
            rows += len(ids)
            ids_seen.append(ids)
            if rows >= max_rows:
                break
        seconds = time.perf_counter() - start
        ids = np.concatenate(ids_seen)
        counts = np.bincount(ids, minlength=n)
        each_once = bool(counts.max() == 1 and (rows < n or counts.min() == 1))
        # The rows read, summed in another way, to compare the batches' sum with.
        print(json.dumps({"impl": a.impl, "repeat": r, "warmup": r < 0, "ok": each_once,
                          "rows": rows, "full_epoch": rows == n, "sum": total,
                          "prefix_sum": float(raw_rows(a.raw)[np.sort(ids)].sum(dtype=np.float64))
                          if rows < n else total,
                          "mrows_per_s": rows / seconds / 1e6}), flush=True)
    close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
