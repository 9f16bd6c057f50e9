"""larder's exceptions.

Every error larder raises is a :class:`larder.Error`. Each subclass is also
the built-in exception a Python user already catches for that situation, so
``except KeyError`` works on a missing array and ``except OSError`` on a
damaged file. Attributes: ``code`` (e.g. ``"not_found"``), ``file`` and
``path`` (where the failure is, or ``""``), ``message`` (the text without
them).
"""


class Error(Exception):
    """Base of every larder error."""

    code = "error"

    def __init__(self, message="", *, file="", path=""):
        super().__init__(message)
        self.message = message
        self.file = file
        self.path = path

    # "file:path: message". KeyError would repr() its argument; a larder
    # message reads as written.
    def __str__(self):
        where = self.file
        if self.path:
            where = f"{where}:{self.path}" if where else self.path
        return f"{where}: {self.message}" if where else self.message


class NotFoundError(Error, KeyError):
    """A file, group, array, codec or key that does not exist."""

    code = "not_found"


class InvalidArgumentError(Error, ValueError):
    """A value that cannot be used."""

    code = "invalid_argument"


class TypeMismatchError(Error, TypeError):
    """A dtype that does not fit the operation."""

    code = "type_mismatch"


class OutOfRangeError(Error, IndexError):
    """An index or slice outside the extent of an axis."""

    code = "out_of_range"


class CorruptError(Error, OSError):
    """Stored or transmitted bytes that do not decode."""

    code = "corrupt"


class IOError(Error, OSError):  # noqa: A001 - larder.IOError, deliberately not exported by *
    """The operating system refused a read, write or open."""

    code = "io"


class UnsupportedError(Error, NotImplementedError):
    """Valid input that larder does not handle."""

    code = "unsupported"


# Looked up by the extension module, in the order of larder::ErrorCode.
BY_CODE = (
    NotFoundError,
    InvalidArgumentError,
    TypeMismatchError,
    OutOfRangeError,
    CorruptError,
    IOError,
    UnsupportedError,
)
