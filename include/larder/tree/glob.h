// File globbing for load configs, confined to a base directory.
//
// Patterns are Python glob's (`*`, `?`, `[seq]`, `[!seq]`, `**` for any
// number of directories; `*` does not match a leading "."), relative to the
// base directory. A pattern that is absolute or holds a ".." segment, and a
// match whose real path (symlinks resolved) lies outside the base directory,
// raise Error(invalid_argument): nothing outside base_path is ever loaded.
// Stateless; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace larder::tree {

struct GlobOptions {
  bool include_files = true;
  bool include_directories = false;
  // Relative paths (or patterns) to leave out.
  std::vector<std::string> ignore{};
};

// Matches, as paths relative to `base` with "/" separators, sorted and unique.
std::vector<std::string> glob_files(const std::filesystem::path& base,
                                    const std::vector<std::string>& patterns,
                                    const GlobOptions& options = {});

// Whether `text` holds a wildcard ('*', '?' or '[').
bool has_magic(std::string_view text);

// Whether one path segment matches one pattern segment (no "/" in either).
bool glob_segment_match(std::string_view pattern, std::string_view name);

// Whether a relative path matches a pattern, `**` included (false when
// either is absolute).
bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace larder::tree
