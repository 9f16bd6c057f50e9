// Operations on 3-D volumes that stream: each reads its input in slabs
// along axis 0 and writes its output as it goes, so memory stays within
// VolumeOptions::memory_bytes (plus one slab of patches) whatever the
// volume's size. They are the built-in operations of a Trace (threshold,
// patches, patch_fft, standardize), usable on any store's datasets.
//
// Outputs are made through a MakeOutput the caller gives (a Trace makes
// them as its variables). Inputs of any numeric dtype; work inside a slab
// runs on the thread pool. Each function uses its datasets from the
// calling thread only.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "larder/store/dataset.h"

namespace larder::trace {

// Makes an output dataset from the options the operation chose (dtype,
// shape, chunks; the codec comes from VolumeOptions).
using MakeOutput = std::function<std::shared_ptr<store::Dataset>(const store::DatasetOptions&)>;

struct VolumeOptions {
  std::int64_t memory_bytes = std::int64_t{256} << 20;  // slabs in RAM at once, about
  codec::CodecSpec codec{};                             // of the outputs
};

// out[i] = in[i] > value ? 1 : 0, as uint8, same shape and chunks.
void threshold(store::Dataset& in, const MakeOutput& out, double value,
               const VolumeOptions& options = {});

struct PatchOptions {
  std::array<std::int64_t, 3> shape{};   // (z, y, x) of a patch
  std::array<std::int64_t, 3> stride{};  // steps between patch corners; 0: the patch size
  // Keep a patch only when more than this fraction of its voxels is
  // non-zero (bmmltools' vol_frac_th on a binarized volume); none: keep all.
  std::optional<double> min_fill{};
};

struct PatchCount {
  std::int64_t kept = 0;
  std::int64_t examined = 0;
};

// The patches of a (Z, Y, X) volume on the stride grid, in (z, y, x)
// order: `patches` gets (n, pz, py, px) in the volume's dtype, `corners`
// (n, 3) int64 of each patch's first voxel.
PatchCount extract_patches(store::Dataset& in, const MakeOutput& patches, const MakeOutput& corners,
                           const PatchOptions& patch, const VolumeOptions& options = {});

// |FFT| of each patch of (n, pz, py, px) (or of each (n, ...) record of
// any rank up to 4 after n), as float32 of the same shape; unnormalized,
// zero frequency first, as numpy.abs(numpy.fft.fftn(patch)).
void patch_fft(store::Dataset& patches, const MakeOutput& out, const VolumeOptions& options = {});

// The statistics standardize used: one mean and deviation, or one per
// feature.
struct Standardization {
  std::vector<double> mean;
  std::vector<double> std;
};

// out = (in - mean) / std as float32 (float64 for float64 input), with the
// population standard deviation (numpy's default); a deviation of 0 counts
// as 1. per_feature: statistics over axis 0 for each element of a row (the
// columns of an (n, features) matrix); else over every element.
Standardization standardize(store::Dataset& in, const MakeOutput& out, bool per_feature,
                            const VolumeOptions& options = {});

}  // namespace larder::trace
