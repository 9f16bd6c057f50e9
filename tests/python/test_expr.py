"""Cut expressions from Python: larder.cut / evaluate / count / cut_flow,
and a differential test of the evaluator against numpy over generated
expressions and columns (NaN, inf, integer division by zero, overflow,
empty columns, jagged records of length 0)."""

import json
import subprocess
import warnings

import numpy as np
import pytest

import larder

DTYPES = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8"]
LITERALS = ["0", "1", "2", "3", "7", "100", "200", "300", "70000", "2147483648", "0.5",
            "2.5", "1e-3", "1e10", "1e300", "True"]
NEGATIVE_LITERALS = ["-1", "-3", "-200", "-1.5"]


def column(dtype, n, rng):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(n) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, n, endpoint=True, dtype=dtype)
        small = rng.integers(-5 if dtype.kind == "i" else 0, 6, n).astype(dtype)
        values = np.where(rng.random(n) < 0.5, small, values)
        specials = [0, 1, info.max, info.min] + ([-1] if dtype.kind == "i" else [])
    else:
        values = rng.normal(0, 100, n).astype(dtype)
        values[rng.random(n) < 0.2] = 0
        specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30]
    for k, special in enumerate(specials):
        if k < n:
            values[k * 7 % n] = special
    return values.astype(dtype)


INEXACT = {"exp", "log", "log10", "sin", "cos", "tan", "arctan2"}  # libm and numpy's SIMD differ by ulps


class Gen:
    """Random expressions with their numpy value: (text, value, fuzzy), where
    fuzzy marks values that went through a function whose last bits differ
    between libm and numpy; those only meet operations that do not turn an
    ulp into a different answer (no comparisons, rounding or remainders)."""

    def __init__(self, rng, columns):
        self.rng = rng
        self.columns = columns
        self.refused = []  # expressions numpy refuses

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def leaf(self, want_array=False):
        if want_array or self.rng.random() < 0.75:
            name = self.pick(sorted(self.columns))
            return name, self.columns[name], False
        text = self.pick(LITERALS + NEGATIVE_LITERALS)
        value = True if text == "True" else (float(text) if any(c in text for c in ".e") else int(text))
        return (f"({text})" if text.startswith("-") else text), value, False

    @staticmethod
    def kind(value):
        if isinstance(value, bool):
            return "b"
        if isinstance(value, int):
            return "i"
        if isinstance(value, float):
            return "f"
        return value.dtype.kind

    @staticmethod
    def small_int(value):
        return isinstance(value, np.ndarray) and value.dtype.itemsize == 1

    def expr(self, depth):
        if depth == 0:
            return self.leaf()
        choice = self.rng.random()
        a = self.expr(depth - 1)
        if choice < 0.45:
            b = self.expr(depth - 1)
            if not isinstance(a[1], np.ndarray) and not isinstance(b[1], np.ndarray):
                b = self.leaf(want_array=True)
            return self.binary(a, b)
        if choice < 0.75 and isinstance(a[1], np.ndarray):
            return self.function(a, depth)
        if isinstance(a[1], np.ndarray):
            return self.unary(a)
        return a

    def binary(self, x, y):
        a_text, a, a_fuzzy = x
        b_text, b, b_fuzzy = y
        fuzzy = a_fuzzy or b_fuzzy
        ka, kb = self.kind(a), self.kind(b)
        ops = [] if fuzzy else ["<", "<=", ">", ">=", "==", "!="]
        if not (ka == "b" and kb == "b"):
            ops += ["+", "-", "*", "/"] + ([] if fuzzy else ["//", "%"])
        if ka != "f" and kb != "f" and not fuzzy:
            ops += ["&", "|"]
        if not ops:
            return x
        op = self.pick(ops)
        try:
            value = eval(f"a {op} b", {"a": a, "b": b})  # the reference: numpy itself
        except TypeError:  # e.g. uint64 | int64 (float64 in numpy): refused by both
            self.refused.append(f"({a_text} {op} {b_text})")
            op = "<"
            value = a < b
        return f"({a_text} {op} {b_text})", value, fuzzy

    def unary(self, x):
        a_text, a, fuzzy = x
        k = a.dtype.kind
        choices = []
        if k != "b":
            choices.append("-")
        if k != "f":
            choices.append("~")
        if k in "iuf" and not (k in "iu" and a.dtype.itemsize == 1):
            choices.append("**2")
        if not choices:
            return x
        op = self.pick(choices)
        if op == "**2":
            return f"({a_text} ** 2)", a**2, fuzzy
        return f"({op}{a_text})", (-a if op == "-" else ~a), fuzzy

    def function(self, x, depth):
        a_text, a, fuzzy = x
        k = a.dtype.kind
        names = ["abs", "minimum", "maximum"]
        if not fuzzy:
            names += ["isnan", "isfinite", "where"]
        if k == "f" or (k in "iu" and a.dtype.itemsize > 1):
            # (sin, cos and tan of huge arguments differ between libm and
            # numpy's SIMD code: test_functions covers them on sane inputs)
            names += ["sqrt", "exp", "log", "log10", "arctan2"]
            if not fuzzy:
                names += ["floor", "ceil"]
        if k != "b" and not fuzzy:
            names.append("round")
        name = self.pick(names)
        fuzzy = fuzzy or name in INEXACT
        if name in ("minimum", "maximum", "arctan2"):
            b_text, b, b_fuzzy = self.expr(depth - 1)
            if name == "arctan2" and (self.kind(b) == "b" or self.small_int(b)):
                b_text, b, b_fuzzy = "2.5", 2.5, False
            return f"{name}({a_text}, {b_text})", getattr(np, name)(a, b), fuzzy or b_fuzzy
        if name == "where":
            c_text, c, c_fuzzy = self.expr(depth - 1)
            if self.kind(c) != "b" or not isinstance(c, np.ndarray) or c_fuzzy:
                c_text, c = f"({a_text} > 0)", a > 0
            y_text, y, _ = self.leaf()
            return f"where({c_text}, {a_text}, {y_text})", np.where(c, a, y), fuzzy
        return f"{name}({a_text})", getattr(np, name)(a), fuzzy


