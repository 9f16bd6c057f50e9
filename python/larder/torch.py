"""larder.torch — a torch.utils.data.IterableDataset over a larder.Loader.

Use it with ``torch.utils.data.DataLoader(ds, batch_size=None, num_workers=N)``:
each DataLoader worker, on each rank, reads its own shard of every epoch, so
all workers of all ranks together read every row exactly once. Batches are
dicts of tensors (``torch.from_numpy``, no copy) including ``"_index"``.
Call ``set_epoch(n)`` before each epoch, as with DistributedSampler: workers
are copies and cannot move the epoch on themselves. Pass the store as a file
name — ``("data.h5", ["a", "b"])`` — so that each worker opens its own.
"""

import torch.utils.data

from .loader import Loader


class IterableDataset(torch.utils.data.IterableDataset):
    def __init__(
        self, source, batch_size, shuffle=None, seed=0, drop_last=False, subset=None,
        pad=None, rank=0, world_size=1, prefetch=2, **loader_kwargs,
    ):
        super().__init__()
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside [0, {world_size}) for world size {world_size}")
        self._source = source
        self._rank = rank
        self._world_size = world_size
        self._kwargs = dict(
            batch_size=batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last,
            subset=subset, pad=pad, prefetch=prefetch, **loader_kwargs,
        )
        self._epoch = 0

    def set_epoch(self, epoch):
        self._epoch = epoch

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        loader = Loader(
            self._source,
            rank=self._rank * workers + worker,
            world_size=self._world_size * workers,
            **self._kwargs,
        )
        loader.set_epoch(self._epoch)
        for batch in loader:
            yield {name: torch.from_numpy(values) for name, values in batch.items()}
