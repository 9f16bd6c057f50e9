"""What h5py (plain libhdf5, no larder) sees in a file the crash writer left.

Serves the crash test: reads lines "SEQ<TAB>FILE<TAB>KEY<TAB>ROWS" on stdin,
where ROWS is the number of rows larder reported as committed, and answers
each with one line "SEQ ANSWER", ANSWER being:
  ok extent=E checked=N first=R zero=Z wrong=W full=F unreadable=U unreadable_full=UF
(the dataset's extent; rows compared among the first ROWS; the first bad row
or -1; how many rows read back all zeros, how many differ otherwise, how
many of those lie in full chunks, before the unfinished last block of 64
rows whose chunk larder rewrites on every append; how many rows h5py cannot
read at all, and how many of those lie in full chunks), or
  nofilter <id>          (h5py here cannot decode the dataset's filter)
  error <what h5py raised>
This is a report, not a verdict: larder's guarantee covers larder's reads.
"""
import os
import sys

import numpy as np

try:
    import hdf5plugin  # noqa: F401  (blosc, zstd and lz4 filters for h5py)
except ImportError:
    pass
import h5py

COLUMNS = 8
CHUNK_ROWS = 64
BATCH = 1 << 16


def check(path, key, rows):
    with h5py.File(path, "r") as f:
        x = f["x"]
        plist = x.id.get_create_plist()
        for i in range(plist.get_nfilters()):
            filter_id = plist.get_filter(i)[0]
            if not h5py.h5z.filter_avail(filter_id):
                return f"nofilter {filter_id}"
        extent = x.shape[0]
        n = min(extent, rows)
        counts = {"zero": 0, "wrong": 0, "full": 0, "unreadable": 0, "unreadable_full": 0}
        first = [-1]
        base = rows - rows % CHUNK_ROWS
        columns = np.arange(COLUMNS, dtype=np.int64)

        def compare(begin, end):
            got = x[begin:end]
            want = (np.arange(begin, end, dtype=np.int64)[:, None] * COLUMNS + columns) ^ np.int64(key)
            bad = (got != want).any(axis=1)
            if bad.any():
                zeros = (got == 0).all(axis=1) & bad
                counts["zero"] += int(zeros.sum())
                counts["wrong"] += int(bad.sum() - zeros.sum())
                counts["full"] += int(bad[: max(0, base - begin)].sum())
                if first[0] < 0:
                    first[0] = begin + int(np.argmax(bad))

        for begin in range(0, n, BATCH):
            end = min(n, begin + BATCH)
            try:
                compare(begin, end)
            except OSError:  # find the chunks h5py cannot read, check the rest
                for b in range(begin, end, CHUNK_ROWS):
                    e = min(end, b + CHUNK_ROWS)
                    try:
                        compare(b, e)
                    except OSError:
                        counts["unreadable"] += e - b
                        if b < base:
                            counts["unreadable_full"] += e - b
        fields = " ".join(f"{k}={v}" for k, v in counts.items())
        return f"ok extent={extent} checked={n} first={first[0]} {fields}"

def main():
    # Filter plugins print to stdout (HDF5's lz4 plugin does, on a bad
    # chunk): answers go to a private copy of stdout, and fd 1 to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for line in sys.stdin:
        try:
            seq, path, key, rows = line.rstrip("\n").split("\t")
        except ValueError:
            continue
        try:
            answer = check(path, int(key), int(rows))
        except Exception as e:  # noqa: BLE001  (reported, never fatal)
            answer = "error " + f"{type(e).__name__}: {e}"
        answers.write(seq + " " + " ".join(answer.split()) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