def assert_same(got, want, text, fuzzy=False):
    want = np.asarray(want)
    assert got.dtype == want.dtype, f"{text}: dtype {got.dtype}, numpy {want.dtype}"
    assert got.shape == want.shape, text
    if want.dtype.kind == "f":
        rtol = 2e-6 if want.dtype.itemsize == 4 else 1e-12
        atol = 0.0
        if fuzzy:
            finite = np.abs(want[np.isfinite(want)])
            rtol, atol = 1e-4, 1e-4 * (finite.max() if finite.size else 0.0)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=text)
    else:
        np.testing.assert_array_equal(got, want, err_msg=text)


@pytest.fixture
def memory_store():
    with larder.open(":memory:", "w") as s:
        yield s


def test_differential_against_numpy(memory_store):
    rng = np.random.default_rng(2026)
    n = 131
    columns = {f"c_{np.dtype(d).name}": column(d, n, rng) for d in DTYPES}
    for name, values in columns.items():
        memory_store.create_array(name, data=values)
    gen = Gen(rng, columns)
    checked = 0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(600):
            text, want, fuzzy = gen.expr(int(rng.integers(1, 4)))
            if not isinstance(want, np.ndarray) or want.shape != (n,):
                continue
            got = larder.evaluate(memory_store, text)
            assert_same(got, want, text, fuzzy)
            if want.dtype == bool:
                np.testing.assert_array_equal(larder.cut(memory_store, text, cache=False),
                                              np.flatnonzero(want), err_msg=text)
                assert larder.count(memory_store, text) == int(want.sum()), text
            checked += 1
    assert checked > 300
    for text in gen.refused[:20]:
        with pytest.raises(larder.TypeMismatchError):
            larder.evaluate(memory_store, text)


def test_promotion_of_float32_with_float_literals(memory_store):
    memory_store.create_array("x", data=np.array([0.1, 0.2], "f4"))
    assert larder.evaluate(memory_store, "x * 2.5").dtype == np.float32  # as numpy 1.24
    assert larder.evaluate(memory_store, "x * 1e300").dtype == np.float64
    assert larder.evaluate(memory_store, "x > 0.15").tolist() == (np.array([0.1, 0.2], "f4") > 0.15).tolist()


