"""larder.parse_yaml against PyYAML's safe_load, larder.ParamSpace and
`larder pspace`."""

import json
import math
import subprocess

import pytest
import yaml

import larder

# Plain and tagged scalars whose resolution differs between YAML 1.1 and 1.2
# or between careless parsers; PyYAML's SafeLoader is the reference.
SCALARS = [
    "1", "-1", "+1", "0", "-0", "+0", "00", "017", "08", "0_7", "0x1F", "-0x1f", "0X1F", "0x",
    "0b101", "0b", "1_000", "1_", "_1", "1__0", "1:30", "-1:30", "190:20:30", "12:60",
    "12345678901234567890", "1.5", "1.", ".5", "-.5", "0.", "-0.0", "1e3", "1.0e3",
    "1.0e+3", "1.0E-3", "6.8523015e+5", "1_000.5", "1:30.5", ".inf", "-.inf", "+.INF", ".Inf",
    ".NaN", ".nan", ".NAN", "nan", "inf", "yes", "Yes", "YES", "yEs", "no", "No", "on", "On",
    "off", "OFF", "y", "n", "true", "True", "TRUE", "tRue", "false", "~", "null", "Null",
    "NULL", "nUll", "", "'quoted 1'", '"2"', "'yes'", '"null"', "!!str 3", "!!int '4'",
    "!!int 0x10", "!!float '5'", "!!float '1e3'", "!!bool 'yes'", "!!bool OFF", "!!null ''",
    "!!str", "a b", "a: b", "'a: b'", "- x", '"\\u00e9\\x41\\t"', "'it''s'", "é", "#notcomment",
    "x #comment", "1 #comment", "2001-12-14",
]


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("scalar", SCALARS)
def test_scalars_resolve_as_pyyaml_safe_load(scalar):
    text = f"key: {scalar}\n"
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:
        with pytest.raises(larder.Error):
            larder.parse_yaml(text)
        return
    got = larder.parse_yaml(text)
    if scalar == "2001-12-14":  # PyYAML makes a date; larder keeps the text
        assert got == {"key": "2001-12-14"}
        return
    assert same(got, expected), (scalar, got, expected)


STRUCTURES = [
    "a: 1\nb: [1, 2, {c: d}]\nc: {x: [], y: {}}\n",
    "z: 1\ny: 2\nx: 3\na: 4\n",
    "base: &b {x: 1, y: 2}\nother: &o {y: 5, w: 6}\nuse: *b\n"
    "merged:\n  <<: [*b, *o]\n  x: 10\n",
    "m:\n  <<: {a: 1}\n  b: 2\n",
    "text: |\n  line one\n  line two\nfolded: >\n  one\n  two\n\n  three\nkeep: |+\n  x\n\n",
    "- a\n- - b\n  - c\n- d: e\n  f: g\n",
    "quoted: \"tab\\there\"\nsingle: 'a ''b'' c'\nunicode: \"\\u263A\"\n",
    "dup: 1\ndup: 2\n",
    "",
    "# only a comment\n",
    "? complex key\n: value\n",
    "list: [a, 'b', \"c\", 1, 1.5, null, true]\n",
]


@pytest.mark.parametrize("text", STRUCTURES)
def test_documents_read_as_pyyaml_safe_load(text):
    assert same(larder.parse_yaml(text), yaml.safe_load(text))


def test_lenient_where_pyyaml_has_no_constructor():
    # PyYAML resolves a bare "=" or "<<" value to tags SafeLoader cannot
    # construct and fails; larder keeps the text.
    assert larder.parse_yaml("a: =\nb: <<\n") == {"a": "=", "b": "<<"}


def test_omap_and_set():
    text = "o: !!omap\n  - b: 1\n  - a: 2\ns: !!set {x, y}\n"
    got = larder.parse_yaml(text)
    expected = yaml.safe_load(text)
    assert list(got["o"].items()) == expected["o"]  # PyYAML: a list of pairs
    assert set(got["s"]) == expected["s"] and all(v is None for v in got["s"].values())


