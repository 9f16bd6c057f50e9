// Load configs come from users' YAML files: parsing one into checked entries,
// formatting each entry's target path for a few file paths (with its
// path_regex) and matching its globs and ignores against a few names must
// never crash nor hang (glob matching is O(pattern * name)). Checked: a format
// without braces is its own result; a basename holds no '/'; a glob without
// wildcards matches exactly itself; a leading '*' never loses a match.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/error.h"
#include "larder/tree/glob.h"
#include "larder/tree/load_config.h"
#include "larder/tree/target_path.h"
#include "larder/tree/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  larder::tree::Value config;
  try {
    config = larder::tree::parse_yaml(
        text, "fuzz",
        {.max_bytes = 1 << 16, .max_depth = 32, .max_nodes = 1 << 14, .max_aliases = 64});
  } catch (const larder::Error&) {
    return 0;
  }
  std::vector<larder::tree::LoadEntry> entries;
  try {
    entries = larder::tree::parse_load_config(config, "fuzz");
  } catch (const larder::Error&) {
    return 0;
  }
  for (const auto& entry : entries) {
    try {
      std::optional<larder::tree::PathRegex> regex;
      if (entry.path_regex) regex.emplace(*entry.path_regex);
      for (const char* path : {"sim_12/data.h5", "a/b/C.Yml", "x", "sim_/.h5"}) {
        const auto fields = larder::tree::target_fields(path, regex ? &*regex : nullptr);
        if (fields.names.at("basename").find('/') != std::string::npos) std::abort();
        const std::string format = entry.target_format();
        const std::string target = larder::tree::format_target(format, fields);
        if (format.find_first_of("{}") == std::string::npos && target != format) std::abort();
      }
    } catch (const larder::Error&) {
    }
    std::vector<std::string> patterns = entry.glob_str;
    patterns.insert(patterns.end(), entry.ignore.begin(), entry.ignore.end());
    for (const auto& pattern : patterns) {
      using larder::tree::glob_segment_match;
      const bool literal = !larder::tree::has_magic(pattern);
      for (const std::string_view name : {"sim_12", "data.h5", ".hidden", "", "[a]",
                                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}) {
        const bool matched = glob_segment_match(pattern, name);
        if (literal && matched != (pattern == name)) std::abort();
        if (matched && !glob_segment_match("*" + pattern, name)) std::abort();
        static_cast<void>(larder::tree::glob_match(pattern, name));
        static_cast<void>(larder::tree::glob_match(pattern, "sim_12/data/a.h5"));
      }
      if (literal && !pattern.empty() && pattern.front() != '/' &&
          !larder::tree::glob_match(pattern, pattern))
        std::abort();
    }
  }
  return 0;
}
