"""The built-in operations of a Trace (threshold, patches, patch_fft,
standardize) against numpy on the same data, Data's TIFF imports against
files tifffile writes, and the skip of a re-run."""

import numpy as np
import pytest

import larder

tifffile = pytest.importorskip("tifffile")


def volume(shape=(24, 20, 18), seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def test_threshold_patches_fft_standardize_match_numpy(tmp_path):
    v = volume()
    t = larder.Trace.create(tmp_path, seed=1)
    t.volume = v
    t.apply("threshold", inputs=["volume"], outputs=["solid"], params={"value": 0.4})
    np.testing.assert_array_equal(t.solid[...], (v > 0.4).astype(np.uint8))

    rec = t.apply(
        "patches",
        inputs=["solid"],
        outputs=["patches", "corners"],
        params={"shape": [4, 5, 6], "stride": [4, 5, 3], "min_fill": 0.6},
    )
    assert not rec.skipped
    solid = (v > 0.4).astype(np.uint8)
    want_patches, want_corners = [], []
    for z in range(0, 24 - 4 + 1, 4):
        for y in range(0, 20 - 5 + 1, 5):
            for x in range(0, 18 - 6 + 1, 3):
                p = solid[z : z + 4, y : y + 5, x : x + 6]
                if np.count_nonzero(p) > 0.6 * p.size:
                    want_patches.append(p)
                    want_corners.append((z, y, x))
    assert len(want_patches) > 0
    np.testing.assert_array_equal(t.corners[...], np.array(want_corners))
    np.testing.assert_array_equal(t.patches[...], np.array(want_patches))

    t.apply("patch_fft", inputs=["patches"], outputs=["spectra"])
    want_fft = np.abs(np.fft.fftn(np.array(want_patches, dtype=np.float64), axes=(1, 2, 3)))
    np.testing.assert_allclose(t.spectra[...], want_fft, rtol=1e-4, atol=1e-3)

    t.features = t.spectra[...].reshape(len(want_patches), -1)
    t.apply("standardize", inputs=["features"], outputs=["z"], params={"per_feature": True})
    f = want_fft.reshape(len(want_patches), -1)
    std = f.std(axis=0)
    std[std == 0] = 1
    np.testing.assert_allclose(t.z[...], (f - f.mean(axis=0)) / std, rtol=1e-3, atol=1e-3)


def test_a_rerun_skips_every_builtin_step(tmp_path):
    t = larder.Trace.create(tmp_path, seed=1)
    t.volume = volume(seed=2)
    steps = [
        ("threshold", ["volume"], ["solid"], {"value": 0.5}),
        ("patches", ["solid"], ["patches", "corners"], {"shape": 4}),
        ("patch_fft", ["patches"], ["spectra"], {}),
    ]
    assert not any(t.apply(n, inputs=i, outputs=o, params=p).skipped for n, i, o, p in steps)
    t.close()
    again = larder.Trace.link(t.folder)
    assert all(again.apply(n, inputs=i, outputs=o, params=p).skipped for n, i, o, p in steps)
    changed = again.apply("threshold", inputs=["volume"], outputs=["solid"], params={"value": 0.6})
    assert not changed.skipped


def test_bad_parameters_name_the_operation_and_key(tmp_path):
    t = larder.Trace.create(tmp_path)
    t.volume = volume()
    with pytest.raises(larder.InvalidArgumentError, match="patches.*'shape'"):
        t.apply("patches", inputs=["volume"], outputs=["p", "c"], params={"stride": 2})
    with pytest.raises(larder.InvalidArgumentError, match="threshold.*'level'"):
        t.apply("threshold", inputs=["volume"], outputs=["b"], params={"level": 1})
    with pytest.raises(larder.InvalidArgumentError, match="does not fit"):
        t.apply("patches", inputs=["volume"], outputs=["p", "c"], params={"shape": [99, 1, 1]})
    assert not t.exists("p") and not t.exists("b")


def test_data_imports_tiff_stacks_written_by_tifffile(tmp_path):
    stack = (np.arange(6 * 7 * 8) % 251).astype(np.uint16).reshape(6, 7, 8)
    tifffile.imwrite(tmp_path / "stack.tif", stack)
    slices = tmp_path / "slices"
    slices.mkdir()
    for z in range(6):
        tifffile.imwrite(slices / f"img_{z}.tiff", stack[z].astype(np.float32), compression="zlib")
    d = larder.Data.create(tmp_path)
    d.load_stack(tmp_path / "stack.tif", "multi")
    d.load_stack_from_folder(slices, "folder")
    np.testing.assert_array_equal(d["multi"][...], stack)
    np.testing.assert_array_equal(d["folder"][...], stack.astype(np.float32))
