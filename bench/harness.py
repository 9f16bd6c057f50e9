"""The machinery every workload shares: running implementations, checking
their results, statistics and the table.

A workload (see workloads/) describes *cases* — one combination of input and
settings, e.g. smooth data x zstd:3 x 1 thread — and, for each case, the
*runs* to make: one command per implementation (larder and its peers). The
runner starts every run in its own process. A run prints one JSON object per
line on stdout, one per repetition (lines with "warmup": true are checked but
not timed). Every record must say "ok": true and match the case's expected
fields (e.g. the checksum of the decoded bytes), or the run fails and
run.py exits non-zero.

Only the standard library is used here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Record = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Metric:
    """A number every record carries, summarised as median [min-max]."""

    field: str  # record field, e.g. "encode_gbps"
    label: str  # column header, e.g. "encode GB/s"
    higher_is_better: bool = True


@dataclasses.dataclass(frozen=True)
class Info:
    """A record field shown once per row (its median), e.g. the compression ratio."""

    field: str
    label: str
    fmt: str = "{:.2f}"


@dataclasses.dataclass(frozen=True)
class Target:
    """A goal from BENCH.md for larder on one case: its median at least
    `ratio` times that of `peer` (None: the best peer), on every metric.
    Shown next to the ratio; a missed target is reported, not a failure."""

    ratio: float
    peer: str | None = None
    # The larder runs (impl) the goal is for; None: every larder run.
    subjects: tuple[str, ...] | None = None

    def covers(self, impl: str) -> bool:
        return self.subjects is None or impl in self.subjects

    def label(self) -> str:
        return f">={self.ratio:g}x {self.peer or 'best'}"


@dataclasses.dataclass
class Run:
    """One implementation on one case: the command that measures it."""

    impl: str  # "larder", "direct", "numcodecs", ...
    argv: list[str]
    subject: bool = False  # larder's own runs, compared to the best peer
    env: dict[str, str] | None = None  # added to the environment


@dataclasses.dataclass
class Case:
    """One input + settings combination, measured by several implementations."""

    key: dict[str, str]  # identifying columns, in table order
    runs: list[Run]
    # Fields every record must have, with exactly these values.
    expect: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Further checks of one record; returns the problems found.
    check: Callable[[Record], list[str]] | None = None
    # larder's goals on this case, from BENCH.md: one Target, or several
    # for different larder runs (each run takes the first that covers it).
    target: Target | tuple[Target, ...] | None = None


@dataclasses.dataclass
class Context:
    """What the command line decided, handed to every workload."""

    repo: Path
    build: Path
    data: Path
    scale: float
    repeat: int
    warmup: int
    threads: list[int]
    python: str  # the interpreter peers run with (Debian's, with numpy & co)
    timeout: float  # seconds one run may take


class Workload:
    """Base of the workloads; subclasses fill in the attributes and methods."""

    id = ""  # "C1", "W1", ...
    name = ""  # short name for --only: "codec"
    title = ""  # one line for --list and the table heading
    metrics: Sequence[Metric] = ()
    infos: Sequence[Info] = ()

    def missing(self, ctx: Context) -> list[str]:
        """What has to be built or installed before the workload can run."""
        return []

    def prepare(self, ctx: Context) -> None:
        """Generates the inputs under ctx.data unless they are there already."""

    def cases(self, ctx: Context) -> list[Case]:
        raise NotImplementedError


def missing_python_package(ctx: Context) -> list[str]:
    """What Workload.missing says for workloads that run through larder's Python package."""
    package = ctx.build / "python" / "larder"
    if (package / "__init__.py").is_file() and any(package.glob("_larder*.so")):
        return []
    return [f"{package} (build it: ninja -C {ctx.build} _larder)"]


@dataclasses.dataclass
class Stats:
    median: float
    min: float
    max: float
    values: list[float]

    @classmethod
    def of(cls, values: list[float]) -> Stats:
        return cls(statistics.median(values), min(values), max(values), values)


@dataclasses.dataclass
class Result:
    """What one run measured, and what was wrong with it."""

    workload: str
    key: dict[str, str]
    impl: str
    subject: bool
    records: list[Record]  # timed repetitions
    warmups: list[Record]
    problems: list[str]
    wall_seconds: float
    stats: dict[str, Stats] = dataclasses.field(default_factory=dict)
    infos: dict[str, Any] = dataclasses.field(default_factory=dict)
    # metric field -> (larder / best peer, where > 1 means larder is better; peer)
    vs_best_peer: dict[str, tuple[float, str]] = dataclasses.field(default_factory=dict)
    # metric field -> (larder / the target's peer, or None without its result; met)
    vs_target: dict[str, tuple[float | None, bool]] = dataclasses.field(default_factory=dict)
    target: Target | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- running


