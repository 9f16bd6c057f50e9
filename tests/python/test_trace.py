"""larder.Data and larder.Trace: variables of every kind, skip-if-done, two
traces at once, bad input, a pipeline killed with SIGKILL, h5py reading the
files, and the `larder trace` command."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

import larder


@larder.operation("pytest.scale", version=1)
def scale(x, factor=1.0):
    scale.runs += 1
    return np.asarray(x) * factor


scale.runs = 0


@larder.operation("pytest.split_sign")
def split_sign(x):
    x = np.asarray(x)
    return np.maximum(x, 0), np.minimum(x, 0)


def test_variables_of_every_kind_round_trip(tmp_path):
    t = larder.Trace.create(tmp_path, seed=3)
    assert os.path.basename(t.folder) == f"trace_{t.code}"
    t.x = np.arange(12, dtype=np.int16).reshape(3, 4)
    t.mask = np.array([True, False, True])
    t.f32 = np.float32(1.5)
    t.flag = np.bool_(True)
    t.n = 7
    t.d = {"a": np.ones(3), "b": np.int8(-2), "c": 2.5}
    t.c = np.array([1 + 2j], dtype=np.complex64)

    with pytest.raises(ValueError, match="already open for writing"):
        larder.Trace.link(t.folder)  # a second writer would overwrite the first one's record
    t.flush()  # a read-only link shows the record as last written
    peek = larder.Trace.link(t.folder, read_only=True)
    assert sorted(peek.variables()) == ["c", "d", "f32", "flag", "mask", "n", "x"]
    t.close()
    t2 = larder.Trace.link(t.folder)
    assert isinstance(t2.x, larder.Dataset)
    np.testing.assert_array_equal(t2.x[1:3, ::2], [[4, 6], [8, 10]])
    assert t2.x[...].dtype == np.int16
    assert t2.mask[...].dtype == np.bool_
    assert type(t2.f32) is np.float32 and t2.f32 == 1.5
    assert type(t2.flag) is np.bool_ and t2.flag
    assert type(t2.n) is np.int64 and t2.n == 7
    d = t2.d
    assert set(d) == {"a", "b", "c"} and type(d["b"]) is np.int8 and d["c"] == 2.5
    assert t2.read_key("d", "b") == -2
    t2.write_key("d", "e", np.zeros(2))
    np.testing.assert_array_equal(t2["d"]["e"], [0, 0])
    assert t2.c[0] == 1 + 2j
    assert sorted(t2.variables()) == ["c", "d", "f32", "flag", "mask", "n", "x"]
    info = {v["name"]: v for v in t2.info()}
    assert info["x"]["kind"] == "array" and info["x"]["shape"] == (3, 4)
    assert info["x"]["dtype"] == np.int16 and info["x"]["nbytes"] == 24
    assert info["f32"]["kind"] == "scalar" and info["d"]["kind"] == "dict"
    del t2.x
    assert "x" not in t2 and not t2.exists("x")
    with pytest.raises(AttributeError):
        t2.x


def test_h5py_reads_what_a_trace_and_data_store_write(tmp_path):
    t = larder.Trace.create(tmp_path)
    t.vol = np.arange(24.0).reshape(2, 3, 4)
    t.s = np.float32(2)
    t.close()
    with h5py.File(os.path.join(t.folder, "trace.h5"), "r") as f:
        np.testing.assert_array_equal(f["main/vol"][...], np.arange(24.0).reshape(2, 3, 4))
        assert f["main/s"].shape == () and f["main/s"].dtype == np.float32
        assert f["main/s"].attrs["larder.trace"].startswith("scalar:")
    d = larder.Data.create(tmp_path)
    d.from_array("a", np.arange(5))
    assert os.path.basename(d.file) == f"data_{d.code}.h5" and d.code != t.code
    d.close()
    with h5py.File(d.file, "r") as f:
        np.testing.assert_array_equal(f["a"][...], np.arange(5))


def test_other_types_stay_in_ram_with_a_warning(tmp_path):
    t = larder.Trace.create(tmp_path)
    with pytest.warns(UserWarning, match="'notes'.*str"):
        t.notes = "hello"
    assert t.notes == "hello" and "notes" in t.variables()
    with pytest.warns(UserWarning, match="'names'"):
        t.names = np.array(["a", "b"])
    with pytest.raises(TypeError, match="key bad.*list"):
        t.d = {"ok": np.ones(2), "bad": [1, 2]}
    with pytest.raises(TypeError, match="key inner"):
        t.d = {"inner": {"x": 1}}
    assert not t.exists("d")


def test_apply_skips_what_is_done_and_reruns_what_changed(tmp_path):
    t = larder.Trace.create(tmp_path)
    t.x = np.arange(5.0)
    scale.runs = 0
    r = t.apply("pytest.scale", inputs=["x"], outputs=["y"], params={"factor": 2})
    assert not r.skipped and r.outputs == ["y"] and scale.runs == 1
    np.testing.assert_array_equal(t.y[...], np.arange(5.0) * 2)
    r = t.apply("pytest.scale", inputs=["x"], outputs=["y"], params={"factor": 2})
    assert r.skipped and scale.runs == 1 and r.message == "skipped pytest.scale: outputs up to date"
    assert not t.apply("pytest.scale", ["x"], ["y"], params={"factor": 3}).skipped
    assert scale.runs == 2
    t.x = np.arange(6.0)
    assert not t.apply("pytest.scale", ["x"], ["y"], params={"factor": 3}).skipped
    assert t.apply("pytest.scale", ["x"], ["y"], params={"factor": 3}).skipped
    assert not t.apply("pytest.scale", ["x"], ["y"], params={"factor": 3}, force=True).skipped
    assert scale.runs == 4
    r = t.apply("pytest.split_sign", ["x"], ["pos", "neg"])
    assert r.outputs == ["pos", "neg"]
    # The record survives a reopen: the same step is skipped there too.
    t.close()
    t2 = larder.Trace.link(t.folder)
    assert t2.apply("pytest.scale", ["x"], ["y"], params={"factor": 3}).skipped
    g = t2.graph()
    assert [n["status"] for n in g["nodes"]] == ["finished"] * 5
    assert g["nodes"][0]["inputs"][0]["name"] == "x" and len(g["nodes"][0]["inputs"][0]["hash"]) == 32


def test_a_rerun_that_skips_every_step_touches_neither_file(tmp_path):
    with larder.Trace.create(tmp_path) as t:
        t.x = np.arange(4.0)
        t.apply("pytest.scale", ["x"], ["y"], params={"factor": 2})
        folder = t.folder
    h5 = os.path.join(folder, "trace.h5")
    before = (os.stat(h5).st_mtime_ns, open(os.path.join(folder, "trace.json")).read())
    time.sleep(0.02)
    with larder.Trace.link(folder) as t:
        assert t.apply("pytest.scale", ["x"], ["y"], params={"factor": 2}).skipped
    after = (os.stat(h5).st_mtime_ns, open(os.path.join(folder, "trace.json")).read())
    assert after == before
    # Another process rewriting trace.json after this link: the change is refused.
    t = larder.Trace.link(folder)
    record = json.loads(after[1])
    record["groups"]["other"] = record["groups"]["main"]
    with open(os.path.join(folder, "trace.json"), "w") as f:
        json.dump(record, f)
    with pytest.raises(larder.Error, match="another process"):
        t.z = np.zeros(3)
    t.close()
    assert json.load(open(os.path.join(folder, "trace.json"))) == record


def test_two_traces_in_one_process_are_independent(tmp_path):
    a = larder.Trace.create(tmp_path)
    b = larder.Trace.create(tmp_path)
    a.x = np.ones(3)
    a.apply("pytest.scale", ["x"], ["y"])
    assert b.variables() == [] and b.graph()["nodes"] == []
    assert len(a.graph()["nodes"]) == 1 and a.code != b.code


def test_links_to_data_arrays_and_lineage(tmp_path):
    d = larder.Data.create(tmp_path)
    d.from_array("volume", np.arange(20.0))
    d.use("volume")
    np.testing.assert_array_equal(d[5:7], [5, 6])
    t = larder.Trace.create(tmp_path)
    t.link_array("v", d.file, "volume")
    np.testing.assert_array_equal(t.v[18:], [18, 19])
    t.apply("pytest.scale", ["v"], ["w"], params={"factor": 2})
    t.apply("pytest.scale", ["w"], ["z"], params={"factor": 2})
    lineage = t.lineage("z")
    assert lineage["sources"] == ["v"] and [s["id"] for s in lineage["steps"]] == [1, 2]
    assert '"var:w" -> "step:2"' in t.dot()
    edges = t.graph()["edges"]
    assert edges == [{"from": 1, "to": 2, "variable": "w"}]


def test_a_link_follows_its_data_array_when_it_is_imported_again(tmp_path):
    d = larder.Data.create(tmp_path)
    d.from_array("volume", np.arange(4.0))
    t = larder.Trace.create(tmp_path)
    t.link_array("v", d.file, "volume")
    assert not t.apply("pytest.scale", ["v"], ["w"], params={"factor": 2}).skipped
    assert t.apply("pytest.scale", ["v"], ["w"], params={"factor": 2}).skipped
    d.from_array("volume", np.arange(4.0) + 10)
    assert not t.apply("pytest.scale", ["v"], ["w"], params={"factor": 2}).skipped
    np.testing.assert_array_equal(t.w[...], (np.arange(4.0) + 10) * 2)


def test_bad_input_gives_clear_errors_and_leaves_the_trace(tmp_path):
    with pytest.raises(larder.NotFoundError, match="not a trace folder"):
        larder.Trace.link(tmp_path)
    t = larder.Trace.create(tmp_path)
    t.x = np.ones(2)
    t.flush()
    before = open(os.path.join(t.folder, "trace.json")).read()
    with pytest.raises(ValueError, match="'?2bad'? is not a valid name|\"2bad\""):
        t["2bad"] = np.ones(2)
    with pytest.raises(ValueError, match="a/b"):
        t["a/b"] = np.ones(2)
    with pytest.raises(KeyError, match="no.such.op.*pytest.scale"):
        t.apply("no.such.op", ["x"], ["y"])
    with pytest.raises(KeyError, match="nope"):
        t.apply("pytest.scale", ["nope"], ["y"])
    t.flush()
    assert open(os.path.join(t.folder, "trace.json")).read() == before
    d = larder.Data.create(tmp_path)
    d.from_array("a", np.ones(3))
    t.link_array("la", d.file, "a")
    with pytest.raises(KeyError, match="missing"):
        t.link_array("lb", d.file, "missing")
    d.close()
    os.remove(d.file)
    with pytest.raises(KeyError, match="gone"):
        t.la
    t.flush()
    with open(os.path.join(t.folder, "trace.json"), "w") as f:
        f.write('{"format": "larder.trace", "version": 1, "groups": [}')
    with pytest.raises(larder.CorruptError, match="trace.json"):
        larder.Trace.link(t.folder)


def test_data_imports_json(tmp_path):
    d = larder.Data.create(tmp_path)
    (tmp_path / "m.json").write_text(json.dumps([[1, 2, 3], [4, 5, 6]]))
    d.load_json(tmp_path / "m.json", "m")
    assert d["m"].dtype == np.int64 and d["m"].shape == (2, 3)
    d2 = larder.Data.link(tmp_path, d.code)
    d2.use("m")
    np.testing.assert_array_equal(d2[1], [4, 5, 6])
    assert {e["name"] for e in d2.info()} == {"m"}


PIPELINE = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    import larder

    @larder.operation("crash.double")
    def double(x):
        return np.asarray(x) * 2

    @larder.operation("crash.slow")
    def slow(x):
        open(os.path.join(sys.argv[2], "ready"), "w").close()
        time.sleep(60)
        return np.asarray(x)

    t = larder.Trace.link(sys.argv[1])
    t.apply("crash.double", ["x"], ["y"])
    t.apply("crash.slow", ["y"], ["z"])
    """
)


