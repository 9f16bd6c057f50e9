"""W6 peer: evaluate the W6 cut over four float32 columns, mask and count,
for one implementation, one JSON line per repetition.

    --impl larder-mmap       larder.evaluate on an mmap store (PYTHONPATH: build/python)
    --impl larder-hdf5       ... on HDF5, uncompressed, chunks of 1M rows
    --impl larder-hdf5-lz4   ... on HDF5, blosc-lz4 level 5 with byte shuffle
    --impl numpy             numpy on np.memmap of the raw columns
    --impl numexpr           numexpr.evaluate, 2 threads, on np.memmap
    --impl pandas            pandas.eval on a DataFrame of the columns (in memory)

The stores are written once, before timing, and kept for the next runs.
Each repetition produces the boolean mask and its count; the count is the
check. Run with Debian's /usr/bin/python3.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

EXPRESSION = "(a > 0.5) & ((b < 0.2) | (c*c + d*d < 1.0))"
IMPLS = ("larder-mmap", "larder-hdf5", "larder-hdf5-lz4", "numpy", "numexpr", "pandas")


def columns(base: str, rows: int) -> dict[str, np.ndarray]:
    return {k: np.memmap(f"{base}.{k}.raw", dtype="<f4", mode="r", shape=(rows,)) for k in "abcd"}


def larder_store(impl: str, path: str, cols: dict[str, np.ndarray]):
    import larder
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        root, suffix = os.path.splitext(path)
        tmp = root + ".tmp" + suffix  # the suffix names the driver
        with larder.open(tmp, "w") as s:
            for name, values in cols.items():
                chunk = min(len(values), 1 << 20)
                if impl == "larder-hdf5-lz4":
                    s.create_array(name, data=values, chunks=(chunk,), codec="blosc-lz4", level=5)
                elif impl == "larder-hdf5":
                    s.create_array(name, data=values, chunks=(chunk,))
                else:
                    s.create_array(name, data=values)
        os.rename(tmp, path)
    return larder.open(path, "r")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--impl", choices=IMPLS, required=True)
    p.add_argument("--columns", required=True, help="base path of the raw <base>.<a-d>.raw files")
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--store", default="")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()
    cols = columns(a.columns, a.rows)

    if a.impl.startswith("larder"):
        import larder
        store = larder_store(a.impl, a.store, cols)
        # Held open, as numpy holds its memmaps: an mmap store keeps an
        # array's mapping while a handle to it lives, so evaluations do not
        # fault the file's pages in afresh each time.
        handles = [store[k] for k in "abcd"]  # noqa: F841

        def run():
            mask = larder.evaluate(store, EXPRESSION)
            return mask, int(np.count_nonzero(mask))
    elif a.impl == "numpy":
        def run():
            x, y, z, w = cols["a"], cols["b"], cols["c"], cols["d"]
            mask = (x > 0.5) & ((y < 0.2) | (z * z + w * w < 1.0))
            return mask, int(np.count_nonzero(mask))
    elif a.impl == "numexpr":
        import numexpr
        numexpr.set_num_threads(2)

        def run():
            mask = numexpr.evaluate(EXPRESSION, local_dict=cols)
            return mask, int(np.count_nonzero(mask))
    else:
        try:
            import pandas
        except ImportError:
            print(json.dumps({"impl": a.impl, "skip": "pandas is not installed"}), flush=True)
            return 0
        frame = pandas.DataFrame({k: np.asarray(v) for k, v in cols.items()})

        def run():
            mask = frame.eval(EXPRESSION).to_numpy()
            return mask, int(np.count_nonzero(mask))

    for r in range(-a.warmup, a.repeat):
        start = time.perf_counter()
        mask, count = run()
        seconds = time.perf_counter() - start
        del mask
        print(json.dumps({"impl": a.impl, "repeat": r, "warmup": r < 0, "ok": True,
                          "rows": a.rows, "count": count, "mrps": a.rows / seconds / 1e6}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
