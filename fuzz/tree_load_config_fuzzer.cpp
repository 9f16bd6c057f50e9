// Load configs come from users' YAML files: parsing one into checked entries,
// and formatting each entry's target path for a few file paths (with its
// path_regex), must never crash; a target path, once formatted, is plain text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "larder/core/error.h"
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
        const std::string target = larder::tree::format_target(entry.target_format(), fields);
        if (larder::tree::format_target(entry.target_format(), fields) != target) std::abort();
      }
    } catch (const larder::Error&) {
    }
  }
  return 0;
}
