#!/usr/bin/python3
"""numcodecs peer of larder-bench-codec (workload C1).

Same command line, same input, chunking and settings, same JSON lines on
stdout (one per repetition; warm-ups marked "warmup": true). Run it with
Debian's /usr/bin/python3, which has numcodecs 0.11.

Threads: numcodecs Blosc runs blosc's own threads inside each chunk when
called from the main thread, so blosc codecs get
numcodecs.blosc.set_nthreads(T) and a serial loop over chunks — the way zarr
drives them. The other codecs release the GIL, so with T > 1 they run over
the chunks on a pool of T Python threads. The record's "threading" field says
which.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numcodecs
import numpy as np
from numcodecs import blosc

# numcodecs Blosc shuffles by the itemsize of the array it is given.
DTYPE_OF_TYPESIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--codec", required=True)
    p.add_argument("--level", type=int, default=-1)
    p.add_argument("--shuffle", choices=["none", "byte", "bit"], default="byte")
    p.add_argument("--typesize", type=int, default=4)
    p.add_argument("--input", required=True)
    p.add_argument("--chunk-bytes", type=int, default=1 << 20)
    p.add_argument("--threads", type=int, default=0, help="0: every core")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    return p.parse_args()


def make_codec(args: argparse.Namespace) -> numcodecs.abc.Codec:
    """The numcodecs codec with the settings larder-bench-codec --impl direct uses."""
    if args.codec.startswith("blosc-"):
        shuffle = {"none": blosc.NOSHUFFLE, "byte": blosc.SHUFFLE, "bit": blosc.BITSHUFFLE}
        level = 5 if args.level < 0 else args.level
        return numcodecs.Blosc(cname=args.codec[len("blosc-"):], clevel=level,
                               shuffle=shuffle[args.shuffle], blocksize=0)
    if args.codec == "zstd":
        return numcodecs.Zstd(level=3 if args.level < 0 else args.level)
    if args.codec == "lz4":
        return numcodecs.LZ4(acceleration=1)
    if args.codec == "gzip":  # larder's gzip writes zlib (RFC 1950) bytes, like numcodecs Zlib
        return numcodecs.Zlib(level=6 if args.level < 0 else args.level)
    raise ValueError(f"numcodecs has no peer for codec {args.codec!r}")


def chunk_views(array: np.ndarray, chunk_items: int) -> list[np.ndarray]:
    return [array[i:i + chunk_items] for i in range(0, array.size, chunk_items)]


def main() -> int:
    args = parse_args()
    threads = args.threads or os.cpu_count() or 1
    line = {"impl": "numcodecs", "codec": args.codec, "level": args.level,
            "shuffle": args.shuffle if args.codec.startswith("blosc-") else "none",
            "typesize": args.typesize, "threads": threads, "chunk_bytes": args.chunk_bytes}
    try:
        return measure(args, threads, line)
    except Exception as e:  # reported as a failed record, not a traceback alone
        print(json.dumps({**line, "ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        print(f"numcodecs_codec.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def measure(args: argparse.Namespace, threads: int, line: dict) -> int:
    codec = make_codec(args)
    raw = np.fromfile(args.input, dtype=np.uint8)
    dtype = DTYPE_OF_TYPESIZE.get(args.typesize)
    if dtype is None or raw.size % args.typesize or args.chunk_bytes % args.typesize:
        raise ValueError("input size and chunk size must be multiples of --typesize 1, 2, 4 or 8")
    data = raw.view(dtype)
    input_crc = zlib.crc32(raw)
    decoded = np.zeros_like(data)
    chunk_items = args.chunk_bytes // args.typesize
    in_chunks = chunk_views(data, chunk_items)
    out_chunks = chunk_views(decoded, chunk_items)

    is_blosc = isinstance(codec, numcodecs.Blosc)
    pool = None
    if is_blosc:
        blosc.set_nthreads(threads)
        threading = f"blosc-internal x{threads}"
    elif threads > 1:
        pool = ThreadPoolExecutor(max_workers=threads)
        threading = f"chunk-pool x{threads}"
    else:
        threading = "serial"
    line.update(chunks=len(in_chunks), bytes=raw.size,
                library=f"numcodecs {numcodecs.__version__} {codec!r}", threading=threading)

    def each_chunk(function, *iterables):
        return list(pool.map(function, *iterables) if pool else map(function, *iterables))

    all_ok = True
    for r in range(-args.warmup, args.repeat):
        encoded = None  # free the previous repetition's chunks first
        start = time.perf_counter()
        encoded = each_chunk(codec.encode, in_chunks)
        encode_s = time.perf_counter() - start

        decoded.fill(0)  # so that a decode which writes nothing cannot pass
        start = time.perf_counter()
        each_chunk(lambda chunk, out: codec.decode(chunk, out=out), encoded, out_chunks)
        decode_s = time.perf_counter() - start

        crc = zlib.crc32(decoded)
        ok = crc == input_crc
        all_ok = all_ok and ok
        compressed = sum(len(chunk) for chunk in encoded)
        gb = raw.size / 1e9
        print(json.dumps({**line, "repeat": r, "warmup": r < 0,
                          "encode_s": encode_s, "decode_s": decode_s,
                          "encode_gbps": gb / encode_s, "decode_gbps": gb / decode_s,
                          "compressed_bytes": compressed,
                          "ratio": raw.size / compressed if compressed else 0.0,
                          "crc32": f"{crc:08x}", "ok": ok}), flush=True)
    if pool:
        pool.shutdown()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
