"""The registry of benchmark workloads: each module defines one Workload
(see harness.py), and ALL lists them in the order run.py runs them. To add a
workload, write workloads/<name>.py and append an instance here."""

from __future__ import annotations

from harness import Workload
from workloads.codec import CodecWorkload
from workloads.loader import LoaderWorkload
from workloads.expr import ExprWorkload
from workloads.ragged import RaggedWorkload
from workloads.storage import AppendWorkload, GatherWorkload, ManyWorkload, ScanWorkload
from workloads.trace import TraceWorkload
from workloads.tree import TreeWorkload

ALL: list[Workload] = [
    CodecWorkload(),
    AppendWorkload(),
    ScanWorkload(),
    GatherWorkload(),
    LoaderWorkload(),
    RaggedWorkload(),
    ExprWorkload(),
    ManyWorkload(),
    TraceWorkload(),
    TreeWorkload(),
]


def find(name: str) -> Workload:
    """A workload by id ("C1") or name ("codec"), case-insensitively."""
    for workload in ALL:
        if name.lower() in (workload.id.lower(), workload.name.lower()):
            return workload
    known = ", ".join(f"{w.id} ({w.name})" for w in ALL)
    raise KeyError(f"no workload {name!r}; known: {known}")
