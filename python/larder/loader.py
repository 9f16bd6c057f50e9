"""Batch loaders: larder.Loader and larder.split_loaders.

The engine (larder._larder._Loader) reads batches on background threads;
this module only turns the forms a source may take into named columns.
"""

import os

import numpy as np

from ._larder import _Loader, _split_rows


class _Columns:
    """Named columns already resolved, and what keeps them open."""

    def __init__(self, columns, keep):
        self._columns = columns
        self._keep = keep

    def _loader_columns(self):
        return self._columns


def _resolve(source):
    """(columns, what keeps them alive) for a source of any accepted form."""
    if hasattr(source, "_loader_columns"):
        return list(source._loader_columns()), source
    if isinstance(source, dict):
        if not source:
            raise ValueError("a loader source needs at least one column")
        return list(source.items()), source
    if isinstance(source, tuple) and len(source) == 2:
        where, paths = source
        if isinstance(paths, str):
            paths = [paths]
        if isinstance(where, (str, os.PathLike)):
            from . import open as open_store

            where = open_store(os.fspath(where), "r")
        return [(path, where[path]) for path in paths], where
    raise TypeError(
        "a loader source is a collection phase, a (store or group, [array paths]) pair "
        f"or a dict of arrays, not {type(source).__name__}"
    )


def _row_ids(subset):
    if subset is None:
        return None
    ids = np.asarray(subset)
    if ids.dtype == np.bool_:
        ids = np.flatnonzero(ids)
    return ids.astype(np.int64, copy=False)


def _shuffle_name(shuffle):
    if shuffle is None or shuffle is False:
        return "none"
    if shuffle is True:
        return "full"
    return shuffle


class Loader:
    """Batches of rows from named columns, as dicts of numpy arrays.

    ``source`` is a collection phase (``c["train"]``), a ``(store_or_group,
    [array paths])`` pair (a file name opens the store read-only) or a dict
    of numpy arrays, ``larder.Dataset`` and ``larder.Ragged``. Each batch
    holds one array per column plus ``"_index"``, the int64 row ids. Ragged
    columns named in ``pad`` come as (batch, width, ...) arrays (a longer
    record is an error unless ``clip=True``), others as their values back to
    back plus ``name + "_offsets"``.

    ``shuffle``: None (ascending), "full" (a permutation per seed and epoch)
    or "block" (chunk-aware: ``block_size`` rows per block, 0 for the chunk
    rows of the first chunked column; rows mixed within ``window`` blocks).
    Iterating reads the current epoch and moves it on by one; ``set_epoch``
    sets it. ``rank``/``world_size`` take one contiguous part of each epoch
    (parts differ by at most one row; ``equal_shards=True`` drops the
    surplus rows instead). ``prefetch`` batches are read ahead on
    ``threads`` background threads; the batches never depend on ``threads``.
    The loader uses its columns from its threads: do not use them elsewhere
    while iterating.
    """

    def __init__(
        self,
        source,
        batch_size,
        shuffle=None,
        seed=0,
        drop_last=False,
        subset=None,
        pad=None,
        rank=0,
        world_size=1,
        prefetch=2,
        *,
        threads=1,
        block_size=0,
        window=8,
        clip=False,
        equal_shards=False,
    ):
        columns, self._keep = _resolve(source)
        self._loader = _Loader(
            columns,
            batch_size,
            shuffle=_shuffle_name(shuffle),
            seed=seed,
            drop_last=drop_last,
            subset=_row_ids(subset),
            pad=pad,
            rank=rank,
            world_size=world_size,
            prefetch=prefetch,
            threads=threads,
            block_size=block_size,
            window=window,
            clip=clip,
            equal_shards=equal_shards,
        )

    def __iter__(self):
        return self._loader.start()

    def __len__(self):
        """Batches per epoch (for this rank)."""
        return len(self._loader)

    def set_epoch(self, epoch):
        """The epoch the next iteration reads (its shuffle)."""
        self._loader.epoch = epoch

    @property
    def epoch(self):
        return self._loader.epoch

    @property
    def rows(self):
        """Rows of every column."""
        return self._loader.rows

    @property
    def rows_per_epoch(self):
        """Rows this rank visits per epoch."""
        return self._loader.rows_per_epoch

    def read(self, ids):
        """The batch of the given row ids, read now."""
        return self._loader.read(ids)


def split_loaders(source, fractions=(0.8, 0.1, 0.1), split_seed=0, subset=None, **loader_kwargs):
    """One loader per fraction of the rows (or of ``subset``, e.g. a cut's rows).

    The rows are permuted once by ``split_seed`` and cut into consecutive
    parts (sizes rounded down, the remainder to the first part); fractions
    are >= 0 and sum to 1. ``loader_kwargs`` go to every Loader.
    """
    columns, keep = _resolve(source)
    resolved = _Columns(columns, keep)
    rows = _Loader(columns, 1).rows
    parts = _split_rows(rows, _row_ids(subset), [float(f) for f in fractions], split_seed)
    return tuple(Loader(resolved, subset=part, **loader_kwargs) for part in parts)
