// DataManager — a data directory loaded into a tree from a dantro load config.
//
// The manager owns the tree's root group (named after the data directory, or
// `name`). load_from_cfg() runs every entry of the config: glob the files
// under base_path (default: the data directory), place each at its target
// path, and load them (on the thread pool when the entry says `parallel`;
// nodes go into the tree in sorted file order either way, so the tree does
// not depend on timing; `parallel.min_total_size`: files smaller than that in
// total load serially). Every insertion of an entry is checked before the
// first is made, so a failing entry leaves the tree as it was (earlier
// entries stay); a failing file of an entry that is not `required` is skipped
// with a warning (warnings()). The data directory is kept absolute. One
// thread at a time per DataManager.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "larder/core/progress.h"
#include "larder/tree/load_config.h"
#include "larder/tree/loaders.h"
#include "larder/tree/node.h"
#include "larder/tree/print.h"

namespace larder::tree {

struct GroupSpec {
  std::string path;
  GroupClass cls = GroupClass::ordered;
};

// {"time_series": TimeSeriesGroup}: the group map a DataManager has unless told otherwise.
GroupMap default_group_map();

struct DataManagerOptions {
  std::string name{};  // "": the data directory's name
  Value load_cfg{};    // a mapping, or a string naming a YAML file; null: none
  // The output directory: relative paths are inside the data directory;
  // "{timestamp}" / "{timestamp:}" become the time of creation in
  // `timefstr` (strftime). nullopt: nothing is written (dantro's False).
  std::optional<std::string> out_dir = std::string("_output/{timestamp:}");
  std::string timefstr = "%y%m%d-%H%M%S";
  bool out_dir_exist_ok = false;
  std::vector<GroupSpec> create_groups{};
  // The group class for an attribute value under enable_mapping; both faces
  // (the CLI adds --group-map entries, Python's group_map= replaces it) start
  // from this one, so the same config builds the same tree.
  GroupMap group_map = default_group_map();
};

class DataManager {
 public:
  // Error(not_found) when data_dir is not a directory; creates out_dir.
  explicit DataManager(std::filesystem::path data_dir, DataManagerOptions options = {});

  // Loads every enabled entry of `load_cfg` (null: the one given at
  // construction), with `update` merged into it key by key.
  // `exists_action` applies to entries that name none.
  void load_from_cfg(const Value& load_cfg = {}, const Value& update = {},
                     ExistsAction exists_action = ExistsAction::raise,
                     Progress& progress = silent_progress());
  // Loads one entry (the mapping of its keys).
  void load(std::string_view entry_name, const Value& params,
            ExistsAction exists_action = ExistsAction::raise,
            Progress& progress = silent_progress());
  void load(const LoadEntry& entry, ExistsAction exists_action = ExistsAction::raise,
            Progress& progress = silent_progress());

  Group& root() noexcept { return *root_; }
  const Group& root() const noexcept { return *root_; }
  // The root, shared: for faces that hand out nodes which must keep it alive.
  std::shared_ptr<Group> shared_root() const noexcept { return root_; }
  Node& operator[](std::string_view path) { return root_->at(path); }
  bool contains(std::string_view path) const { return root_->contains(path); }

  std::string tree() const;
  std::string tree_condensed() const;

  const std::filesystem::path& data_dir() const noexcept { return data_dir_; }
  // Empty when nothing is written.
  const std::filesystem::path& out_dir() const noexcept { return out_dir_; }
  const std::string& name() const noexcept { return root_->name(); }
  const Value& load_cfg() const noexcept { return load_cfg_; }
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }

 private:
  std::filesystem::path data_dir_;
  std::filesystem::path out_dir_;
  DataManagerOptions options_;
  Value load_cfg_;
  std::string load_cfg_origin_;
  std::shared_ptr<Group> root_;
  std::vector<std::string> warnings_;
};

// The strftime text of now (local time) in `format`.
std::string timestamp_text(std::string_view format);

}  // namespace larder::tree
