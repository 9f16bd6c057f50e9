"""The larder command: exit status, help, version, codecs, demo."""

import json
import subprocess

import larder


def run(cli, *args):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=120)


def test_version_and_help(larder_cli):
    out = run(larder_cli, "--version")
    assert out.returncode == 0 and larder.__version__ in out.stdout
    for args in (["--help"], ["codecs", "--help"], ["demo", "--help"]):
        out = run(larder_cli, *args)
        assert out.returncode == 0 and "Usage" in out.stdout, args


def test_usage_errors_exit_2_with_one_clear_line(larder_cli):
    for args in ([], ["no-such-command"], ["codecs", "--no-such-flag"], ["demo", "--megabytes", "x"]):
        out = run(larder_cli, *args)
        assert out.returncode == 2, args
        assert out.stderr.startswith("larder: usage error:"), out.stderr
        assert out.stdout == ""


def test_codecs_lists_ids_and_filters(larder_cli):
    out = run(larder_cli, "codecs")
    assert out.returncode == 0
    for cid in ("blosc-lz4", "blosc-zstd", "zstd", "lz4", "gzip", "none"):
        assert cid in out.stdout
    listed = json.loads(run(larder_cli, "codecs", "--json").stdout)
    assert {c["id"] for c in listed} == {c["id"] for c in larder.codecs()}
    assert next(c for c in listed if c["id"] == "zstd")["hdf5_filter"] == 32015


def test_demo_round_trips_every_codec(larder_cli):
    out = run(larder_cli, "demo", "--megabytes", "4", "--threads", "1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ok (xxh3 matches)") == len(larder.codecs())
    assert "demo finished" in out.stdout
    assert out.stderr == ""  # not a terminal: no progress bar
