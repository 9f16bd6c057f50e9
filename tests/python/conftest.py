"""Shared fixtures and helpers: the larder package comes from the build tree
(PYTHONPATH)."""

import hashlib
import json
import os
import shutil

import numpy as np
import pytest


@pytest.fixture(scope="session")
def larder_cli():
    """Path of the `larder` command built alongside the package."""
    path = os.environ.get("LARDER_CLI") or shutil.which("larder")
    if not path or not os.path.exists(path):
        pytest.fail("set LARDER_CLI to the built larder command (make test does)")
    return path


def hash_64bit(name):
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 2**64


def write_memmpy(directory, arrays):
    """As memmpy 0.1.3: raw C-order files named by hash, metadata with indent 4."""
    os.makedirs(directory, exist_ok=True)
    meta = {"arrays": {}, "hashes": {}}
    for name, values in arrays.items():
        stem = f"{hash_64bit(name):0>16x}"
        out = np.memmap(os.path.join(directory, stem + ".npy"), values.dtype, "w+",
                        shape=values.shape)
        out[...] = values
        out.flush()
        del out
        meta["arrays"][name] = {"check": "2026-01-01 00:00:00.000000", "dtype": values.dtype.str,
                                "shape": list(values.shape)}
        meta["hashes"][stem] = name
    with open(os.path.join(directory, "metadata_memmpy.json"), "w") as f:
        json.dump(meta, f, indent=4)
