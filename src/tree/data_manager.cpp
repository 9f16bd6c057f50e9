#include "larder/tree/data_manager.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <ctime>
#include <exception>
#include <map>
#include <optional>

#include "../store/file_io.h"
#include "larder/core/error.h"
#include "larder/core/parallel.h"
#include "larder/store/element_json.h"
#include "larder/tree/glob.h"
#include "larder/tree/pspace.h"
#include "larder/tree/target_path.h"

namespace larder::tree {
namespace fs = std::filesystem;
namespace {

// Where one file goes: the group path and the member name (or, with
// load_as_attr, the node path and the attribute name).
struct Target {
  std::string relpath;
  std::string parent;
  std::string name;
};

// Resolves ".." inside a target so that it never climbs above the root;
// returns the normalized "/"-joined path.
std::string confined(const std::string& target, const LoadEntry& entry, const std::string& file) {
  std::vector<std::string> kept;
  for (auto& segment : split_tree_path(target)) {
    if (segment == "..") {
      if (kept.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("load config entry '{}': target path '{}' of '{}' leaves the "
                                "tree's root",
                                entry.name, target, file));
      }
      kept.pop_back();
      continue;
    }
    kept.push_back(std::move(segment));
  }
  std::string out;
  for (const auto& segment : kept)
    out += (out.empty() ? "" : "/") + segment;
  return out;
}

Value value_of(const Node& node, const std::string& file) {
  if (const auto* leaf = dynamic_cast<const ObjectLeaf*>(&node)) return leaf->value();
  if (const auto* leaf = dynamic_cast<const MappingLeaf*>(&node)) return leaf->value();
  if (const auto* leaf = dynamic_cast<const StringLeaf*>(&node)) return leaf->text();
  if (const auto* leaf = dynamic_cast<const PathLeaf*>(&node)) return leaf->fs_path().string();
  if (const auto* leaf = dynamic_cast<const ArrayLeaf*>(&node))
    return Value(store::array_to_json(leaf->data()));
  throw Error(ErrorCode::unsupported,
              fmt::format("a {} cannot become an attribute (load_as_attr)", node.class_name()),
              file);
}

bool warns(ExistsAction action) {
  return action == ExistsAction::skip || action == ExistsAction::overwrite;
}

// Fails (throws) where inserting the loaded files of `entry` would, before
// anything is inserted: a leaf in the way of a group, a name the group does
// not take (a ParamSpaceGroup's members are numbers), a node or attribute that
// exists under exists_action raise, a missing node for load_as_attr.
void check_insertions(const Group& root, const LoadEntry& entry, ExistsAction action,
                      const std::vector<std::string>& files, const std::vector<Target>& targets,
                      const std::vector<bool>& kept,
                      const std::vector<std::shared_ptr<Node>>& loaded,
                      const std::vector<Value>& values) {
  // What the entry will create or replace, by path: true for a group.
  std::map<std::string, bool> planned;
  const auto fail = [&](const std::string& file, const std::string& why,
                        ErrorCode code = ErrorCode::invalid_argument) {
    throw Error(code, fmt::format("load config entry '{}': {} (for '{}')", entry.name, why, file));
  };
  // Group::check_member_name, its message naming the entry and the file.
  const auto check_name = [&](const Group& group, const std::string& name,
                              std::optional<GroupClass> cls, const std::string& file) {
    try {
      group.check_member_name(name, cls);
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("load config entry '{}': {} (for '{}')", entry.name,
                                        e.message(), file));
    }
  };
  // The existing node at `path`, nullptr when missing.
  const auto existing = [&](const std::string& path) -> const Node* {
    if (path.empty()) return &root;
    return root.contains(path) ? &root.at(path) : nullptr;
  };
  // As require_group(path, cls) would: fails where it would throw.
  const auto plan_group = [&](const std::string& path, const std::string& file) {
    const Group* group = &root;  // nullptr below the first missing group
    std::string at;
    const auto segments = split_tree_path(path);
    for (std::size_t k = 0; k < segments.size(); ++k) {
      const std::string& segment = segments[k];
      at += (at.empty() ? "" : "/") + segment;
      if (const auto it = planned.find(at); it != planned.end() && !it->second) {
        fail(file,
             fmt::format("cannot create group '{}': a file of this entry goes to '{}'", path, at),
             ErrorCode::type_mismatch);
      }
      if (group != nullptr && group->contains(segment)) {
        const Node& node = group->at(segment);
        if (!node.is_group()) {
          fail(file,
               fmt::format("cannot create group '{}': '{}' is a {}", path, node.path(),
                           node.class_name()),
               ErrorCode::type_mismatch);
        }
        group = static_cast<const Group*>(&node);
        continue;
      }
      if (group != nullptr) {
        check_name(*group, segment, std::nullopt, file);
        group = nullptr;
      }
      planned.emplace(at, true);  // a new group is empty: any name fits it
    }
  };

  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!kept[i]) continue;
    const Target& t = targets[i];
    const std::string& file = files[i];
    const bool skips = action == ExistsAction::skip || action == ExistsAction::skip_nowarn;
    if (entry.load_as_attr) {
      const bool pspace = is_param_space(values[i]);
      const Node* node = existing(t.parent);
      if (node == nullptr && !planned.contains(t.parent)) {
        if (!pspace) {
          throw Error(ErrorCode::not_found,
                      fmt::format("load config entry '{}': no node '{}' to hold attribute '{}' "
                                  "(load_as_attr) of '{}'",
                                  entry.name, t.parent, t.name, file));
        }
        plan_group(t.parent, file);
        continue;
      }
      if (node == nullptr) continue;  // planned: a new group has no attributes
      if (pspace && node->is_group()) {
        const auto& group = static_cast<const Group&>(*node);
        if (group.group_class() == GroupClass::ordered && group.parent() != nullptr) {
          for (const auto& member : group.members())
            check_name(group, member->name(), GroupClass::param_space, file);
        }
      }
      if (node->attrs().contains(t.name) && action == ExistsAction::raise) {
        fail(file, fmt::format("'{}' has attribute '{}' already", node->path(), t.name));
      }
      continue;
    }
    plan_group(t.parent, file);
    const std::string full = t.parent.empty() ? t.name : t.parent + "/" + t.name;
    const auto it = planned.find(full);
    const Node* there = existing(full);
    if ((there != nullptr || it != planned.end()) && action == ExistsAction::raise) {
      fail(file, fmt::format("'{}' already exists in the tree (exists_action: raise)", full));
    }
    if ((there != nullptr || it != planned.end()) && skips) continue;
    const Node* parent = existing(t.parent);
    if (parent != nullptr && parent->is_group())
      check_name(static_cast<const Group&>(*parent), loaded[i]->name(), std::nullopt, file);
    planned[full] = false;
  }
}

}  // namespace

