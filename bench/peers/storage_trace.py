#!/usr/bin/python3
"""W7 through a larder Trace (see storage_common.py): each array stored with
`t.name = array` into a new trace folder, then read back one by one with
`t.name[...]` after linking the folder again. The store argument is the
working folder; the trace is the one trace_XXXX inside it. Run with
PYTHONPATH=<build>/python.
"""

from __future__ import annotations

import sys
from pathlib import Path

import larder

import storage_common as common


class TraceImpl:
    def supports(self, workload, codec):
        if workload != "many":
            return "the trace peer runs W7 only"
        return None if codec == "none" else "trace variables use the store's default (no codec)"

    def write_many(self, path, names, arrays):
        with larder.Trace.create(path) as t:
            for name, a in zip(names, arrays):
                t[name] = a

    def read_many(self, path, names):
        (folder,) = Path(path).glob("trace_*")
        with larder.Trace.link(folder) as t:
            return [t[name][...] for name in names]


if __name__ == "__main__":
    sys.exit(common.main(lambda args: TraceImpl(), ["trace"],
                         f"larder {larder.__version__} (Trace) from {larder.__file__}"))
