"""C1 codec throughput: encode and decode GB/s of each codec on 256 MiB
(x SCALE) of smooth and of random float32 data, cut into independent 1 MiB
chunks.

Implementations, each on the same input file with the same settings,
chunking and threads:
  larder     larder-bench-codec --impl larder: make_codec + encode_chunks /
             decode_chunks (parallel over chunks on TBB)
  direct     larder-bench-codec --impl direct: the blosc / zstd / lz4 / zlib
             C libraries called directly, same parallel loop over chunks —
             the limit larder's codec layer should reach
  numcodecs  peers/numcodecs_codec.py: Debian's numcodecs (what zarr uses)

Every repetition checks that the decoded bytes are the input: each program
compares them to the input itself, and the runner compares the crc32 it
reports to the crc32 of the input file.
"""

from __future__ import annotations

import dataclasses
import math
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from harness import Case, Context, Info, Metric, Run, Workload, progress

BASE_BYTES = 256 << 20  # at SCALE=1
CHUNK_BYTES = 1 << 20
TYPESIZE = 4  # float32
SEED = 20240521
# Inputs are generated in blocks of this many values; the block size is part
# of the definition of the data (changing it changes the bytes).
GENERATOR_BLOCK = 1 << 22
# Bump when the generators change, so stale files are not reused.
GENERATOR_VERSION = 1

BINARY = "bench/larder-bench-codec"  # relative to the build folder
PEER = "peers/numcodecs_codec.py"  # relative to bench/


def smooth_blocks(n: int) -> Iterator[np.ndarray]:
    """Two sines plus a slow random walk: a smooth signal with noisy low bits,
    like a sensor trace or a simulation field."""
    rng = np.random.default_rng([SEED, 1])
    level = 0.0
    for start in range(0, n, GENERATOR_BLOCK):
        t = np.arange(start, min(n, start + GENERATOR_BLOCK), dtype=np.float64)
        walk = level + np.cumsum(rng.normal(0.0, 0.001, t.size))
        level = float(walk[-1])
        signal = (10.0 * np.sin(t * (2 * math.pi / 4096))
                  + 3.0 * np.sin(t * (2 * math.pi / 65536) + 1.0) + walk)
        yield signal.astype(np.float32)


def random_blocks(n: int) -> Iterator[np.ndarray]:
    """Uniform [0, 1): the worst case for a byte-oriented codec."""
    rng = np.random.default_rng([SEED, 2])
    for start in range(0, n, GENERATOR_BLOCK):
        yield rng.random(min(GENERATOR_BLOCK, n - start), dtype=np.float32)


DATASETS: dict[str, Callable[[int], Iterator[np.ndarray]]] = {
    "smooth": smooth_blocks,
    "random": random_blocks,
}


@dataclasses.dataclass(frozen=True)
class CodecConfig:
    """One codec with its settings, as larder names them."""

    codec: str
    level: int | None = None  # None: the codec's default
    shuffle: str | None = None  # blosc only: "none" | "byte" | "bit"
    numcodecs: bool = True  # whether numcodecs has this codec

    @property
    def label(self) -> str:
        parts = [self.codec]
        if self.level is not None:
            parts.append(str(self.level))
        if self.shuffle is not None:
            parts.append(self.shuffle)
        return ":".join(parts)

    def args(self) -> list[str]:
        args = ["--codec", self.codec]
        if self.level is not None:
            args += ["--level", str(self.level)]
        if self.shuffle is not None:
            args += ["--shuffle", self.shuffle]
        return args


CODECS = [
    CodecConfig("blosc-lz4", 5, "byte"),
    CodecConfig("blosc-zstd", 5, "byte"),
    CodecConfig("blosc-lz4", 5, "bit"),
    CodecConfig("zstd", 3),
    CodecConfig("zstd", 1),
    CodecConfig("lz4"),  # lz4's own default acceleration (1)
    CodecConfig("gzip", 6),  # ~25 MB/s per core: most of a full run's time
    CodecConfig("none", numcodecs=False),
]


def input_path(ctx: Context, dataset: str) -> Path:
    nbytes = value_count(ctx) * TYPESIZE
    return ctx.data / "codec" / f"{dataset}-f32-{nbytes}.v{GENERATOR_VERSION}.raw"


def value_count(ctx: Context) -> int:
    return max(1, round(BASE_BYTES * ctx.scale / TYPESIZE))


def generate(path: Path, blocks: Iterator[np.ndarray]) -> None:
    """Writes the blocks under a temporary name, then renames: a file with the
    final name is always complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            for block in blocks:
                block.tofile(f)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def file_crc32(path: Path) -> str:
    crc = 0
    with open(path, "rb") as f:
        while piece := f.read(16 << 20):
            crc = zlib.crc32(piece, crc)
    return f"{crc:08x}"


class CodecWorkload(Workload):
    id = "C1"
    name = "codec"
    title = "codec throughput (GB/s of decoded bytes; 1 MiB chunks; float32)"
    metrics = (Metric("encode_gbps", "encode GB/s"), Metric("decode_gbps", "decode GB/s"))
    infos = (Info("ratio", "ratio"),)

    def missing(self, ctx: Context) -> list[str]:
        binary = ctx.build / BINARY
        if binary.is_file():
            return []
        return [f"{binary} (build it: ninja -C {ctx.build} larder-bench-codec)"]

    def prepare(self, ctx: Context) -> None:
        n = value_count(ctx)
        for dataset, blocks in DATASETS.items():
            path = input_path(ctx, dataset)
            if path.is_file() and path.stat().st_size == n * TYPESIZE:
                continue
            progress(f"C1: generating {path} ({n * TYPESIZE / 1e6:.0f} MB)")
            generate(path, blocks(n))

    def cases(self, ctx: Context) -> list[Case]:
        binary = str(ctx.build / BINARY)
        peer = str(ctx.repo / "bench" / PEER)
        cases = []
        for dataset in DATASETS:
            path = input_path(ctx, dataset)
            expect = {"crc32": file_crc32(path), "bytes": path.stat().st_size}
            for config in CODECS:
                for threads in ctx.threads:
                    common = [*config.args(), "--typesize", str(TYPESIZE), "--input", str(path),
                              "--chunk-bytes", str(CHUNK_BYTES), "--threads", str(threads),
                              "--repeat", str(ctx.repeat), "--warmup", str(ctx.warmup)]
                    runs = [
                        Run("larder", [binary, "--impl", "larder", *common], subject=True),
                        Run("direct", [binary, "--impl", "direct", *common]),
                    ]
                    if config.numcodecs:
                        runs.append(Run("numcodecs", [ctx.python, peer, *common]))
                    key = {"data": dataset, "codec": config.label, "threads": str(threads)}
                    cases.append(Case(key=key, runs=runs, expect=expect))
        return cases
