"""W7-trace: what a re-run of a traced pipeline costs when every step is
already done — larder.Trace against its own first run (bmmltools, the peer
of issue 7, recomputes everything on a re-run, so the ratio is the figure).

The run is bench/peers/trace_pipeline.py: a seeded 192^3 (x SCALE^(1/3))
float32 volume through five operations, then the same five again (all
skipped). BENCH target: the second run under 1% of the first.
"""

from __future__ import annotations

from harness import Case, Context, Info, Metric, Run, Workload


class TraceWorkload(Workload):
    id = "W7-trace"
    name = "trace"
    title = ("a traced 5-step pipeline on a 192^3 float32 volume, then its re-run with every "
             "step skipped (re-run time as % of the first run; target < 1%)")
    metrics = (Metric("skip_cost_pct", "re-run % of first", higher_is_better=False),)
    infos = (Info("first_s", "first run s", "{:.3f}"), Info("second_s", "re-run s", "{:.4f}"))

    def missing(self, ctx: Context) -> list[str]:
        package = ctx.build / "python" / "larder"
        if (package / "__init__.py").is_file() and any(package.glob("_larder*.so")):
            return []
        return [f"{package} (build it: ninja -C {ctx.build} _larder)"]

    def cases(self, ctx: Context) -> list[Case]:
        side = max(16, round(192 * ctx.scale ** (1 / 3)))
        work = ctx.data / "trace" / "work"
        argv = [ctx.python, str(ctx.repo / "bench" / "peers" / "trace_pipeline.py"),
                "--side", str(side), "--work", str(work), "--repeat", str(ctx.repeat),
                "--warmup", str(ctx.warmup)]
        run = Run("larder", argv, subject=True, env={"PYTHONPATH": str(ctx.build / "python")})
        return [Case(key={"volume": f"{side}^3 f32"}, runs=[run],
                     expect={"skipped": 5, "steps": 5})]
