"""Codecs: round trips, bad input, and the bytes the real tools read and write.

Interop runs against the peers users already have: numcodecs (zarr's codecs)
and HDF5 through h5py with hdf5plugin's filters, using direct chunk I/O so
that HDF5 itself decodes larder's chunks and larder decodes HDF5's.
"""

import json

import h5py
import hdf5plugin  # noqa: F401 - registers the blosc/zstd/lz4 HDF5 filters
import numcodecs
import numpy as np
import pytest

import larder

ALL_IDS = ["bitshuffle", "blosc-blosclz", "blosc-lz4", "blosc-lz4hc", "blosc-zstd", "blosc-zlib", "gzip", "lz4", "lzf",
           "none", "zstd"]


def smooth(n=100_000, dtype="<f4"):
    t = np.arange(n)
    return (20 + 5 * np.sin(t * 1e-3) + np.random.default_rng(0).normal(0, 0.01, n)).astype(dtype)


def codec_variants():
    """(id, kwargs) for every codec and every shuffle of blosc."""
    out = []
    for cid in ALL_IDS:
        if cid.startswith("blosc"):
            out += [(cid, {"shuffle": s, "typesize": 4}) for s in ("none", "byte", "bit")]
        else:
            out.append((cid, {}))
    return out


VARIANTS = codec_variants()
VARIANT_IDS = [f"{c}-{k.get('shuffle', '')}" for c, k in VARIANTS]


def test_the_registry_lists_every_codec():
    listed = {c["id"]: c for c in larder.codecs()}
    assert sorted(listed) == sorted(ALL_IDS)
    assert listed["blosc-lz4"]["hdf5_filter"] == 32001
    assert listed["zstd"]["hdf5_filter"] == 32015
    assert listed["lz4"]["hdf5_filter"] == 32004
    assert listed["gzip"]["hdf5_filter"] == 1
    assert listed["blosc-zstd"]["numcodecs"] == "blosc"