GroupMap default_group_map() {
  return {{"time_series", GroupClass::time_series}};
}

std::string timestamp_text(std::string_view format) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[256];
  const std::size_t n = std::strftime(buffer, sizeof buffer, std::string(format).c_str(), &local);
  if (n == 0 && !format.empty()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("time format '{}' gives no text (or more than 255 characters)", format));
  }
  return {buffer, n};
}

DataManager::DataManager(fs::path data_dir, DataManagerOptions options)
    : data_dir_(std::move(data_dir)), options_(std::move(options)) {
  std::error_code ec;
  if (!fs::is_directory(data_dir_, ec)) {
    throw Error(ErrorCode::not_found, "the data directory does not exist or is not a directory",
                data_dir_.string());
  }
  // Absolute, so lazy leaves and filepath attributes survive a change of
  // the working directory.
  data_dir_ = fs::absolute(data_dir_).lexically_normal();
  if (!data_dir_.has_filename() && data_dir_.has_relative_path())
    data_dir_ = data_dir_.parent_path();
  std::string name = options_.name;
  if (name.empty()) name = data_dir_.filename().string();
  if (name.empty()) name = "data";
  root_ = std::make_shared<Group>(name, GroupClass::ordered);

  if (options_.load_cfg.is_string()) {
    load_cfg_origin_ = options_.load_cfg.get<std::string>();
    load_cfg_ = read_yaml(load_cfg_origin_);
  } else {
    load_cfg_ = options_.load_cfg;
    load_cfg_origin_ = "load_cfg";
  }
  // Check the config before anything is created.
  parse_load_config(load_cfg_, load_cfg_origin_);

  for (const auto& spec : options_.create_groups)
    root_->require_group(spec.path, spec.cls);

  if (options_.out_dir) {
    TargetFields fields;
    fields.names["timestamp"] = timestamp_text(options_.timefstr);
    fs::path out = format_target(*options_.out_dir, fields);
    if (out.is_relative()) out = data_dir_ / out;
    if (fs::exists(out, ec) && !options_.out_dir_exist_ok) {
      throw Error(ErrorCode::invalid_argument,
                  "the output directory exists already (set exist_ok to use it)", out.string());
    }
    store::make_directories(out, "the output directory");
    out_dir_ = std::move(out);
  }
}