@pytest.mark.parametrize("text", [
    "a: !!python/object/apply:os.system ['echo hi']\n",
    "a: !!python/name:os.system\n",
    "a: !custom {x: 1}\n",
    "a: [1, 2\n",
    "a: 1\n---\nb: 2\n",
    "a: *missing\n",
    "{\n",
])
def test_unsafe_and_malformed_yaml_is_refused(text):
    with pytest.raises(larder.InvalidArgumentError) as info:
        larder.parse_yaml(text, "doc.yml")
    assert "doc.yml" in str(info.value) and "line" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_alias_bomb_fails_fast():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(larder.InvalidArgumentError, match="max_nodes"):
        larder.parse_yaml("\n".join(lines) + "\n")


def test_to_yaml_reads_back_in_pyyaml():
    data = {"name": "run", "n": 3, "x": 1e-7, "big": 1e300, "flag": "yes", "none": None,
            "nested": {"list": [1, "two", {"k": 0.5}], "empty": {}},
            # Review regressions: a date-like string (PyYAML reads it unquoted
            # as a date) and a mapping of a tagged node's keys but no mapping.
            "date": "2001-12-14", "when": "2001-12-14 21:59:43.10 -5",
            "tagish": {"!tag": "!pdim", "value": 3}}
    text = larder.to_yaml(data)
    assert yaml.safe_load(text) == data
    assert larder.parse_yaml(text) == data


def test_tagged_shape_is_reserved_and_tagged_takes_kept_tags_only():
    with pytest.raises(larder.InvalidArgumentError, match="reserved"):
        larder.to_yaml({"!tag": "!pdim", "value": {"default": 1, "values": [2]}})
    with pytest.raises(larder.InvalidArgumentError, match="reserved"):
        larder.parse_yaml('{"!tag": "!pdim", value: {default: 1}}\n', "doc.yml")
    with pytest.raises(larder.InvalidArgumentError, match="!custom"):
        larder.Tagged("!custom", {"a": 1})
    with pytest.raises(larder.InvalidArgumentError, match="mapping"):
        larder.Tagged("!pdim", 3)
    text = larder.to_yaml({"p": larder.Tagged("!pdim", {"default": 0, "values": [1]})})
    assert larder.parse_yaml(text)["p"].tag == "!pdim"


def test_to_yaml_of_ints_beyond_64_bits():
    # Was RuntimeError: a Python int that fits no 64-bit type becomes the
    # nearest float, as to_json does.
    assert larder.parse_yaml(larder.to_yaml({"a": 2**70, "b": -(2**70)})) == {
        "a": float(2**70), "b": -float(2**70)}
    assert larder.parse_yaml(larder.to_yaml({"u": 2**64 - 1}))["u"] == 2**64 - 1


def test_read_yaml_takes_str_and_pathlike(tmp_path):
    # Was uncallable: std::filesystem::path without pybind11's caster.
    path = tmp_path / "cfg.yml"
    path.write_text("a: 1\nb: [x, y]\n")
    assert larder.read_yaml(path) == {"a": 1, "b": ["x", "y"]}
    assert larder.read_yaml(str(path)) == {"a": 1, "b": ["x", "y"]}
    with pytest.raises(larder.NotFoundError, match="missing.yml"):
        larder.read_yaml(tmp_path / "missing.yml")
    with pytest.raises(TypeError):
        larder.read_yaml(3)


