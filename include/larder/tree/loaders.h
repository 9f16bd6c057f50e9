// Loaders: the functions that turn one file into a tree node, in a registry
// keyed by dantro's loader names.
//
// Built in: hdf5 (the file's groups, datasets and attributes; datasets read
// while loading), hdf5_proxy (the same, datasets read on first access),
// yaml/yml (MappingLeaf), yaml_to_object/yml_to_object (ObjectLeaf), json,
// text/plain_text (StringLeaf), numpy_binary (npy -> ArrayLeaf, npz -> group
// of ArrayLeaf), csv (group of column ArrayLeaf), fspath (PathLeaf). Loaders
// run on the thread pool: a LoadFunction must be safe to call from several
// threads at once. The registry is guarded by a lock; add() may be called at
// any time.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "larder/tree/node.h"

namespace larder::tree {

// Attribute value (of map_from_attr) -> group class, for enable_mapping.
using GroupMap = std::map<std::string, GroupClass, std::less<>>;

struct LoadRequest {
  std::filesystem::path file;  // the file to read
  std::string name;            // the name the returned node gets
  const Value& options;        // the entry's loader options (a mapping)
  const GroupMap& group_map;
};

using LoadFunction = std::function<std::shared_ptr<Node>(const LoadRequest&)>;

struct LoaderSpec {
  LoadFunction load;
  // Keys of the load config the loader takes; "*" takes any.
  std::vector<std::string> options{};
};

class LoaderRegistry {
 public:
  // The process-wide registry, with the built-in loaders.
  static LoaderRegistry& global();

  // Adds or replaces the loader `name`.
  void add(const std::string& name, LoaderSpec spec);
  // The loader `name`; Error(not_found) listing the registered names.
  std::shared_ptr<const LoaderSpec> get(std::string_view name) const;
  bool contains(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const LoaderSpec>, std::less<>> loaders_;
};

// The hdf5 loader's work: the group tree of `request.file`; datasets become
// ArrayLeaf, eager or lazy. Options: enable_mapping, map_from_attr,
// lower_case_keys.
std::shared_ptr<Node> load_hdf5(const LoadRequest& request, bool lazy);

}  // namespace larder::tree
