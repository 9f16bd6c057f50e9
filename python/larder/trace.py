"""Data stores and traces: intermediate results on disk, steps recorded, re-runs skipped.

``larder.Data`` is the input store (``data_XXXX.h5``); ``larder.Trace`` is a
folder of named variables (``trace_XXXX/``) with the graph of the operations
that made them. ``@larder.operation(name)`` registers a Python function as an
operation; ``Trace.apply`` runs it, or reuses the outputs of a finished run with
the same operation, version, parameters and input contents.
"""

import logging
import os
import sys
import warnings

import numpy as np

from . import _larder

_log = logging.getLogger("larder.trace")

__all__ = ["ApplyRecord", "Data", "Trace", "operation"]


def operation(name, version=1):
    """Registers ``f(*input_arrays, **params) -> array or tuple of arrays`` as operation ``name``."""

    def register(function):
        _larder.register_operation(name, int(version), function)
        return function

    return register


class ApplyRecord:
    """What ``Trace.apply`` did: ``skipped`` (outputs were up to date), ``outputs``, ``node``."""

    __slots__ = ("skipped", "outputs", "node")

    def __init__(self, result):
        self.skipped = result["skipped"]
        self.node = result["node"]
        self.outputs = [port["name"] for port in self.node["outputs"]]

    @property
    def message(self):
        operation = self.node["operation"]
        if self.skipped:
            return f"skipped {operation}: outputs up to date"
        return f"ran {operation} -> {', '.join(self.outputs)}"

    def __repr__(self):
        return f"ApplyRecord({self.message})"


_SCALARS = (bool, int, float, np.generic)


def _is_data_frame(value):
    """A pandas DataFrame, without importing pandas when it is not in use."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _is_stored_kind(value):
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biufc"
    if isinstance(value, _SCALARS):
        return np.asarray(value).dtype.kind in "biufc"
    return False


class Trace:
    """A disk-backed namespace of variables and the operations that made them.

    ``t.x = array`` stores (numpy arrays of any numeric or bool dtype, numpy
    scalars and Python numbers as scalars, dicts of those); ``t.x`` reads: an
    array comes back as a lazy ``larder.Dataset`` (``t.x[10:20]`` reads only
    that), a scalar as a numpy scalar, a dict as a dict. Values of other
    types stay in RAM on this object, with a warning. ``t["x"]`` is ``t.x``
    (use it for names that are also methods, such as ``info``).
    """

    def __init__(self, engine):
        object.__setattr__(self, "_t", engine)
        object.__setattr__(self, "_ram", {})

    @classmethod
    def create(cls, folder, group=None, seed=None):
        """A new ``trace_XXXX/`` in ``folder`` (a fresh code), starting in ``group``."""
        return cls(_larder._Trace.create(os.fspath(folder), group or "", seed))

    @classmethod
    def link(cls, trace_folder, group=None, read_only=False):
        """Opens an existing trace folder; a step a killed process left running is marked interrupted.

        One Trace per folder may be open for writing in a process; ``read_only=True`` inspects a
        trace (another process may be writing it) without changing anything on disk."""
        return cls(_larder._Trace.link(os.fspath(trace_folder), group or "", read_only))

    # --- the folder
    folder = property(lambda self: self._t.folder)
    code = property(lambda self: self._t.code)
    seed = property(lambda self: self._t.seed)
    group = property(lambda self: self._t.group)

    def groups(self):
        return self._t.groups()

    def create_group(self, name):
        self._t.create_group(name)

    def change_group(self, name):
        self._t.change_group(name)

    def files_folder(self):
        return self._t.files_folder()

    def readings_folder(self):
        return self._t.readings_folder()

    def outputs_folder(self):
        return self._t.outputs_folder()

    # --- variables
    def variables(self):
        """Names of the stored variables of the current group, then those kept in RAM."""
        return self._t.variables() + [n for n in self._ram if not self._t.exists(n)]

    def info(self, name=None):
        """One variable's kind, dtype, shape, nbytes and hash, or a list of all of them."""
        if name is not None:
            return self._t.info(name)
        return self._t.variables_info()

    list = info

    def set(self, name, value):
        if isinstance(value, _larder.Dataset):
            value = value[...]
        if isinstance(value, dict):
            self._ram.pop(name, None)
            self._t.set_dict(name, value)
        elif _is_data_frame(value):
            self.set_table(name, value)
        elif isinstance(value, np.ndarray) and _is_stored_kind(value):
            self._ram.pop(name, None)
            self._t.set_array(name, value)
        elif isinstance(value, _SCALARS) and _is_stored_kind(value):
            self._ram.pop(name, None)
            self._t.set_scalar(name, value)
        else:
            kind = type(value).__name__
            if isinstance(value, np.ndarray):
                kind = f"numpy array of dtype {value.dtype}"
            warnings.warn(
                f"trace variable {name!r} is a {kind}, which a trace does not store: "
                "it stays in RAM on this Trace object",
                stacklevel=3,
            )
            if self._t.exists(name):
                self._t.remove(name)
            self._ram[name] = value

    def set_table(self, name, columns):
        """Stores named numeric columns (a dict of 1-D arrays, or a pandas DataFrame) as a table."""
        self._ram.pop(name, None)
        self._t.set_table(name, columns)

    def get(self, name):
        if name in self._ram:
            return self._ram[name]
        return self._t.get(name)

    def link_array(self, name, file, path):
        """Stores ``name`` as a link to the array at ``path`` in the HDF5 file ``file`` (no copy)."""
        self._ram.pop(name, None)
        self._t.set_link(name, os.fspath(file), path)

    def read_key(self, name, key):
        return self._t.read_key(name, key)

    def write_key(self, name, key, value):
        self._t.write_key(name, key, value)

    def exists(self, name):
        return name in self._ram or self._t.exists(name)

    def remove(self, name):
        if name in self._ram:
            del self._ram[name]
        else:
            self._t.remove(name)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if not self.exists(name):
            raise AttributeError(f"no trace variable {name!r} in group {self.group!r}")
        return self.get(name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self.set(name, value)

    def __delattr__(self, name):
        self.remove(name)

    __getitem__ = get
    __setitem__ = set
    __delitem__ = remove
    __contains__ = exists

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.variables()))

    # --- operations
    def apply(self, name, inputs, outputs, params=None, force=False):
        """Runs operation ``name``, or reuses its outputs when a finished run matches."""
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        outputs = [outputs] if isinstance(outputs, str) else list(outputs)
        record = ApplyRecord(self._t.apply(name, inputs, outputs, params or {}, bool(force)))
        _log.info("%s", record.message)
        return record

    def graph(self):
        """The current group's steps and the edges between them: {"nodes": [...], "edges": [...]}."""
        return self._t.graph()

    def lineage(self, name):
        """The steps ``name`` depends on, oldest first, and the variables they start from."""
        return self._t.lineage(name)

    def dot(self):
        """The graph as Graphviz DOT text."""
        return self._t.dot()

    def flush(self):
        """Writes trace.json and flushes trace.h5 (apply does this itself)."""
        self._t.flush()

    def close(self):
        """Flushes and closes the files; the object is unusable afterwards."""
        self._t.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"larder.Trace({self.folder!r}, group={self.group!r})"


