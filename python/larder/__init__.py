"""larder — arrays larger than memory, in standard files.

This is the Python face of the larder C++ engine. Arrays cross between the
two without copies: :class:`Array` wraps a contiguous numpy array in place,
and ``numpy.asarray(array)`` views larder's memory, keeping it alive.
"""

from . import errors
from ._larder import (
    Array,
    Codec,
    __version__,
    codecs,
    xxh3_64,
    xxh3_128,
)
from .errors import (
    CorruptError,
    Error,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    TypeMismatchError,
    UnsupportedError,
)

IOError = errors.IOError  # noqa: A001 - larder.IOError; `from larder import *` leaves the builtin alone

__all__ = [
    "Array",
    "Codec",
    "CorruptError",
    "Error",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "TypeMismatchError",
    "UnsupportedError",
    "__version__",
    "codecs",
    "errors",
    "xxh3_64",
    "xxh3_128",
]