def test_param_space_sources_and_error_origins(tmp_path):
    path = tmp_path / "sweep.yml"
    path.write_text(SWEEP)
    for space in (larder.ParamSpace.from_yaml(path), larder.ParamSpace.from_file(path),
                  larder.ParamSpace.from_file(str(path)), larder.ParamSpace.from_text(SWEEP),
                  larder.ParamSpace.from_yaml(str(path), key="parameter_space")):
        assert space.volume == 6
    # A mistyped path is not taken for YAML text.
    with pytest.raises(larder.NotFoundError, match="sweeep.yml"):
        larder.ParamSpace.from_yaml(str(tmp_path / "sweeep.yml"))
    with pytest.raises(larder.NotFoundError, match="sweeep.yml"):
        larder.ParamSpace.from_file(tmp_path / "sweeep.yml")
    # Errors name the file a space came from, not "<yaml>".
    bad = tmp_path / "bad.yml"
    bad.write_text("sweep: !pspace\n  a: !pdim {default: 0, values: [1, 1]}\n")
    with pytest.raises(larder.InvalidArgumentError, match="bad.yml"):
        larder.read_yaml(bad)
    with pytest.raises(larder.InvalidArgumentError, match="bad.yml"):
        larder.ParamSpace.from_yaml(bad)
    with pytest.raises(larder.InvalidArgumentError, match="runs.yml"):
        larder.parse_yaml("s: !pspace {a: !pdim {default: 0, values: []}}\n", "runs.yml")
    with pytest.raises(larder.InvalidArgumentError, match="my text"):
        larder.ParamSpace.from_text("!pspace\na: !pdim {default: 0}\n", origin="my text")
    with pytest.raises(larder.NotFoundError, match="nope"):
        larder.ParamSpace.from_text(SWEEP, key="parameter_space/nope")


def test_coupled_target_named_like_another_dims_path():
    # Was IndexError from points(): the target was looked up twice, by
    # different rules.
    space = larder.ParamSpace.from_text(
        "!pspace\nq: !pdim {name: p, default: 0, values: [1, 2]}\n"
        "p: !pdim {default: 0, values: [10, 20, 30]}\n"
        "c: !coupled-pdim {target_name: p, values: [a, b]}\n")
    points = space.points()
    assert len(points) == 6
    assert all(params["c"] == {1: "a", 2: "b"}[params["q"]] for _, _, params in points)


SWEEP = """\
parameter_space: !pspace
  seed: !pdim
    default: 42
    range: [1, 3]
  model:
    max_step_size: !sweep
      default: 1.0
      values: [0.5, 1.0, 2.0]
    label: !coupled-pdim
      target_name: max_step_size
      values: [small, medium, large]
  num_steps: 100
"""


def test_param_space_points_and_state_numbers(tmp_path):
    path = tmp_path / "sweep.yml"
    path.write_text(SWEEP)
    space = larder.ParamSpace.from_yaml(str(path), key="parameter_space")
    # Sorted by path: model.max_step_size (4 states), then seed (3 states);
    # state = 3 * i_step + i_seed: 4, 5, 7, 8, 10, 11.
    assert space.dims == [("max_step_size", [0.5, 1.0, 2.0]), ("seed", [1, 2])]
    assert space.shape == (3, 2)
    assert space.volume == 6 and len(space) == 6
    assert space.max_state_no == 11
    points = space.points()
    assert [p[0] for p in points] == [4, 5, 7, 8, 10, 11]
    assert [p[1] for p in points] == ["04", "05", "07", "08", "10", "11"]
    assert points[5][2] == {"seed": 2, "model": {"max_step_size": 2.0, "label": "large"},
                            "num_steps": 100}
    assert space.default == {"seed": 42, "model": {"max_step_size": 1.0, "label": 1.0},
                             "num_steps": 100}
    assert space.state_name(3) == "03"
    sub = space.subspace(max_step_size=[2.0], seed={"idx": [1]})
    assert [p[0] for p in sub.points()] == [10]
    assert sub.coords() == [(10, {"max_step_size": 2.0, "seed": 1})]
    again = larder.parse_yaml(sub.to_yaml())
    assert isinstance(again, larder.ParamSpace) and again.volume == 1


def test_parse_yaml_gives_param_space_objects():
    doc = larder.parse_yaml(SWEEP)
    assert isinstance(doc["parameter_space"], larder.ParamSpace)
    assert doc["parameter_space"].volume == 6
    loose = larder.parse_yaml("p: !pdim {default: 1, values: [1, 2]}\n")
    assert loose["p"] == larder.Tagged("!pdim", {"default": 1, "values": [1, 2]})