class Data:
    """The input store: ``data_XXXX.h5``, a plain HDF5 file of named arrays."""

    def __init__(self, engine):
        self._d = engine

    @classmethod
    def create(cls, folder):
        """A new ``data_XXXX.h5`` in ``folder`` with a fresh code (``.code``)."""
        return cls(_larder._Data.create(os.fspath(folder)))

    @classmethod
    def link(cls, folder, code):
        return cls(_larder._Data.link(os.fspath(folder), str(code)))

    file = property(lambda self: self._d.file)
    code = property(lambda self: self._d.code)
    used = property(lambda self: self._d.used)

    def from_array(self, name, array):
        array = np.asarray(array)
        self._d.from_array(name, array)

    def from_table(self, name, columns):
        """Stores named numeric columns (a dict of 1-D arrays, or a pandas DataFrame)."""
        self._d.from_table(name, columns)

    from_pandas_df = from_table

    def table(self, name):
        """A stored table as a dict of numpy columns, in column order."""
        return self._d.table(name)

    def load_npy(self, path, name):
        self._d.load_npy(name, os.fspath(path))

    def load_stack(self, path, name):
        """A multi-page TIFF file as a (Z, Y, X) array, read slice by slice.
        Returns the file read."""
        return self._d.load_tiff(name, os.fspath(path), [".tif", ".tiff"])

    def load_stack_from_folder(self, path, name, extension="tiff"):
        """A folder of TIFF slices, in natural order (img_2 before img_10),
        as a (Z, Y, X) array written slice by slice. ``extension`` picks the
        files ("tiff" also takes ".tif"). Returns the files, in order."""
        suffix = "." + extension.lstrip(".").lower()
        suffixes = [".tif", ".tiff"] if suffix in (".tif", ".tiff") else [suffix]
        return self._d.load_tiff(name, os.fspath(path), suffixes)

    def load_npz(self, path, prefix=""):
        """Every member of an .npz as an array named prefix + member; returns the names."""
        return self._d.load_npz(os.fspath(path), prefix)

    def load_csv(self, path, name, delimiter=",", header=True):
        """A numeric CSV file as a table (int64, float64 or bool columns)."""
        self._d.load_csv(name, os.fspath(path), delimiter, header)

    def load_json(self, path, name):
        """A (nested) list of numbers as an array, or an object of columns as a table."""
        self._d.load_json(name, os.fspath(path))

    def use(self, name):
        """Selects the dataset that ``d[...]`` slices."""
        self._d.use(name)

    def info(self):
        return self._d.info()

    def close(self):
        self._d.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __contains__(self, name):
        return self._d.contains(name)

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self._d.dataset(key)
            except TypeError:  # a table
                return self._d.table(key)
        return self._d.read(key)

    def __repr__(self):
        return f"larder.Data({self.file!r}, used={self.used!r})"