def parse_records(stdout: str) -> tuple[list[Record], list[str]]:
    """The JSON lines of a run's stdout, and the lines that were not JSON objects."""
    records, junk = [], []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            junk.append(line)
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            junk.append(line)
    return records, junk


def check_record(record: Record, case: Case, metrics: Sequence[Metric]) -> list[str]:
    """Problems with one repetition: not ok, an unexpected field, a bad metric."""
    where = f"repeat {record['repeat']}" if "repeat" in record else "record"
    if record.get("ok") is not True:
        return [f"{where}: not ok: {record.get('error', 'result differs from the input')}"]
    problems = []
    for field, want in case.expect.items():
        if record.get(field) != want:
            problems.append(f"{where}: {field} is {record.get(field)!r}, expected {want!r}")
    if not record.get("warmup"):
        for metric in metrics:
            value = record.get(metric.field)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                problems.append(f"{where}: {metric.field} is {value!r}")
    if case.check is not None:
        problems += [f"{where}: {p}" for p in case.check(record)]
    return problems


def last_lines(text: str, n: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-n:])


def execute(run: Run, case: Case, workload: Workload, ctx: Context) -> Result:
    """Runs one implementation in its own process and checks what it printed."""
    env = dict(os.environ, **(run.env or {}))
    start = time.perf_counter()
    problems: list[str] = []
    try:
        proc = subprocess.run(run.argv, capture_output=True, text=True, env=env,
                              timeout=ctx.timeout, check=False)
        stdout, stderr, status = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr, status = "", None
        problems.append(f"timed out after {ctx.timeout:.0f} s")
    except OSError as e:
        stdout, stderr, status = "", "", None
        problems.append(f"cannot start {run.argv[0]}: {e}")
    wall = time.perf_counter() - start

    records, junk = parse_records(stdout)
    if junk:
        problems.append(f"{len(junk)} stdout line(s) not JSON, e.g. {junk[0][:120]!r}")
    if status not in (0, None):
        problems.append(f"exit status {status}: {last_lines(stderr) or 'no stderr'}")
    for record in records:
        problems += check_record(record, case, workload.metrics)
    timed = [r for r in records if not r.get("warmup")]
    warmups = [r for r in records if r.get("warmup")]
    if status == 0 and len(timed) != ctx.repeat:
        problems.append(f"{len(timed)} timed repetitions, expected {ctx.repeat}")

    result = Result(workload.id, case.key, run.impl, run.subject, timed, warmups, problems, wall)
    if timed and not problems:
        for metric in workload.metrics:
            result.stats[metric.field] = Stats.of([float(r[metric.field]) for r in timed])
        for info in workload.infos:
            values = [r[info.field] for r in timed if info.field in r]
            if values:
                result.infos[info.field] = statistics.median(values)
    return result


def compare_to_peers(results: list[Result], metrics: Sequence[Metric],
                     target: Target | tuple[Target, ...] | None = None) -> None:
    """Sets vs_best_peer (and vs_target, given a target) on the subject
    results of one case."""
    peers = [r for r in results if not r.subject and r.ok]
    targets = () if target is None else (target,) if isinstance(target, Target) else target
    for subject in (r for r in results if r.subject and r.ok):
        goal = next((t for t in targets if t.covers(subject.impl)), None)
        subject.target = goal
        for metric in metrics:
            mine = subject.stats[metric.field].median

            def ratio_to(theirs: float) -> float:
                return mine / theirs if metric.higher_is_better else theirs / mine

            candidates = [(p.stats[metric.field].median, p.impl) for p in peers]
            if candidates:
                pick = max if metric.higher_is_better else min
                best, peer = pick(candidates, key=lambda candidate: candidate[0])
                subject.vs_best_peer[metric.field] = (ratio_to(best), peer)
            if goal is None:
                continue
            if goal.peer is None:
                ratio = subject.vs_best_peer.get(metric.field, (None, ""))[0]
            else:
                named = [p for p in peers if p.impl == goal.peer]
                ratio = ratio_to(named[0].stats[metric.field].median) if named else None
            subject.vs_target[metric.field] = (ratio, ratio is not None and ratio >= goal.ratio)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def case_label(case: Case) -> str:
    return " ".join(f"{k}={v}" for k, v in case.key.items())


