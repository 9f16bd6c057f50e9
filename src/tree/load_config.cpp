#include "larder/tree/load_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>

#include "larder/core/error.h"
#include "larder/tree/glob.h"
#include "larder/tree/loaders.h"

namespace larder::tree {
namespace {

// Keys dantro takes that change nothing here: unpack_data (attributes always
// hold the plain value) and the UI keys (the CLI draws progress).
constexpr std::array<std::string_view, 4> ignored_keys{"unpack_data", "progress_indicator",
                                                       "print_tree", "progress_params"};

struct EntryReader {
  std::string_view entry;
  std::string_view origin;

  [[noreturn]] void fail(std::string_view key, std::string_view why) const {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("load config entry '{}', key '{}': {}", entry, key, why),
                std::string(origin));
  }

  bool boolean(const Value& v, std::string_view key) const {
    if (!v.is_boolean()) fail(key, fmt::format("expected true or false, got {}", v.dump()));
    return v.get<bool>();
  }

  std::string string(const Value& v, std::string_view key) const {
    if (!v.is_string()) fail(key, fmt::format("expected a string, got {}", v.dump()));
    return v.get<std::string>();
  }

  std::vector<std::string> strings(const Value& v, std::string_view key) const {
    if (v.is_string()) return {v.get<std::string>()};
    if (!v.is_array())
      fail(key, fmt::format("expected a string or a list of strings, got {}", v.dump()));
    std::vector<std::string> out;
    for (const auto& item : v)
      out.push_back(string(item, key));
    return out;
  }

  std::int64_t integer(const Value& v, std::string_view key) const {
    if (!v.is_number_integer()) fail(key, fmt::format("expected an integer, got {}", v.dump()));
    return v.get<std::int64_t>();
  }

  ParallelOptions parallel(const Value& v) const {
    ParallelOptions out;
    if (v.is_boolean()) {
      out.enabled = v.get<bool>();
      return out;
    }
    if (v.is_number_integer()) {
      out.enabled = true;
      out.processes =
          static_cast<int>(std::clamp<std::int64_t>(integer(v, "parallel"), -1024, 1024));
      return out;
    }
    if (!v.is_object())
      fail("parallel", fmt::format("expected a bool, an int or a mapping, got {}", v.dump()));
    out.enabled = true;
    for (const auto& item : v.items()) {
      const std::string& key = item.key();
      if (key == "enabled") {
        out.enabled = boolean(item.value(), "parallel.enabled");
      } else if (key == "processes") {
        if (!item.value().is_null())
          out.processes = static_cast<int>(
              std::clamp<std::int64_t>(integer(item.value(), "parallel.processes"), -1024, 1024));
      } else if (key == "min_files") {
        out.min_files = integer(item.value(), "parallel.min_files");
      } else if (key == "min_total_size") {
        out.min_total_size = integer(item.value(), "parallel.min_total_size");
      } else {
        fail("parallel", fmt::format("unknown key '{}' (enabled, processes, min_files, "
                                     "min_total_size)",
                                     key));
      }
    }
    return out;
  }
};

}  // namespace

ExistsAction exists_action_from(std::string_view text) {
  if (text == "raise") return ExistsAction::raise;
  if (text == "skip") return ExistsAction::skip;
  if (text == "skip_nowarn") return ExistsAction::skip_nowarn;
  if (text == "overwrite") return ExistsAction::overwrite;
  if (text == "overwrite_nowarn") return ExistsAction::overwrite_nowarn;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("exists_action '{}' is not one of raise, skip, skip_nowarn, overwrite, "
                          "overwrite_nowarn",
                          text));
}

bool LoadEntry::single_file() const {
  return glob_str.size() == 1 && !has_magic(glob_str[0]);
}

std::string LoadEntry::target_format() const {
  if (target_path) return *target_path;
  // One file goes to the entry's name, many to {basename} in a group named
  // after the entry; target_group replaces that group (or holds the one file).
  if (single_file()) return target_group ? *target_group + "/" + name : name;
  return (target_group ? *target_group : name) + "/{basename}";
}

LoadEntry parse_load_entry(std::string_view name, const Value& params, std::string_view origin) {
  const EntryReader read{name, origin};
  if (!params.is_object()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("load config entry '{}' must be a mapping, got {}", name, params.dump()),
        std::string(origin));
  }
  LoadEntry entry;
  entry.name = std::string(name);
  if (entry.name.empty() || entry.name.find('/') != std::string::npos) {
    read.fail("(name)", "an entry name must be non-empty and hold no '/'");
  }
  for (const auto& item : params.items()) {
    const std::string& key = item.key();
    const Value& v = item.value();
    if (key == "loader") {
      entry.loader = read.string(v, key);
    } else if (key == "glob_str") {
      entry.glob_str = read.strings(v, key);
    } else if (key == "base_path") {
      if (!v.is_null()) entry.base_path = read.string(v, key);
    } else if (key == "path_regex") {
      if (!v.is_null()) entry.path_regex = read.string(v, key);
    } else if (key == "target_path") {
      if (!v.is_null()) entry.target_path = read.string(v, key);
    } else if (key == "target_group") {
      if (!v.is_null()) entry.target_group = read.string(v, key);
    } else if (key == "required") {
      entry.required = read.boolean(v, key);
    } else if (key == "ignore") {
      if (!v.is_null()) entry.ignore = read.strings(v, key);
    } else if (key == "exists_action") {
      try {
        entry.exists_action = exists_action_from(read.string(v, key));
      } catch (const Error& e) {
        read.fail(key, e.message());
      }
    } else if (key == "load_as_attr") {
      entry.load_as_attr = read.boolean(v, key);
    } else if (key == "enabled") {
      entry.enabled = read.boolean(v, key);
    } else if (key == "parallel") {
      entry.parallel = read.parallel(v);
    } else if (key == "include_files") {
      entry.include_files = read.boolean(v, key);
    } else if (key == "include_directories") {
      entry.include_directories = read.boolean(v, key);
    } else if (std::find(ignored_keys.begin(), ignored_keys.end(), key) != ignored_keys.end()) {
    } else {
      entry.loader_options[key] = v;
    }
  }
  if (entry.loader.empty()) read.fail("loader", "missing: every entry names its loader");
  if (entry.glob_str.empty()) read.fail("glob_str", "missing: every entry names its files");
  if (entry.target_path && entry.target_group) {
    read.fail("target_group", "target_path and target_group exclude each other");
  }
  const auto spec = LoaderRegistry::global().get(entry.loader);
  const auto& takes = spec->options;
  if (std::find(takes.begin(), takes.end(), "*") == takes.end()) {
    for (const auto& item : entry.loader_options.items()) {
      if (std::find(takes.begin(), takes.end(), item.key()) == takes.end()) {
        const std::string known =
            takes.empty() ? "none" : fmt::format("{}", fmt::join(takes, ", "));
        read.fail(item.key(), fmt::format("neither a load config key nor an option of loader "
                                          "'{}' (its options: {})",
                                          entry.loader, known));
      }
    }
  }
  return entry;
}

std::vector<LoadEntry> parse_load_config(const Value& config, std::string_view origin) {
  if (config.is_null()) return {};
  if (!config.is_object()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a load config is a mapping of entries, got {}", config.dump()),
                std::string(origin));
  }
  std::vector<LoadEntry> out;
  for (const auto& item : config.items())
    out.push_back(parse_load_entry(item.key(), item.value(), origin));
  return out;
}

}  // namespace larder::tree
