"""Shared fixtures: the larder package comes from the build tree (PYTHONPATH)."""

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def larder_cli():
    """Path of the `larder` command built alongside the package."""
    path = os.environ.get("LARDER_CLI") or shutil.which("larder")
    if not path or not os.path.exists(path):
        pytest.fail("set LARDER_CLI to the built larder command (make test does)")
    return path