def run_workload(workload: Workload, ctx: Context, cases: list[Case]) -> list[Result]:
    """Runs every case of a workload; implementations of a case run back to back,
    in an order that alternates from case to case so that drift of a noisy
    machine does not always favour the same one."""
    results = []
    total = sum(len(c.runs) for c in cases)
    done = 0
    for index, case in enumerate(cases):
        order = list(range(len(case.runs)))
        if index % 2:
            order.reverse()
        case_results: list[Result | None] = [None] * len(case.runs)
        for position in order:
            run = case.runs[position]
            done += 1
            result = execute(run, case, workload, ctx)
            case_results[position] = result
            summary = ", ".join(f"{m.field} {format_number(result.stats[m.field].median)}"
                                for m in workload.metrics if m.field in result.stats)
            status = summary if result.ok else "FAILED: " + "; ".join(result.problems[:3])
            progress(f"[{done}/{total}] {workload.id} {case_label(case)} {run.impl}: "
                     f"{status} ({result.wall_seconds:.1f} s)")
        finished = [r for r in case_results if r is not None]
        compare_to_peers(finished, workload.metrics, case.target)
        results += finished
    return results


# ---------------------------------------------------------------- table


def format_number(value: float) -> str:
    """Three significant digits or so, never scientific notation."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_stats(stats: Stats) -> str:
    return (f"{format_number(stats.median)} "
            f"[{format_number(stats.min)}-{format_number(stats.max)}]")


def target_cell(result: Result, metric: Metric) -> str:
    """'>=2x h5py: 2.31x met' on larder's rows of a case with a target."""
    if result.target is None or metric.field not in result.vs_target:
        return ""
    ratio, met = result.vs_target[metric.field]
    if ratio is None:
        return f"{result.target.label()}: no peer result"
    return f"{result.target.label()}: {ratio:.2f}x {'met' if met else 'MISSED'}"


def table_rows(workload: Workload, results: list[Result]) -> tuple[list[str], list[list[str]]]:
    key_columns = list(results[0].key) if results else []
    with_targets = any(r.target is not None for r in results)
    header = (["workload", *key_columns, "impl"]
              + [m.label for m in workload.metrics]
              + [i.label for i in workload.infos]
              + [f"{m.label.split()[0]} vs best peer" for m in workload.metrics]
              + ([f"{m.label.split()[0]} vs target" for m in workload.metrics]
                 if with_targets else []))
    rows = []
    for r in results:
        row = [r.workload, *(r.key[k] for k in key_columns), r.impl]
        if r.ok:
            row += [format_stats(r.stats[m.field]) for m in workload.metrics]
            row += [i.fmt.format(r.infos[i.field]) if i.field in r.infos else "-"
                    for i in workload.infos]
        else:
            row += ["FAILED"] * len(workload.metrics) + ["-"] * len(workload.infos)
        for m in workload.metrics:
            if m.field in r.vs_best_peer:
                ratio, peer = r.vs_best_peer[m.field]
                row.append(f"{ratio:.2f}x {peer}")
            else:
                row.append("")
        if with_targets:
            row += [target_cell(r, m) for m in workload.metrics]
        rows.append(row)
    return header, rows


def print_table(workload: Workload, results: list[Result], out=sys.stdout) -> None:
    """A plain-text table: text columns left-aligned, measurements right-aligned,
    a blank line between cases."""
    header, rows = table_rows(workload, results)
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    measured_from = 2 + len(results[0].key) if results else 0

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if i >= measured_from else c.ljust(w)
                 for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    print(f"\n{workload.id} {workload.title}", file=out)
    print(line(header), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    previous_key = None
    for result, row in zip(results, rows):
        if previous_key is not None and result.key != previous_key:
            print(file=out)
        previous_key = result.key
        print(line(row), file=out)


def print_problems(results: list[Result], out=sys.stdout) -> None:
    failed = [r for r in results if not r.ok]
    if not failed:
        return
    print(f"\n{len(failed)} run(s) FAILED:", file=out)
    for r in failed:
        label = " ".join(f"{k}={v}" for k, v in r.key.items())
        print(f"  {r.workload} {label} {r.impl}:", file=out)
        for problem in r.problems:
            print(f"    {problem}", file=out)


# ---------------------------------------------------------------- JSON


def result_json(result: Result) -> dict[str, Any]:
    return {
        "workload": result.workload,
        "key": result.key,
        "impl": result.impl,
        "subject": result.subject,
        "ok": result.ok,
        "problems": result.problems,
        "wall_seconds": result.wall_seconds,
        "stats": {k: dataclasses.asdict(v) for k, v in result.stats.items()},
        "infos": result.infos,
        "vs_best_peer": {k: {"ratio": ratio, "peer": peer}
                         for k, (ratio, peer) in result.vs_best_peer.items()},
        "target": dataclasses.asdict(result.target) if result.target else None,
        "vs_target": {k: {"ratio": ratio, "met": met}
                      for k, (ratio, met) in result.vs_target.items()},
        "records": result.records,
        "warmups": result.warmups,
    }


def write_json(path: Path, meta: dict[str, Any], results: list[Result]) -> None:
    """Writes the whole run (settings and every record) for later analysis."""
    document = {"meta": meta, "results": [result_json(r) for r in results]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=1) + "\n")
    tmp.replace(path)
