#include "larder/tree/glob.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <system_error>

#include "larder/core/error.h"

namespace larder::tree {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> segments_of(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end > start) out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool has_magic(std::string_view segment) {
  return segment.find_first_of("*?[") != std::string_view::npos;
}

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

bool match_from(std::string_view pattern, std::size_t p, std::string_view name, std::size_t n) {
  while (p < pattern.size()) {
    const char c = pattern[p];
    if (c == '*') {
      while (p < pattern.size() && pattern[p] == '*')
        ++p;
      if (p == pattern.size()) return true;
      for (std::size_t k = n; k <= name.size(); ++k)
        if (match_from(pattern, p, name, k)) return true;
      return false;
    }
    if (n == name.size()) return false;
    if (c == '?') {
      ++p;
      ++n;
      continue;
    }
    if (c == '[') {
      std::size_t next = 0;
      if (const auto m = class_match(pattern, p, name[n], next)) {
        if (!*m) return false;
        p = next;
        ++n;
        continue;
      }
    }
    if (c != name[n]) return false;
    ++p;
    ++n;
  }
  return n == name.size();
}

bool match_segments(const std::vector<std::string>& pattern, std::size_t p,
                    const std::vector<std::string>& path, std::size_t n) {
  if (p == pattern.size()) return n == path.size();
  if (pattern[p] == "**") {
    for (std::size_t k = n; k <= path.size(); ++k) {
      if (k > n && path[k - 1].front() == '.') break;
      if (match_segments(pattern, p + 1, path, k)) return true;
    }
    return false;
  }
  return n < path.size() && glob_segment_match(pattern[p], path[n]) &&
         match_segments(pattern, p + 1, path, n + 1);
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

}  // namespace

bool glob_segment_match(std::string_view pattern, std::string_view name) {
  return match_from(pattern, 0, name, 0);
}

bool glob_match(std::string_view pattern, std::string_view path) {
  return match_segments(segments_of(pattern), 0, segments_of(path), 0);
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
    const auto segs = segments_of(pattern);
    if (std::find(segs.begin(), segs.end(), "..") != segs.end()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("glob '{}' holds '..': globs cannot leave base path '{}'", pattern,
                              base.string()));
    }
    std::vector<std::string> kept;
    for (const auto& s : segs)
      if (s != ".") kept.push_back(s);
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