def test_param_space_errors():
    with pytest.raises(larder.InvalidArgumentError, match="no values"):
        larder.ParamSpace.from_yaml("!pspace\na: !pdim {default: 0}\n")
    with pytest.raises(larder.InvalidArgumentError, match="colour"):
        larder.ParamSpace.from_yaml("!pspace\na: !pdim {default: 0, values: [1], colour: red}\n")
    space = larder.ParamSpace.from_yaml(SWEEP, key="parameter_space")
    with pytest.raises(larder.NotFoundError, match="0.7"):
        space.subspace(max_step_size=0.7)
    with pytest.raises(KeyError):
        space.subspace(nothing=1)


def test_cli_pspace_lists_points(tmp_path, larder_cli):
    path = tmp_path / "sweep.yml"
    path.write_text(SWEEP)
    out = subprocess.run([larder_cli, "pspace", str(path)], capture_output=True, text=True,
                         check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "parameter space: parameter_space (the first !pspace in the file)"
    assert "volume: 6" in lines[1] and "max state number: 11" in lines[1]
    table = lines[lines.index(next(l for l in lines if l.startswith("state"))):]
    assert table[1].split() == ["04", "4", "0.5", "1"]
    assert table[-1].split() == ["11", "11", "2.0", "2"]
    data = json.loads(subprocess.run([larder_cli, "pspace", str(path), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    assert [p["state_no"] for p in data["points"]] == [4, 5, 7, 8, 10, 11]
    assert data["points"][0]["coords"] == {"max_step_size": 0.5, "seed": 1}
    bad = tmp_path / "bad.yml"
    bad.write_text("x: !!python/object:os.system {}\n")
    result = subprocess.run([larder_cli, "pspace", str(bad)], capture_output=True, text=True)
    assert result.returncode == 1 and "python/object" in result.stderr


def test_combine_writes_what_h5py_and_xarray_read(tmp_path):
    h5py = pytest.importorskip("h5py")
    import numpy as np

    space = larder.ParamSpace.from_yaml(SWEEP, key="parameter_space")

    def walk(state_no, params):
        seed, step = params["seed"], params["model"]["max_step_size"]
        return np.cumsum(np.full(5, step * seed, dtype=np.float32))

    combined = space.combine(walk, field="data/random_walk", dims=["time"])
    assert combined.dims == ["max_step_size", "seed", "time"]
    assert combined.values.shape == (3, 2, 5)
    assert combined.coords["max_step_size"] == [0.5, 1.0, 2.0]
    expected = np.array([[walk(0, {"seed": s, "model": {"max_step_size": m}}) for s in (1, 2)]
                         for m in (0.5, 1.0, 2.0)])
    np.testing.assert_array_equal(combined.values, expected)

    with larder.open(str(tmp_path / "result.h5"), "w") as store:
        combined.write(store, "random_walk")
    with h5py.File(tmp_path / "result.h5", "r") as f:
        ds = f["random_walk"]
        dims = [d.decode() if isinstance(d, bytes) else d for d in ds.attrs["dims"]]
        assert dims == ["max_step_size", "seed", "time"]
        np.testing.assert_array_equal(ds.attrs["coords__max_step_size"], [0.5, 1.0, 2.0])
        np.testing.assert_array_equal(ds.attrs["coords__seed"], [1, 2])
        np.testing.assert_array_equal(ds[()], expected)
        try:
            import xarray as xr
        except ImportError:
            return
        da = xr.DataArray(ds[()], dims=dims, coords={d: ds.attrs[f"coords__{d}"] for d in dims})
        assert float(da.sel(max_step_size=2.0, seed=2, time=4)) == pytest.approx(20.0)


def test_combine_concat_and_merge_of_missing_states():
    import numpy as np

    space = larder.ParamSpace.from_yaml(SWEEP, key="parameter_space")

    def some(state_no, params):
        return None if state_no == 7 else np.arange(3, dtype=np.int64) + state_no

    with pytest.raises(larder.NotFoundError, match="07"):
        space.combine(some, field="x", method="concat")
    merged = space.combine(some, field="x", method="merge")
    assert merged.values.dtype == np.float64
    # values is a read-only view of the one result, not a copy per access.
    first, again = merged.values, merged.values
    assert np.shares_memory(first, again)
    assert not first.flags.writeable
    assert np.isnan(merged.values[1, 0]).all()
    np.testing.assert_array_equal(merged.values[2, 1], [11, 12, 13])
