// The state behind a Collection, shared by collection.cpp (adding, reading,
// metadata) and rewrite.cpp (astype, onehot, argmax, shuffle, moves between
// memory and storage).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "larder/collection/collection.h"

namespace larder::collection {

inline constexpr const char* kKindAttribute = "larder.kind";
inline constexpr const char* kMetadataAttribute = "larder.collection";
// A swap under way: {"phase": p, "names": [...]}; see finish_swap().
inline constexpr const char* kSwapAttribute = "larder.swap";

// Rows of ragged records ready to extend() with: values plus the length (or
// shape) of each record; may view someone else's memory.
struct RecordRows {
  ArrayView values{nullptr, DType::uint8(), Shape{0}};
  std::vector<std::int64_t> lengths;
  std::vector<Shape> shapes;  // shaped records
  Array owned = Array::empty(DType::uint8(), Shape{0});

  std::int64_t size() const {
    return static_cast<std::int64_t>(shapes.empty() ? lengths.size() : shapes.size());
  }
  void extend_into(ragged::Ragged& target) const;
};

// Records [begin, end) of `records`, viewing their values.
RecordRows slice_records(const ragged::Records& records, std::int64_t begin, std::int64_t end);
// Records at `rows` of `records`, copied.
RecordRows gather_records(const ragged::Records& records, std::span<const std::int64_t> rows);

// Where the new version of variable `name` is written before the swap. Names
// starting with "larder." are larder's own (zarr refuses names with a
// leading '.').
inline constexpr std::string_view kSwapPrefix = "larder.next.";
inline std::string swap_name(const std::string& name) {
  return std::string(kSwapPrefix) + name;
}

struct Collection::Impl {
  std::shared_ptr<store::Group> root;
  std::string data_id;
  CollectionOptions options;
  std::unique_ptr<store::Store> memory;  // created by the first to_memory()
  // Whether the stored metadata says "compiled"; nullopt: not read yet.
  std::optional<bool> compiled;

  std::string file() const { return root->store_path().string(); }
  std::string where(const std::string& phase, const std::string& name = {}) const;

  // The collection's group in the backing store (or in memory); nullptr
  // when it does not exist and `create` is false.
  std::shared_ptr<store::Group> collection_group(bool create);
  std::shared_ptr<store::Group> memory_group(bool create);
  std::shared_ptr<store::Group> phase_group(const std::string& phase, bool create);
  std::shared_ptr<store::Group> memory_phase_group(const std::string& phase, bool create);

  // The variable, in memory when it was moved there; nullopt when missing.
  std::optional<Variable> find(const std::string& phase, const std::string& name);
  Variable require(const std::string& phase, const std::string& name);
  // The group that holds the variable (memory or backing).
  std::shared_ptr<store::Group> holder(const Variable& v);

  // New, empty variables shaped like `like`, at `path` of `group`.
  std::shared_ptr<store::Dataset> create_dense(store::Group& group, const std::string& path,
                                               const DType& dtype, const Shape& sample,
                                               std::optional<codec::CodecSpec> codec,
                                               std::vector<std::int64_t> chunks = {});
  std::shared_ptr<ragged::Ragged> create_ragged(store::Group& group, const std::string& path,
                                                const DType& dtype, const Shape& inner, bool shaped,
                                                std::optional<codec::CodecSpec> codec);

  // Something was added or removed: stored metadata no longer holds.
  void changed();

  // Writes the new version of each of `names` of `phase` through `write`
  // (given the variable and the group and name to write it at), then swaps
  // every one in, in a way a crash cannot tear (see collection.h).
  void rewrite(
      const std::string& phase, const std::vector<std::string>& names,
      const std::function<void(const Variable&, store::Group&, const std::string&)>& write);
  // Replaces each variable by its swap_name() version where one is there.
  void finish_swap();
  // Removes new versions a crash left before their swap began.
  void remove_stale_versions();
};

// Rows per block when streaming a variable: about `bytes` of them.
std::int64_t block_rows(const Variable& v, std::size_t bytes = std::size_t{16} << 20);

}  // namespace larder::collection
