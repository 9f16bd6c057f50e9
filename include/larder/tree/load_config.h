// One entry of a dantro load config, parsed and checked before anything is
// loaded.
//
// The keys are dantro's as users write them (docs/tree.md lists them):
// loader, glob_str, base_path, path_regex, target_path, target_group,
// required, ignore, exists_action, load_as_attr, enabled, parallel,
// include_files, include_directories; unpack_data and the UI keys
// (progress_indicator, print_tree, progress_params) are accepted and change
// nothing; any other
// key goes to the loader, which must name it among its options (else
// Error(invalid_argument) naming the entry and the key). Plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "larder/tree/yaml.h"

namespace larder::tree {

enum class ExistsAction { raise, skip, skip_nowarn, overwrite, overwrite_nowarn };
ExistsAction exists_action_from(std::string_view text);  // Error naming the choices

struct ParallelOptions {
  bool enabled = false;
  int processes = 0;                // threads; <= 0: all the pool has (plus this, if negative)
  std::int64_t min_files = 2;       // fewer files load serially
  std::int64_t min_total_size = 0;  // files smaller than this in total load serially
};

struct LoadEntry {
  std::string name;
  std::string loader;
  std::vector<std::string> glob_str;
  std::optional<std::string> base_path;
  std::optional<std::string> path_regex;
  std::optional<std::string> target_path;
  std::optional<std::string> target_group;
  bool required = false;
  std::vector<std::string> ignore;
  std::optional<ExistsAction> exists_action;  // nullopt: load_from_cfg's
  bool load_as_attr = false;
  bool enabled = true;
  ParallelOptions parallel;
  bool include_files = true;
  bool include_directories = false;
  Value loader_options = Value::object();  // enable_mapping, map_from_attr, ...

  // Whether glob_str names exactly one file (no wildcard): then the default
  // target is the entry name itself, else "<name>/{basename}".
  bool single_file() const;
  // The target_path format string in effect (target_group and defaults applied).
  std::string target_format() const;
};

// Parses `params` (a mapping) for entry `name`; `origin` names where the
// config came from for messages. Checks the loader exists and takes the
// extra keys.
LoadEntry parse_load_entry(std::string_view name, const Value& params, std::string_view origin);

// Every entry of a load config mapping, in order.
std::vector<LoadEntry> parse_load_config(const Value& config, std::string_view origin);

}  // namespace larder::tree
