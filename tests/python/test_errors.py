"""larder.Error and its subclasses: each is also the matching built-in."""

import pytest

import larder
from larder import _larder

CASES = [
    (0, larder.NotFoundError, KeyError),
    (1, larder.InvalidArgumentError, ValueError),
    (2, larder.TypeMismatchError, TypeError),
    (3, larder.OutOfRangeError, IndexError),
    (4, larder.CorruptError, OSError),
    (5, larder.IOError, OSError),
    (6, larder.UnsupportedError, NotImplementedError),
]


@pytest.mark.parametrize("code, cls, builtin", CASES)
def test_cpp_errors_arrive_as_larder_and_builtin_exceptions(code, cls, builtin):
    with pytest.raises(builtin) as info:
        _larder._raise(code, "value 42 is wrong", "runs/a.h5", "/g/x")
    err = info.value
    assert type(err) is cls
    assert isinstance(err, larder.Error)
    assert err.file == "runs/a.h5"
    assert err.path == "/g/x"
    assert err.message == "value 42 is wrong"
    assert str(err) == "runs/a.h5:/g/x: value 42 is wrong"


def test_a_not_found_error_is_not_quoted_like_a_bare_key_error():
    with pytest.raises(larder.NotFoundError) as info:
        _larder._raise(0, "no array 'x'", "", "")
    assert str(info.value) == "no array 'x'"


def test_builtin_ioerror_is_not_shadowed_by_star_import():
    namespace = {}
    exec("from larder import *", namespace)
    assert "IOError" not in namespace
    assert larder.IOError is not OSError and issubclass(larder.IOError, OSError)


def test_version_is_exposed():
    parts = larder.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)
