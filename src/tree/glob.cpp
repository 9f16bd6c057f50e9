#include "larder/tree/glob.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <system_error>

#include "larder/core/error.h"
#include "larder/tree/node.h"

namespace larder::tree {
namespace fs = std::filesystem;
namespace {

// A `[...]` class at pattern[p] ('[' included); sets `next` past it.
// Returns nullopt when the bracket does not close (then '[' is literal).
std::optional<bool> class_match(std::string_view pattern, std::size_t p, char c,
                                std::size_t& next) {
  std::size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      if (pattern[i] <= c && c <= pattern[i + 2]) matched = true;
      i += 3;
    } else {
      if (pattern[i] == c) matched = true;
      ++i;
    }
  }
  if (i >= pattern.size()) return std::nullopt;
  next = i + 1;
  return matched != negate;
}

// Whether pattern[p] (one token: '?', a `[...]` class or a literal) matches
// `c`; sets `next` past the token.
bool token_match(std::string_view pattern, std::size_t p, char c, std::size_t& next) {
  if (pattern[p] == '?') {
    next = p + 1;
    return true;
  }
  if (pattern[p] == '[') {
    if (const auto m = class_match(pattern, p, c, next)) return *m;
  }
  next = p + 1;
  return pattern[p] == c;
}

// Wildcard matching that backtracks only to the last `*` seen: every other
// token matches exactly one character, so a later star can absorb whatever an
// earlier one would have, and the work is O(pattern * name).
bool match_from(std::string_view pattern, std::string_view name) {
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*')
        ++p;
      star_p = p;
      star_n = n;
      continue;
    }
    std::size_t next = 0;
    if (p < pattern.size() && token_match(pattern, p, name[n], next)) {
      p = next;
      ++n;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

// Whether path[n..] matches pattern[p..], `**` standing for zero or more
// segments that do not start with '.'. Computed from the last pattern segment
// back, one row per segment: O(pattern * path), no recursion.
bool match_segments(const std::vector<std::string>& pattern, const std::vector<std::string>& path) {
  const std::size_t size = path.size();
  std::vector<char> next(size + 1, 0);  // the row of pattern segment p + 1
  next[size] = 1;                       // an empty pattern matches only the empty rest
  std::vector<char> row(size + 1, 0);
  for (std::size_t p = pattern.size(); p-- > 0;) {
    if (pattern[p] == "**") {
      row[size] = next[size];
      for (std::size_t n = size; n-- > 0;)
        row[n] = next[n] || (path[n].front() != '.' && row[n + 1]);
    } else {
      row[size] = 0;
      for (std::size_t n = 0; n < size; ++n)
        row[n] = next[n + 1] && glob_segment_match(pattern[p], path[n]);
    }
    std::swap(row, next);
  }
  return next[0] != 0;
}

struct Walker {
  const fs::path& base;
  const GlobOptions& options;
  std::set<std::string> found;

  void add(const fs::path& path, const std::string& relative) {
    std::error_code ec;
    const bool directory = fs::is_directory(path, ec);
    if (directory ? !options.include_directories : !options.include_files) return;
    if (!fs::exists(path, ec)) return;
    found.insert(relative);
  }

  // Expands pattern segments [i, end) below `dir` (relative path `rel`).
  void expand(const fs::path& dir, const std::string& rel, const std::vector<std::string>& segs,
              std::size_t i) {
    if (i == segs.size()) {
      if (!rel.empty()) add(dir, rel);
      return;
    }
    const std::string& seg = segs[i];
    const auto join = [&](const std::string& name) {
      return rel.empty() ? name : rel + "/" + name;
    };
    std::error_code ec;
    if (seg == "**") {
      expand(dir, rel, segs, i + 1);
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.front() == '.' || !entry.is_directory(ec) || entry.is_symlink(ec)) continue;
        expand(entry.path(), join(name), segs, i);
      }
      return;
    }
    if (!has_magic(seg)) {
      const fs::path next = dir / seg;
      if (fs::exists(fs::symlink_status(next, ec))) expand(next, join(seg), segs, i + 1);
      return;
    }
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.front() == '.' && seg.front() != '.') continue;
      if (glob_segment_match(seg, name)) names.push_back(name);
    }
    for (const auto& name : names) {
      if (i + 1 < segs.size() && !fs::is_directory(dir / name, ec)) continue;
      expand(dir / name, join(name), segs, i + 1);
    }
  }
};

// The segments of a glob pattern or a relative path; nullopt for an absolute one.
std::optional<std::vector<std::string>> relative_segments(std::string_view path) {
  if (!path.empty() && path.front() == '/') return std::nullopt;
  return split_tree_path(path);
}

}  // namespace

bool has_magic(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

bool glob_segment_match(std::string_view pattern, std::string_view name) {
  return match_from(pattern, name);
}

bool glob_match(std::string_view pattern, std::string_view path) {
  const auto pattern_segments = relative_segments(pattern);
  const auto path_segments = relative_segments(path);
  if (!pattern_segments || !path_segments) return false;  // both are relative
  return match_segments(*pattern_segments, *path_segments);
}

std::vector<std::string> glob_files(const fs::path& base, const std::vector<std::string>& patterns,
                                    const GlobOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(base, ec)) {
    throw Error(ErrorCode::not_found,
                fmt::format("base path '{}' is not a directory", base.string()));
  }
  const fs::path real_base = fs::canonical(base);
  Walker walker{base, options, {}};
  for (const auto& pattern : patterns) {
    if (pattern.empty() || pattern.front() == '/' || fs::path(pattern).is_absolute()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("glob '{}' is empty or absolute: globs are relative to base path "
                              "'{}'",
                              pattern, base.string()));
    }
    const auto kept = split_tree_path(pattern);  // "." dropped
    if (std::find(kept.begin(), kept.end(), "..") != kept.end()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("glob '{}' holds '..': globs cannot leave base path '{}'", pattern,
                              base.string()));
    }
    walker.expand(base, "", kept, 0);
  }
  std::vector<std::string> out;
  for (const auto& rel : walker.found) {
    const bool ignored =
        std::any_of(options.ignore.begin(), options.ignore.end(),
                    [&](const std::string& i) { return i == rel || glob_match(i, rel); });
    if (ignored) continue;
    const fs::path real = fs::weakly_canonical(base / rel, ec);
    const auto [b, r] = std::mismatch(real_base.begin(), real_base.end(), real.begin(), real.end());
    if (ec || b != real_base.end()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("'{}' resolves to '{}', outside base path '{}' (a symlink?)", rel,
                              real.string(), real_base.string()));
    }
    out.push_back(rel);
  }
  return out;
}

}  // namespace larder::tree