def test_functions(memory_store):
    x = np.linspace(-20, 20, 1001)
    memory_store.create_array("x", data=x)
    memory_store.create_array("y", data=x.astype("f4"))
    memory_store.create_array("i", data=np.arange(-500, 501, dtype="i2"))
    with np.errstate(all="ignore"):
        for name in ["sin", "cos", "tan", "exp", "log", "log10", "sqrt", "floor", "ceil", "round",
                     "abs"]:
            for column, values in [("x", x), ("y", x.astype("f4")), ("i", np.arange(-500, 501, dtype="i2"))]:
                want = getattr(np, name)(values)
                got = larder.evaluate(memory_store, f"{name}({column})")
                assert_same(got, want, f"{name}({column})", fuzzy=name in INEXACT)
        assert_same(larder.evaluate(memory_store, "arctan2(y, i)"), np.arctan2(x.astype("f4"), np.arange(-500, 501, dtype="i2")), "arctan2", True)
        assert_same(larder.evaluate(memory_store, "y ** 2 + y ** 0.5"), x.astype("f4") ** 2 + x.astype("f4") ** 0.5, "pow")


def test_empty_columns(memory_store):
    for d in DTYPES:
        memory_store.create_array(f"e_{np.dtype(d).name}", data=np.zeros(0, d))
    assert larder.evaluate(memory_store, "e_float32 * 2").dtype == np.float32
    assert larder.evaluate(memory_store, "e_int8 + e_uint8").dtype == np.int16
    assert len(larder.cut(memory_store, "e_float64 > 0", cache=False)) == 0
    assert larder.count(memory_store, "e_bool | e_bool") == 0


def test_jagged_against_python_loops(memory_store):
    rng = np.random.default_rng(5)
    n = 400
    lengths = rng.poisson(2.0, n)
    lengths[:5] = 0
    pt = rng.exponential(30, lengths.sum()).astype("f4")
    pt[3] = np.nan if len(pt) > 3 else 0
    tag = rng.integers(-3, 4, lengths.sum()).astype("i2")
    ht = rng.exponential(200, n)
    memory_store.create_ragged("jet_pt", dtype="f4").extend(pt, lengths=lengths)
    memory_store.create_ragged("jet_tag", dtype="i2").extend(tag, lengths=lengths)
    memory_store.create_array("ht", data=ht)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    pts = [pt[bounds[i]:bounds[i + 1]] for i in range(n)]
    tags = [tag[bounds[i]:bounds[i + 1]] for i in range(n)]
    nan = np.nan

    def per_row(f, dtype):
        return np.array([f(i) for i in range(n)], dtype)

    with np.errstate(all="ignore"):
        cases = {
            "len(jet_pt)": per_row(lambda i: len(pts[i]), "i8"),
            "sum(jet_pt)": per_row(lambda i: pts[i].astype("f8").sum(), "f4"),
            "sum(jet_tag)": per_row(lambda i: int(tags[i].sum()), "i8"),
            "min(jet_pt)": per_row(lambda i: pts[i].min() if len(pts[i]) else nan, "f4"),
            "max(jet_pt)": per_row(lambda i: pts[i].max() if len(pts[i]) else nan, "f4"),
            "min(jet_tag)": per_row(lambda i: tags[i].min() if len(tags[i]) else 32767, "i2"),
            "max(jet_tag)": per_row(lambda i: tags[i].max() if len(tags[i]) else -32768, "i2"),
            "any(jet_pt > 30)": per_row(lambda i: bool((pts[i] > 30).any()), "?"),
            "all(jet_pt > 30)": per_row(lambda i: bool((pts[i] > 30).all()), "?"),
            "jet_pt[0]": per_row(lambda i: pts[i][0] if len(pts[i]) > 0 else nan, "f4"),
            "jet_pt[-1]": per_row(lambda i: pts[i][-1] if len(pts[i]) > 0 else nan, "f4"),
            "jet_tag[1]": per_row(lambda i: tags[i][1] if len(tags[i]) > 1 else 0, "i2"),
            "sum(jet_pt * (jet_tag > 0))": per_row(
                lambda i: (pts[i] * (tags[i] > 0)).astype("f8").sum(), "f4"),
            "any(jet_pt > ht / 10)": per_row(lambda i: bool((pts[i] > ht[i] / 10).any()), "?"),
            "sum(jet_tag == 1) >= 1 & ht > 100": per_row(
                lambda i: bool((tags[i] == 1).sum() >= 1 and ht[i] > 100), "?"),
        }
    for text, want in cases.items():
        assert_same(larder.evaluate(memory_store, text), want, text)


