"""The names h5py users reach for, on larder's stores, groups and arrays.

A store and a group are mappings of names to members, as an ``h5py.File``
and an ``h5py.Group`` are: ``get``, ``values``, ``items``; ``visit`` and
``visititems`` walk every member below and stop at the first callback that
returns something other than None, returning it. ``create_dataset`` and
``require_dataset`` take h5py's keywords (``compression``,
``compression_opts``, ``shuffle``, ``maxshape``, ``fillvalue``,
``chunks=True``) and make the array ``create_array`` would. An array has
h5py's ``maxshape`` and ``read_direct``.
"""

from __future__ import annotations

import numpy as np

from . import errors
from ._larder import Dataset, Store


def _where(self, name):
    """'file:/group/name', as larder's errors name an array."""
    file, group = (self.path, "") if isinstance(self, Store) else \
        (self.store_path, self.path.rstrip("/"))
    return f"{file}:{group}/{name.lstrip('/')}"


def _members_below(self):
    """Every path below, in the order visit() walks them."""
    paths = []
    self._visit_paths(paths.append)
    return paths


def get(self, path, default=None):
    """The member at `path`, or `default` when there is none."""
    try:
        return self[path]
    except errors.NotFoundError:
        return default


def values(self):
    return [self[name] for name in self.keys()]


def items(self):
    return [(name, self[name]) for name in self.keys()]


def visit(self, func):
    """Calls func(path) for every member below; stops at, and returns, the
    first result that is not None."""
    for path in _members_below(self):
        result = func(path)
        if result is not None:
            return result
    return None


def visititems(self, func):
    """Calls func(path, member) for every member below; stops at, and
    returns, the first result that is not None."""
    for path in _members_below(self):
        result = func(path, self[path])
        if result is not None:
            return result
    return None


def _shape_tuple(shape):
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _create_kwargs(where, shape, data, chunks, maxshape, compression, compression_opts,
                   shuffle, fillvalue, fletcher32, scaleoffset, **unknown):
    if unknown:
        raise errors.UnsupportedError(f"{where}: create_dataset has no larder setting for "
                                      f"{sorted(unknown)}")
    if fletcher32 or scaleoffset is not None:
        raise errors.UnsupportedError(
            f"{where}: fletcher32={fletcher32!r}, scaleoffset={scaleoffset!r}: larder writes "
            "neither fletcher32 nor scale-offset filters")
    if shape is None and data is not None:
        shape = np.shape(data)
    shape = _shape_tuple(shape)
    kwargs = {"shape": shape, "extendable": False}
    if maxshape is not None:
        maxshape = tuple(maxshape)
        grows = len(maxshape) > 0 and maxshape[0] is None and shape is not None and \
            tuple(maxshape[1:]) == tuple(shape[1:])
        if grows:
            kwargs["extendable"] = True
        elif shape is None or tuple(maxshape) != tuple(shape):
            raise errors.UnsupportedError(
                f"{where}: maxshape {maxshape} for shape {shape}: larder arrays grow along "
                "axis 0 only (maxshape=(None, *shape[1:]))")
    if chunks is not None and chunks is not True and chunks is not False:
        kwargs["chunks"] = tuple(chunks)
    if compression is not None:
        if not isinstance(compression, str):
            raise errors.UnsupportedError(
                f"{where}: compression={compression!r}: name the codec ('gzip', 'lzf', or a "
                "larder codec id such as 'zstd')")
        kwargs["codec"] = compression  # h5py's names are larder's ids
        if compression_opts is not None:
            kwargs["level"] = int(compression_opts)
        elif compression == "gzip":
            kwargs["level"] = 4  # h5py's default
    if shuffle:
        kwargs["shuffle"] = "byte"
    if fillvalue is not None:
        kwargs["fill_value"] = fillvalue
    return kwargs


def create_dataset(self, name, shape=None, dtype=None, data=None, chunks=None, maxshape=None,
                   compression=None, compression_opts=None, shuffle=None, fillvalue=None,
                   fletcher32=False, scaleoffset=None, **kwds):
    """h5py's create_dataset: an array made as create_array makes it."""
    kwargs = _create_kwargs(_where(self, name), shape, data, chunks, maxshape, compression,
                            compression_opts, shuffle, fillvalue, fletcher32, scaleoffset, **kwds)
    if data is not None:
        data = np.asarray(data, dtype=dtype)
        if kwargs["shape"] is not None and tuple(data.shape) != kwargs["shape"]:
            data = data.reshape(kwargs["shape"])
        dtype = data.dtype
    return self.create_array(name, dtype=dtype, data=data, **kwargs)


def require_dataset(self, name, shape, dtype, exact=False, **kwds):
    """The array at `name` if its shape and dtype fit (exactly, or dtype
    castable when exact=False), else a new one; TypeMismatchError when an
    array there does not fit."""
    if name not in self:
        return create_dataset(self, name, shape=shape, dtype=dtype, **kwds)
    found = self[name]
    shape = _shape_tuple(shape)
    if not isinstance(found, Dataset):
        raise errors.TypeMismatchError(
            f"{_where(self, name)}: holds a {type(found).__name__}, not an array")
    fits_dtype = found.dtype == np.dtype(dtype) if exact else \
        np.can_cast(np.dtype(dtype), found.dtype)
    if tuple(found.shape) != shape or not fits_dtype:
        raise errors.TypeMismatchError(
            f"{_where(self, name)}: holds shape {tuple(found.shape)} {found.dtype}, asked for "
            f"shape {shape} {np.dtype(dtype)}{' exactly' if exact else ''}")
    return found


def maxshape(self):
    """h5py's maxshape: None on axis 0 of an extendable array."""
    shape = tuple(self.shape)
    return (None,) + shape[1:] if self.extendable and shape else shape


def read_direct(self, dest, source_sel=None, dest_sel=None):
    """Reads self[source_sel] into dest[dest_sel] (h5py's read_direct)."""
    if not isinstance(dest, np.ndarray) or not dest.flags.writeable:
        raise errors.InvalidArgumentError(
            f"{self.store_path}:{self.path}: read_direct needs a writable numpy array, not "
            f"{type(dest).__name__}{' (read-only)' if isinstance(dest, np.ndarray) else ''}")
    values = self[source_sel if source_sel is not None else ...]
    dest[dest_sel if dest_sel is not None else ...] = values


def install(store_class, group_class, dataset_class):
    for cls in (store_class, group_class):
        cls._visit_paths = cls.visit
        for f in (get, values, items, visit, visititems, create_dataset, require_dataset):
            setattr(cls, f.__name__, f)
    dataset_class.maxshape = property(maxshape)
    dataset_class.read_direct = read_direct
