// The memory driver's internal entry points and its tree, shared by its
// source files. A store is a tree of GroupData and ArrayData held by its
// StoreContext; nothing touches the disk. Node objects (groups, datasets,
// attributes) point at their data directly and share ownership of the
// context. One shared_mutex per store guards the whole tree: reads take it
// shared, anything that changes the tree or its data takes it exclusively.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <variant>
#include <vector>

#include "larder/store/store.h"

namespace larder::store::memory {

// What groups and arrays both hold.
struct NodeData {
  std::map<std::string, AttributeValue, std::less<>> attrs;
  bool removed = false;  // removed from the store: its node objects stop working
};

struct ArrayData : NodeData {
  DType dtype = DType::float64();  // as created; the elements are held in native byte order
  Shape shape;
  std::vector<std::int64_t> chunks;  // as given, for copies into chunked formats
  bool extendable = false;
  std::vector<std::byte> fill;  // one element, native order (empty for vstring)
  nlohmann::json fill_value;    // as fill_value() reports it
  // The elements in C order: bytes for fixed-size dtypes, strings for vstring.
  std::vector<std::byte> bytes;
  std::vector<std::string> strings;
};

struct GroupData;
using Member = std::variant<std::shared_ptr<GroupData>, std::shared_ptr<ArrayData>>;

struct GroupData : NodeData {
  std::map<std::string, Member, std::less<>> members;  // name order
};

struct StoreContext {
  std::filesystem::path fs_path;  // the store's name; no file
  std::string name;               // fs_path as text, for messages
  OpenMode mode = OpenMode::truncate;
  mutable std::shared_mutex mutex;
  bool open = true;
  std::shared_ptr<GroupData> root = std::make_shared<GroupData>();

  // Error(invalid_argument) once the store is closed, Error(not_found) for
  // a node removed from it. The caller holds `mutex`.
  void check_usable(const NodeData& node, const std::string& node_path) const;
};

using Context = std::shared_ptr<StoreContext>;

std::unique_ptr<Store> open_store(const std::filesystem::path& path, OpenMode mode,
                                  const StoreOptions& options);

std::shared_ptr<Group> make_group(Context context, std::shared_ptr<GroupData> data,
                                  std::string path);
std::shared_ptr<Dataset> make_dataset(Context context, std::shared_ptr<ArrayData> data,
                                      std::string path);
// A new array for `options`; Error naming `path` for options it cannot hold.
std::shared_ptr<ArrayData> new_array(const StoreContext& context, const std::string& path,
                                     const DatasetOptions& options);
std::unique_ptr<Attributes> make_attributes(Context context, std::shared_ptr<NodeData> data,
                                            std::string path);

// Marks `member` and everything below it removed and lets go of its data.
void release(const Member& member);

}  // namespace larder::store::memory
