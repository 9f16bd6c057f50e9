// The formats a Ragged opens, each behind the Ragged interface: larder's own
// group of values + offsets (+ shapes), memmpy's jagged and shaped arrays
// (the same scheme under other names) and HDF5 variable-length datasets.
#pragma once

#include <memory>
#include <string_view>

#include "larder/ragged/ragged.h"

namespace larder::ragged {

constexpr const char* kKindAttribute = "larder.kind";
constexpr const char* kLayoutAttribute = "larder.ragged";  // "jagged" or "shaped"

std::unique_ptr<Ragged> create_stored(store::Group& parent, std::string_view path,
                                      const RaggedOptions& options, const ReadOptions& read);
// A group holding larder's ragged layout.
std::unique_ptr<Ragged> open_stored(std::shared_ptr<store::Group> group, const ReadOptions& read);
// memmpy's `name` with `name:index` (and `name:shape`, `name:shape:index`
// for shaped records), found beside `values` in `parent`.
std::unique_ptr<Ragged> open_memmpy(store::Group& parent, std::string_view path,
                                    std::shared_ptr<store::Dataset> values,
                                    const ReadOptions& read);
// A dataset of HDF5 variable-length sequences.
std::unique_ptr<Ragged> open_sequences(std::shared_ptr<store::Dataset> dataset);

}  // namespace larder::ragged
