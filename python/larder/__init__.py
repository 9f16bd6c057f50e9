"""larder — arrays larger than memory, in standard files.

This is the Python face of the larder C++ engine. Arrays cross between the
two without copies: :class:`Array` wraps a contiguous numpy array in place,
and ``numpy.asarray(array)`` views larder's memory, keeping it alive.
"""

from . import _h5py_names, errors
from ._larder import (
    Array,
    Attributes,
    Codec,
    Combined,
    Dataset,
    Group,
    ParamSpace,
    Ragged,
    Records,
    Store,
    Tagged,
    __version__,
    codecs,
    copy,
    count,
    cut,
    cut_flow,
    evaluate,
    normalize_expr,
    open,  # noqa: A004 - larder.open, like h5py.File / zarr.open
    read_csv,
    read_npy,
    read_npz,
    parse_yaml,
    read_yaml,
    to_yaml,
    xxh3_64,
    xxh3_128,
)
from .collection import Collection, Phase
from .errors import (
    CorruptError,
    Error,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    TypeMismatchError,
    UnsupportedError,
)

from .loader import Loader, split_loaders
from .trace import ApplyRecord, Data, Trace, operation
from .tree import DataManager, Selection, TreeArray, TreeGroup, register_loader

IOError = errors.IOError  # noqa: A001 - larder.IOError


def _iterate_records(ragged, block=4096):
    """Every record in order, read a block of records at a time."""
    for start in range(0, len(ragged), block):
        yield from ragged.read(start, min(start + block, len(ragged)))


Ragged.__iter__ = _iterate_records
_h5py_names.install(Store, Group, Dataset)

# larder.open and larder.IOError are left out of __all__ so that
# `from larder import *` never shadows the builtins of the same name.

__all__ = [
    "ApplyRecord",
    "Array",
    "Attributes",
    "Codec",
    "Collection",
    "Data",
    "Combined",
    "DataManager",
    "Dataset",
    "Group",
    "ParamSpace",
    "Loader",
    "Phase",
    "Ragged",
    "Records",
    "Selection",
    "TreeArray",
    "TreeGroup",
    "Store",
    "Trace",
    "Tagged",
    "CorruptError",
    "Error",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "TypeMismatchError",
    "UnsupportedError",
    "__version__",
    "codecs",
    "copy",
    "count",
    "cut",
    "cut_flow",
    "evaluate",
    "normalize_expr",
    "operation",
    "read_csv",
    "read_npy",
    "read_npz",
    "parse_yaml",
    "read_yaml",
    "to_yaml",
    "errors",
    "register_loader",
    "split_loaders",
    "xxh3_64",
    "xxh3_128",
]