void DataManager::load_from_cfg(const Value& load_cfg, const Value& update,
                                ExistsAction exists_action, Progress& progress) {
  Value config = load_cfg.is_null() ? load_cfg_ : load_cfg;
  std::string origin = load_cfg.is_null() ? load_cfg_origin_ : "load_cfg";
  if (config.is_string()) {
    origin = config.get<std::string>();
    config = read_yaml(origin);
  }
  if (!update.is_null()) {
    if (!update.is_object() || (!config.is_object() && !config.is_null())) {
      throw Error(ErrorCode::invalid_argument, "update_load_cfg must be a mapping of entries");
    }
    if (config.is_null()) config = Value::object();
    for (const auto& item : update.items()) {
      Value& target = config[item.key()];
      if (target.is_object() && item.value().is_object()) {
        for (const auto& kv : item.value().items())
          target[kv.key()] = kv.value();
      } else {
        target = item.value();
      }
    }
  }
  // Every entry is checked before the first loads.
  for (const auto& entry : parse_load_config(config, origin))
    load(entry, exists_action, progress);
}

void DataManager::load(std::string_view entry_name, const Value& params, ExistsAction exists_action,
                       Progress& progress) {
  load(parse_load_entry(entry_name, params, "load"), exists_action, progress);
}

void DataManager::load(const LoadEntry& entry, ExistsAction default_action, Progress& progress) {
  if (!entry.enabled) return;
  const ExistsAction action = entry.exists_action.value_or(default_action);
  fs::path base = entry.base_path ? fs::path(*entry.base_path) : data_dir_;
  if (base.is_relative() && entry.base_path) base = data_dir_ / base;

  const auto files = glob_files(base, entry.glob_str,
                                {.include_files = entry.include_files,
                                 .include_directories = entry.include_directories,
                                 .ignore = entry.ignore});
  if (files.empty()) {
    const std::string message =
        fmt::format("load config entry '{}': no files match {} in '{}'", entry.name,
                    fmt::join(entry.glob_str, ", "), base.string());
    if (entry.required) throw Error(ErrorCode::not_found, message);
    warnings_.push_back(message);
    return;
  }

  std::optional<PathRegex> regex;
  if (entry.path_regex) regex.emplace(*entry.path_regex);
  const std::string format = entry.target_format();
  std::vector<Target> targets;
  std::map<std::string, std::size_t> seen;
  for (const auto& rel : files) {
    const TargetFields fields = target_fields(rel, regex ? &*regex : nullptr);
    if (regex && !fields.matched) {
      warnings_.push_back(
          fmt::format("load config entry '{}': path_regex '{}' does not match "
                      "'{}'; using its basename",
                      entry.name, regex->pattern(), rel));
    }
    const std::string target = confined(format_target(format, fields), entry, rel);
    Target t{rel, "", entry.name};
    if (entry.load_as_attr) {
      t.parent = target;
    } else {
      if (target.empty()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("load config entry '{}': target path '{}' of '{}' names the "
                                "root",
                                entry.name, format, rel));
      }
      const auto slash = target.rfind('/');
      t.parent = slash == std::string::npos ? "" : target.substr(0, slash);
      t.name = slash == std::string::npos ? target : target.substr(slash + 1);
    }
    const std::string key = t.parent + "\n" + t.name;
    if (const auto it = seen.find(key); it != seen.end() && action == ExistsAction::raise) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("load config entry '{}': '{}' and '{}' both go to '{}/{}'",
                              entry.name, targets[it->second].relpath, rel, t.parent, t.name));
    }
    seen[key] = targets.size();
    // With exists_action raise, a conflict stops the entry before anything loads.
    if (action == ExistsAction::raise && !entry.load_as_attr) {
      const std::string full = t.parent.empty() ? t.name : t.parent + "/" + t.name;
      if (root_->contains(full)) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("load config entry '{}': '{}' already exists in the tree (for "
                                "'{}'; exists_action: raise)",
                                entry.name, full, rel));
      }
    }
    targets.push_back(std::move(t));
  }

  const auto spec = LoaderRegistry::global().get(entry.loader);
  const GroupMap& group_map = options_.group_map;
  std::vector<std::shared_ptr<Node>> loaded(files.size());
  std::vector<std::optional<Error>> failures(files.size());
  ProgressScope scope(progress, entry.name, static_cast<std::int64_t>(files.size()));
  const auto load_one = [&](std::size_t i) {
    const fs::path file = base / files[i];
    try {
      loaded[i] = spec->load(LoadRequest{file, targets[i].name, entry.loader_options, group_map});
      if (!loaded[i]) throw Error(ErrorCode::invalid_argument, "the loader returned nothing");
    } catch (const Error& e) {
      failures[i] = e.at(file.string());
    } catch (const std::exception& e) {
      failures[i] =
          Error(ErrorCode::invalid_argument,
                fmt::format("loader '{}' failed: {}", entry.loader, e.what()), file.string());
    }
    scope.advance(1);
  };
  bool parallel =
      entry.parallel.enabled && static_cast<std::int64_t>(files.size()) >= entry.parallel.min_files;
  if (parallel && entry.parallel.min_total_size > 0) {
    // As dantro: files smaller than min_total_size in total load serially.
    std::uintmax_t total = 0;
    for (const auto& rel : files) {
      std::error_code ec;
      const std::uintmax_t size = fs::file_size(base / rel, ec);
      if (!ec) total += size;
    }
    parallel = total >= static_cast<std::uintmax_t>(entry.parallel.min_total_size);
  }
  if (parallel) {
    std::optional<ConcurrencyLimit> limit;
    if (entry.parallel.processes > 0) limit.emplace(entry.parallel.processes);
    if (entry.parallel.processes < 0)
      limit.emplace(std::max(1, max_concurrency() + entry.parallel.processes));
    parallel_for(static_cast<std::int64_t>(files.size()), 1, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i)
        load_one(static_cast<std::size_t>(i));
    });
  } else {
    for (std::size_t i = 0; i < files.size(); ++i)
      load_one(i);
  }

  // Check every insertion first, so a failing file leaves the tree as it was.
  std::vector<std::string> notes;
  std::vector<bool> kept(files.size(), false);
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!failures[i]) {
      kept[i] = true;
      continue;
    }
    if (entry.required) throw *failures[i];
    notes.push_back(
        fmt::format("load config entry '{}': skipped: {}", entry.name, failures[i]->what()));
  }
  std::vector<Value> values(entry.load_as_attr ? files.size() : 0);
  if (entry.load_as_attr) {
    for (std::size_t i = 0; i < files.size(); ++i)
      if (kept[i]) values[i] = value_of(*loaded[i], (base / files[i]).string());
  }
  check_insertions(*root_, entry, action, files, targets, kept, loaded, values);
  warnings_.insert(warnings_.end(), notes.begin(), notes.end());

  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!kept[i]) continue;
    const Target& t = targets[i];
    if (entry.load_as_attr) {
      Value& value = values[i];
      // A parameter space makes its target a ParamSpaceGroup (created when
      // missing, converted when an empty plain group), as dantro's
      // create_groups would.
      const bool pspace = is_param_space(value);
      if (pspace && !t.parent.empty() && !root_->contains(t.parent)) {
        root_->require_group(t.parent, GroupClass::param_space);
      }
      Node& node = t.parent.empty() ? static_cast<Node&>(*root_) : root_->at(t.parent);
      if (pspace && node.is_group()) {
        auto& group = static_cast<Group&>(node);
        if (group.group_class() == GroupClass::ordered && group.parent() != nullptr) {
          group.set_group_class(GroupClass::param_space);
        }
      }
      if (node.attrs().contains(t.name)) {
        if (warns(action)) {
          warnings_.push_back(fmt::format(
              "load config entry '{}': attribute '{}' of '{}' exists; {}", entry.name, t.name,
              node.path(), action == ExistsAction::skip ? "skipped" : "overwritten"));
        }
        if (action == ExistsAction::skip || action == ExistsAction::skip_nowarn) continue;
      }
      node.attrs()[t.name] = std::move(value);
      continue;
    }
    Group& parent = root_->require_group(t.parent);
    bool overwrite = false;
    if (parent.contains(t.name)) {
      if (warns(action)) {
        warnings_.push_back(fmt::format("load config entry '{}': '{}/{}' exists; {}", entry.name,
                                        parent.path(), t.name,
                                        action == ExistsAction::skip ? "skipped" : "overwritten"));
      }
      if (action == ExistsAction::skip || action == ExistsAction::skip_nowarn) continue;
      overwrite = true;
    }
    parent.add(std::move(loaded[i]), overwrite);
  }
}

std::string DataManager::tree() const {
  return tree_text(*root_, {.title = fmt::format("DataManager '{}'", root_->name())});
}

std::string DataManager::tree_condensed() const {
  return condensed_tree_text(*root_, {.title = fmt::format("DataManager '{}'", root_->name())});
}

}  // namespace larder::tree
