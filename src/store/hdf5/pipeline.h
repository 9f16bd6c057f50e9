// Pipeline — an HDF5 dataset's filter pipeline as larder runs it itself:
// chunks are decoded and encoded by the codec layer, in parallel and outside
// the HDF5 lock, and the bytes are exactly what the standard filters write.
// A pipeline with a filter larder cannot run (fletcher32, szip, nbit, ...)
// is not `direct()`: its chunks go through libhdf5's own H5Dread/H5Dwrite.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "handle.h"
#include "larder/codec/codec.h"

namespace larder::store::hdf5 {

class Pipeline {
 public:
  // Reads the filters of a dataset creation property list.
  static Pipeline from_dcpl(hid_t dcpl, std::size_t item_size);
  // The pipeline larder writes for `codec` (none: no filter), after HDF5's
  // shuffle filter when `shuffle_first`.
  static Pipeline for_codec(const codec::CodecSpec& codec, std::size_t item_size,
                            bool shuffle_first = false);

  bool direct() const noexcept { return direct_; }
  bool empty() const noexcept { return steps_.empty(); }
  // Whether HDF5's shuffle filter comes first.
  bool shuffles_first() const;
  // The single larder codec this pipeline is, after the shuffle filter if
  // that comes first, if it is one.
  std::optional<codec::CodecSpec> codec() const;
  std::string description() const;

  // Decodes a stored chunk into `out` (exactly the chunk's bytes); filters
  // whose bit is set in `filter_mask` were skipped when it was written.
  void decode(std::span<const std::byte> stored, unsigned filter_mask,
              std::span<std::byte> out) const;
  std::vector<std::byte> encode(std::span<const std::byte> chunk) const;

  // Adds the filters to a dataset creation property list.
  void apply(hid_t dcpl, std::size_t chunk_bytes) const;

 private:
  struct Step {
    unsigned filter_id;
    std::string name;
    std::shared_ptr<const codec::Codec> codec;  // null for shuffle
  };
  std::vector<Step> steps_;
  std::size_t item_size_ = 1;
  bool direct_ = true;
  std::string unknown_;  // names of filters larder cannot run
};

}  // namespace larder::store::hdf5