def test_errors(memory_store):
    memory_store.create_array("nJets", data=np.arange(5, dtype="i4"))
    memory_store.create_array("nBTags_77", data=np.arange(5, dtype="i4"))
    with pytest.raises(larder.InvalidArgumentError, match="nearest: nBTags_77") as e:
        larder.cut(memory_store, "nJets >= 6 & nBtags_77 >= 2")
    assert isinstance(e.value, ValueError)
    assert "column 14" in str(e.value)
    with pytest.raises(ValueError, match="column 10"):
        larder.evaluate(memory_store, "nJets >= ) 6")
    with pytest.raises(larder.TypeMismatchError, match="not a condition"):
        larder.cut(memory_store, "nJets + 1")
    with pytest.raises(ValueError, match="__import__"):
        larder.evaluate(memory_store, "__import__('os').system('true')")
    with pytest.raises(ValueError):
        larder.evaluate(memory_store, "nJets > c", constants={"c": "text"})


def test_cut_cache_constants_and_groups(tmp_path):
    path = str(tmp_path / "events.lmm")
    rng = np.random.default_rng(1)
    n_jets = rng.integers(0, 12, 10000).astype("i4")
    with larder.open(path, "w") as s:
        g = s.create_group("events")
        g.create_array("nJets", data=n_jets)
        want = np.flatnonzero(n_jets >= 6)
        np.testing.assert_array_equal(larder.cut(g, "nJets >= n", constants={"n": 6}), want)
        np.testing.assert_array_equal(larder.cut(g, "nJets >= n", constants={"n": np.int64(6)}), want)
        assert ".larder" in g
        np.testing.assert_array_equal(larder.cut(s, "'events/nJets' >= 6"), want)
        flow = larder.cut_flow(g, ["nJets >= 2", "nJets >= 6", "nJets < 0"])
        assert flow == [("nJets >= 2", int((n_jets >= 2).sum())), ("nJets >= 6", len(want)),
                        ("nJets < 0", 0)]
        assert larder.normalize_expr("a>1&b") == "((a > 1) & b)"
    with larder.open(path, "r") as s:  # read-only: evaluated, never an error
        np.testing.assert_array_equal(larder.cut(s["events"], "nJets < 3", recreate=True),
                                      np.flatnonzero(n_jets < 3))


def test_cli_cut_and_flow(tmp_path, larder_cli):
    path = str(tmp_path / "events.h5")
    n_jets = np.arange(1000, dtype="i4") % 10
    with larder.open(path, "w") as s:
        s.create_array("nJets", data=n_jets)
        s.create_array("met", data=np.linspace(0, 100, 1000))
    out = subprocess.run([larder_cli, "cut", path, "nJets >= n", "--const", "n=6", "--json"],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    assert result["count"] == 400 and result["total"] == 1000 and not result["from_cache"]
    out = subprocess.run([larder_cli, "cut", path, "nJets >= n", "--const", "n=6", "--json"],
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out)["from_cache"]
    text = subprocess.run([larder_cli, "cut", path, "nJets >= 6"], check=True,
                          capture_output=True, text=True).stdout
    assert "400 of 1000 rows (40.000%)" in text and "rows/s" in text
    flow = subprocess.run([larder_cli, "cut", path, "--flow", "nJets >= 6", "met > 50", "--json"],
                          check=True, capture_output=True, text=True).stdout
    steps = json.loads(flow)["steps"]
    assert [s["passing"] for s in steps] == [400, int(((n_jets >= 6) & (np.linspace(0, 100, 1000) > 50)).sum())]
    bad = subprocess.run([larder_cli, "cut", path, "nJet >= 6"], capture_output=True, text=True)
    assert bad.returncode != 0 and "nearest: nJets" in bad.stderr
