#!/usr/bin/python3
"""Runs larder's benchmark workloads next to their peers and prints a table.

    SCALE=0.01 /usr/bin/python3 bench/run.py --build build [--only codec] [--repeat 5]

Inputs are generated once per scale under --data (default /tmp/larder-bench);
SCALE (environment, default 1) multiplies every size. Each implementation
runs in its own process; the table shows median [min-max] over the
repetitions and, on larder's rows, larder's ratio to the best peer (above 1:
larder is faster). Exits 1 if any result fails its check, 2 on a usage error.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import harness  # noqa: E402  (needs the path above)
import workloads  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build",
                   help="CMake build folder with the bench programs (default: build)")
    p.add_argument("--data", default="/tmp/larder-bench",
                   help="folder for the generated inputs (default: /tmp/larder-bench)")
    p.add_argument("--repeat", type=int, default=5, help="timed repetitions per run (default 5)")
    p.add_argument("--warmup", type=int, default=1,
                   help="untimed repetitions before them, in the same process (default 1)")
    p.add_argument("--threads", default=None,
                   help="comma-separated thread counts (default: 1 and every core)")
    p.add_argument("--only", action="append", default=[], metavar="WORKLOAD",
                   help="run only this workload, by id or name (repeatable)")
    p.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                   help="run only cases whose column KEY equals VALUE, e.g. codec=zstd:3 "
                        "(repeatable; filters on different keys all apply)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--json", type=Path, metavar="OUT", help="write every result to OUT as JSON")
    p.add_argument("--timeout", type=float, default=1800, help="seconds one run may take")
    p.add_argument("--python", default="/usr/bin/python3",
                   help="interpreter for Python peers (default: Debian's /usr/bin/python3)")
    return p.parse_args()


def usage_error(message: str) -> NoReturn:
    print(f"run.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def scale_from_env() -> float:
    text = os.environ.get("SCALE", "1") or "1"
    try:
        scale = float(text)
    except ValueError:
        usage_error(f"SCALE must be a number, got {text!r}")
    if not scale > 0:
        usage_error(f"SCALE must be positive, got {text!r}")
    return scale


def thread_counts(text: str | None) -> list[int]:
    if text is None:
        return sorted({1, os.cpu_count() or 1})
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        usage_error(f"--threads takes numbers, got {text!r}")
    if not counts or min(counts) < 1:
        usage_error(f"--threads must be at least 1, got {text!r}")
    return counts


def find_build(text: str) -> Path:
    """The build folder as given, or else relative to the repository."""
    path = Path(text)
    if not path.is_dir() and not path.is_absolute() and (REPO / path).is_dir():
        path = REPO / path
    return path.resolve()


def parse_filters(filters: list[str]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            usage_error(f"--filter takes KEY=VALUE, got {item!r}")
        wanted.setdefault(key, set()).add(value)
    return wanted


def selected(case: harness.Case, wanted: dict[str, set[str]]) -> bool:
    return all(case.key.get(key) in values for key, values in wanted.items())


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=False)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def meta(ctx: harness.Context) -> dict:
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "commit": git_commit(),
        "build": str(ctx.build),
        "data": str(ctx.data),
        "scale": ctx.scale,
        "repeat": ctx.repeat,
        "warmup": ctx.warmup,
        "threads": ctx.threads,
        "python": ctx.python,
        "loadavg_at_end": os.getloadavg(),
    }


def warn_if_busy() -> None:
    """Other processes make every timing noisy; say so up front."""
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    if load > 0.5 * cpus:
        harness.progress(f"warning: load average {load:.1f} on {cpus} cores before starting; "
                         f"other processes will make the timings noisy")


def main() -> int:
    args = parse_args()
    if args.list:
        for w in workloads.ALL:
            print(f"{w.id:4} {w.name:10} {w.title}")
        return 0
    if args.repeat < 1 or args.warmup < 0:
        usage_error("--repeat must be at least 1 and --warmup at least 0")
    try:
        chosen = [workloads.find(name) for name in args.only] or list(workloads.ALL)
    except KeyError as e:
        usage_error(e.args[0])
    wanted = parse_filters(args.filter)

    ctx = harness.Context(repo=REPO, build=find_build(args.build), data=Path(args.data).resolve(),
                          scale=scale_from_env(), repeat=args.repeat, warmup=args.warmup,
                          threads=thread_counts(args.threads), python=args.python,
                          timeout=args.timeout)
    missing = [m for w in chosen for m in w.missing(ctx)]
    if missing:
        print("run.py: missing:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 2

    harness.progress(f"larder bench: scale {ctx.scale:g}, {ctx.repeat} repetitions "
                     f"(+{ctx.warmup} warm-up), threads {ctx.threads}, data in {ctx.data}")
    warn_if_busy()
    results: list[harness.Result] = []
    for workload in chosen:
        workload.prepare(ctx)
        cases = [c for c in workload.cases(ctx) if selected(c, wanted)]
        if not cases:
            harness.progress(f"{workload.id}: no case matches the filters")
            continue
        workload_results = harness.run_workload(workload, ctx, cases)
        harness.print_table(workload, workload_results)
        results += workload_results

    if not results:
        print("run.py: nothing ran", file=sys.stderr)
        return 2
    print(f"\nscale {ctx.scale:g}; median [min-max] of {ctx.repeat} repetitions, each "
          f"implementation in its own process; 'vs best peer' = larder / best peer "
          f"(above 1: larder is better)")
    harness.print_problems(results)
    if args.json:
        harness.write_json(args.json, meta(ctx), results)
        harness.progress(f"results written to {args.json}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