@pytest.mark.parametrize("cid, kwargs", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("kind", ["smooth", "random", "constant", "empty", "odd"])
def test_round_trip(cid, kwargs, kind):
    data = {
        "smooth": smooth(),
        "random": np.random.default_rng(1).random(50_000, dtype=np.float32),
        "constant": np.full(30_000, 3.5, dtype=np.float32),
        "empty": np.zeros(0, dtype=np.float32),
        "odd": np.frombuffer(np.random.default_rng(2).bytes(1_000_003), dtype=np.uint8),
    }[kind]
    codec = larder.Codec(cid, **kwargs)
    encoded = codec.encode(data)
    assert isinstance(encoded, bytes)
    back = codec.decode(encoded, size=data.nbytes, dtype=data.dtype)
    np.testing.assert_array_equal(back, data)


def test_decode_shapes_the_result_and_compresses_smooth_data():
    data = smooth().reshape(100, 1000)
    codec = larder.Codec("blosc-zstd", level=5, typesize=4)
    encoded = codec.encode(data)
    assert len(encoded) < 0.7 * data.nbytes
    back = codec.decode(encoded, dtype="<f4", shape=(100, 1000))
    assert back.shape == (100, 1000)
    np.testing.assert_array_equal(back, data)
    # blosc records its decoded size: no size needed.
    assert codec.decode(encoded).nbytes == data.nbytes


@pytest.mark.parametrize("cid", ALL_IDS)
def test_spec_round_trips_through_json_and_text(cid):
    codec = larder.Codec(cid, typesize=4)
    again = larder.Codec.from_spec(json.dumps(codec.spec))
    assert again.spec == codec.spec
    assert larder.Codec.from_spec(codec.spec).spec == codec.spec


def test_short_text_specs():
    assert larder.Codec.from_spec("zstd:7").spec["level"] == 7
    c = larder.Codec.from_spec("blosc-lz4:3:bit")
    assert c.spec["level"] == 3 and c.spec["shuffle"] == "bit"


@pytest.mark.parametrize("cid", [c for c in ALL_IDS if c != "none"])
def test_corrupt_and_truncated_chunks_raise_corrupt_error(cid):
    data = smooth(20_000)
    codec = larder.Codec(cid, typesize=4)
    encoded = codec.encode(data)
    for cut in (0, 1, 5, len(encoded) // 2, len(encoded) - 1):
        with pytest.raises(larder.CorruptError):
            codec.decode(encoded[:cut], size=data.nbytes)
    # A chunk that decodes to more than expected is corrupt too.
    with pytest.raises(larder.CorruptError):
        codec.decode(encoded, size=data.nbytes - 4)
    # Random damage never crashes; it either decodes to the right length or raises.
    rng = np.random.default_rng(3)
    for _ in range(200):
        damaged = bytearray(encoded)
        for pos in rng.integers(0, len(damaged), size=3):
            damaged[pos] ^= 1 << int(rng.integers(0, 8))
        try:
            out = codec.decode(bytes(damaged), size=data.nbytes)
            assert out.nbytes == data.nbytes
        except larder.CorruptError:
            pass


def test_bad_settings_name_the_value():
    with pytest.raises(larder.InvalidArgumentError, match="99"):
        larder.Codec("zstd", level=99)
    with pytest.raises(larder.InvalidArgumentError, match="12"):
        larder.Codec("blosc-lz4", level=12)
    with pytest.raises(larder.NotFoundError, match="snappy2"):
        larder.Codec("snappy2")


# --- numcodecs (zarr) interop -------------------------------------------------

NUMCODECS_CASES = [
    ("blosc-lz4", {"shuffle": "byte", "level": 5}),
    ("blosc-zstd", {"shuffle": "bit", "level": 3}),
    ("blosc-lz4hc", {"shuffle": "none", "level": 9}),
    ("blosc-zlib", {"shuffle": "byte", "level": 1}),
    ("zstd", {"level": 3}),
    ("lz4", {"format": "numcodecs"}),
    ("gzip", {"level": 6}),
    ("gzip", {"level": 6, "format": "gzip"}),
]


@pytest.mark.parametrize("cid, kwargs", NUMCODECS_CASES)
def test_numcodecs_reads_larder_chunks_and_larder_reads_numcodecs_chunks(cid, kwargs):
    data = smooth()
    codec = larder.Codec(cid, typesize=4, **kwargs)
    config = codec.numcodecs_config()
    peer = numcodecs.get_codec(config)
    np.testing.assert_array_equal(np.frombuffer(peer.decode(codec.encode(data)), "<f4"), data)
    from_peer = peer.encode(data)
    mirror = larder.Codec.from_numcodecs(config, typesize=4)
    np.testing.assert_array_equal(mirror.decode(from_peer, size=data.nbytes, dtype="<f4"), data)


def test_numcodecs_blosc_autoshuffle_maps_like_numcodecs_does():
    assert larder.Codec.from_numcodecs(
        {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": -1}, typesize=1).spec["shuffle"] == "bit"
    assert larder.Codec.from_numcodecs(
        {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": -1}, typesize=4).spec["shuffle"] == "byte"
    assert larder.Codec.from_numcodecs(None).id == "none"


# --- HDF5 interop, through h5py's direct chunk I/O ---------------------------

HDF5_CASES = [
    ("blosc-lz4", {"shuffle": "byte", "level": 5}),
    ("blosc-zstd", {"shuffle": "bit", "level": 5}),
    ("blosc-zlib", {"shuffle": "none", "level": 4}),
    ("zstd", {"level": 3}),
    ("lz4", {}),
    ("gzip", {"level": 4}),
]


@pytest.mark.parametrize("cid, kwargs", HDF5_CASES)
def test_hdf5_filters_read_larder_chunks_and_larder_reads_theirs(tmp_path, cid, kwargs):
    rows, cols = 64, 1000
    data = smooth(rows * cols).reshape(rows, cols)
    codec = larder.Codec(cid, typesize=4, **kwargs)
    filter_id, name, cd_values = codec.hdf5_filter(chunk_bytes=data.nbytes)
    if not h5py.h5z.filter_avail(filter_id):
        pytest.skip(f"this machine's HDF5 has no plugin for filter {filter_id} ({name}); "
                    "Debian ships none for zstd")
    # h5py takes deflate by name: a bare 1 would read as a legacy gzip level.
    options = ({"compression": "gzip", "compression_opts": cd_values[0]} if filter_id == 1
               else {"compression": filter_id, "compression_opts": tuple(cd_values)})
    path = tmp_path / "interop.h5"
    with h5py.File(path, "w") as f:
        ours = f.create_dataset("ours", shape=data.shape, dtype="<f4", chunks=data.shape, **options)
        ours.id.write_direct_chunk((0, 0), codec.encode(data))
        f.create_dataset("theirs", data=data, chunks=data.shape, **options)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["ours"][...], data)  # HDF5's filter decodes larder's bytes
        filter_mask, chunk = f["theirs"].id.read_direct_chunk((0, 0))
        assert filter_mask == 0
        dcpl = f["theirs"].id.get_create_plist()
        fid, _, stored_cd, _ = dcpl.get_filter(0)
        mirror = larder.Codec.from_hdf5(fid, list(stored_cd))
        np.testing.assert_array_equal(mirror.decode(chunk, size=data.nbytes, dtype="<f4").reshape(data.shape), data)


def test_formats_without_an_hdf5_filter_say_so():
    with pytest.raises(larder.UnsupportedError):
        larder.Codec("gzip", format="gzip").hdf5_filter()
    with pytest.raises(larder.UnsupportedError):
        larder.Codec("lz4", format="numcodecs").hdf5_filter()


def test_hashes_match_the_cpp_side_and_see_every_byte():
    data = smooth(1000)
    h = larder.xxh3_64(data)
    assert isinstance(h, int) and h == larder.xxh3_64(data.tobytes())
    changed = data.copy()
    changed[500] += 1
    assert larder.xxh3_64(changed) != h
    assert len(larder.xxh3_128(data)) == 32