def test_a_pipeline_killed_during_a_step_reopens_and_reruns_it(tmp_path):
    t = larder.Trace.create(tmp_path / "work")
    t.x = np.arange(1000.0)
    folder = t.folder
    t.close()
    script = tmp_path / "pipeline.py"
    script.write_text(PIPELINE)
    proc = subprocess.Popen([sys.executable, str(script), folder, str(tmp_path)])
    deadline = time.time() + 60
    while not (tmp_path / "ready").exists():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    t = larder.Trace.link(folder)
    nodes = t.graph()["nodes"]
    assert [(n["operation"], n["status"]) for n in nodes] == [
        ("crash.double", "finished"),
        ("crash.slow", "interrupted"),
    ]
    np.testing.assert_array_equal(t.y[...], np.arange(1000.0) * 2)
    assert "z" not in t.variables()

    @larder.operation("crash.double")
    def double(x):
        return np.asarray(x) * 2

    @larder.operation("crash.slow")
    def quick(x):
        return np.asarray(x)

    assert t.apply("crash.double", ["x"], ["y"]).skipped
    assert not t.apply("crash.slow", ["y"], ["z"]).skipped
    assert t.graph()["nodes"][-1]["status"] == "finished"


def test_cli_shows_the_variables_and_the_chain(tmp_path, larder_cli):
    t = larder.Trace.create(tmp_path)
    t.x = np.arange(4.0)
    t.apply("pytest.scale", ["x"], ["y"], params={"factor": 2})
    t.flush()
    out = subprocess.run([larder_cli, "trace", "show", t.folder], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "x" in out.stdout and "<f8" in out.stdout and "pytest.scale" in out.stdout
    assert "finished" in out.stdout
    dot_file = tmp_path / "g.dot"
    out = subprocess.run([larder_cli, "trace", "dot", t.folder, "-o", str(dot_file)],
                         capture_output=True, text=True)
    assert out.returncode == 0 and dot_file.read_text().startswith("digraph")
    out = subprocess.run([larder_cli, "trace", "lineage", t.folder, "y"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "comes from x" in out.stdout
    out = subprocess.run([larder_cli, "trace", "show", str(tmp_path)], capture_output=True,
                         text=True)
    assert out.returncode == 1 and "not a trace folder" in out.stderr


def test_data_imports_npy_npz_csv_written_by_their_tools(tmp_path):
    import csv

    np.save(tmp_path / "v.npy", np.arange(12, dtype=">i4").reshape(3, 4), allow_pickle=False)
    np.save(tmp_path / "f.npy", np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    np.savez_compressed(tmp_path / "m.npz", mask=np.array([True, False]), w=np.ones(3, np.float32))
    with open(tmp_path / "t.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "score", "flag"])
        writer.writerows([[1, 0.5, True], [2, "", False], [3, 2.25, True]])
    d = larder.Data.create(tmp_path)
    d.load_npy(tmp_path / "v.npy", "v")
    d.load_npy(tmp_path / "f.npy", "f")
    assert d.load_npz(tmp_path / "m.npz", prefix="m_") == ["m_mask", "m_w"]
    d.load_csv(tmp_path / "t.csv", "t")
    np.testing.assert_array_equal(d["v"][...], np.arange(12).reshape(3, 4))
    np.testing.assert_array_equal(d["f"][1], [3, 4, 5])
    assert d["m_mask"][...].dtype == np.bool_
    table = d["t"]
    assert list(table) == ["id", "score", "flag"] and table["id"].dtype == np.int64
    assert np.isnan(table["score"][1]) and table["flag"].dtype == np.bool_
    assert {e["name"]: e["kind"] for e in d.info()}["t"] == "table"
    (tmp_path / "bad.csv").write_text("a,b\n1,x\n")
    with pytest.raises(larder.Error, match="bad.csv"):
        d.load_csv(tmp_path / "bad.csv", "bad")
    assert "bad" not in d


def test_tables_as_trace_variables(tmp_path):
    t = larder.Trace.create(tmp_path)
    t.set_table("scores", {"id": np.arange(3), "score": np.array([0.5, 1.5, 2.5])})
    info = t.info("scores")
    assert info["kind"] == "table" and info["shape"] == (3, 2)
    t.close()
    t = larder.Trace.link(t.folder)
    back = t.scores
    assert list(back) == ["id", "score"]
    np.testing.assert_array_equal(back["score"], [0.5, 1.5, 2.5])
    pandas = pytest.importorskip("pandas")
    t.frame = pandas.DataFrame({"a": [1, 2], "b": [0.5, 0.25]})
    assert t.info("frame")["kind"] == "table"
    np.testing.assert_array_equal(t.frame["b"], [0.5, 0.25])
