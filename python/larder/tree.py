"""The data tree: a directory of files loaded from a dantro load config.

:class:`DataManager` loads a data directory into a tree of groups and leaves
(``dm["simulations/12/data/random_walk"]``); a parameter-space group's
``select`` gathers one field of every run into a :class:`Selection`.
"""

from ._larder import DataManager as _DataManager
from ._larder import TreeArray, TreeGroup, register_loader  # noqa: F401


class Selection:
    """A field gathered over a parameter space: ``values`` (numpy) with
    ``dims`` (sweep dims, then data dims) and ``coords`` (dim -> values)."""

    def __init__(self, values, dims, coords):
        self.values = values
        self.dims = tuple(dims)
        self.coords = dict(coords)

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    @property
    def shape(self):
        return self.values.shape

    def to_xarray(self):
        """An ``xarray.DataArray`` of the selection (needs xarray)."""
        import xarray

        coords = {dim: self.coords[dim] for dim in self.dims if dim in self.coords}
        return xarray.DataArray(self.values, dims=self.dims, coords=coords)

    def __repr__(self):
        sizes = ", ".join(f"{d}: {n}" for d, n in zip(self.dims, self.values.shape))
        return f"<larder.tree.Selection ({sizes}), {self.values.dtype}>"


class DataManager(_DataManager):
    """A data directory loaded into a tree, as dantro's DataManager does.

    ``DataManager(data_dir, load_cfg=..., out_dir=False, create_groups=[{"path":
    "simulations", "Cls": "ParamSpaceGroup"}], group_map={"time_series":
    "TimeSeriesGroup"})``; ``load_cfg`` is a mapping or a YAML file's path;
    ``group_map=None`` is that default map (the CLI's too), a dict replaces it.
    """

    def load_from_cfg(self, load_cfg=None, update_load_cfg=None, exists_action="raise",
                      print_tree=False):
        """Loads every entry of the load config; ``print_tree`` True prints the
        full tree afterwards, ``"condensed"`` the condensed one."""
        self._load_from_cfg(load_cfg, update_load_cfg, exists_action)
        self._print(print_tree)

    def load(self, entry_name, *, exists_action="raise", print_tree=False, **params):
        """Loads one entry given by its keys (loader=..., glob_str=..., ...)."""
        self._load(entry_name, params, exists_action)
        self._print(print_tree)

    def _print(self, print_tree):
        if print_tree == "condensed":
            print(self.tree_condensed)
        elif print_tree:
            print(self.tree)

    def __getitem__(self, key):
        return self._root[key]

    def __contains__(self, key):
        return key in self._root

    def __iter__(self):
        return iter(self._root)

    def __len__(self):
        return len(self._root)

    def keys(self):
        return self._root.keys()

    def values(self):
        return self._root.values()

    def items(self):
        return self._root.items()

    @property
    def attrs(self):
        return self._root.attrs

    def __repr__(self):
        return f"<larder.DataManager '{self.name}' @ {self.data_dir}, {len(self)} members>"


def _group_get(self, key, default=None):
    return self[key] if key in self else default


def _array_of_leaf(self, dtype=None, copy=None):
    data = self.data
    return data if dtype is None else data.astype(dtype)


TreeGroup.get = _group_get
TreeArray.__array__ = _array_of_leaf
