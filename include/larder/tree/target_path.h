// Where a loaded file goes in the tree: the fields of dantro's target_path
// format strings and Python's str.format subset that fills them.
//
// Fields of a file at `relpath` (relative to base_path, "/"-separated):
// basename (file name without extension, lower case), ext (extension without
// the dot), relpath and dirname (without extension; dirname "" at the top),
// relpath_cleaned and dirname_cleaned ("/" replaced by "__"), and with a
// path_regex: match (the first group, or the whole match without groups),
// groups[i], named[name]. Stateless; thread-safe (RE2 objects are).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace larder::tree {

struct TargetFields {
  std::map<std::string, std::string> names;  // basename, ext, relpath, ...
  std::vector<std::string> groups;           // groups[i]
  std::map<std::string, std::string> named;  // named[x]
  bool matched = false;                      // the path_regex matched
};

// A compiled path_regex (RE2: linear time). Error(invalid_argument) naming
// the pattern and RE2's complaint.
class PathRegex {
 public:
  explicit PathRegex(const std::string& pattern);
  ~PathRegex();
  PathRegex(PathRegex&&) noexcept;
  PathRegex& operator=(PathRegex&&) noexcept;
  // re.search semantics: the first match anywhere in `text`; nullopt when none.
  // Groups that took no part in the match are "".
  std::optional<std::vector<std::string>> search(std::string_view text) const;
  std::map<std::string, int> named_groups() const;  // name -> 1-based group number
  const std::string& pattern() const noexcept { return pattern_; }

 private:
  std::string pattern_;
  std::unique_ptr<re2::RE2> re_;
};

// The fields of the file at `relpath`; without a regex match, `match` falls
// back to the basename as dantro does (matched stays false).
TargetFields target_fields(std::string_view relpath, const PathRegex* regex);

// Python's str.format over the fields: "{name}", "{name:}", "{groups[0]}",
// "{named[x]}", "{{" and "}}"; a format spec of [[fill]align][0][width] pads
// the text. Error(invalid_argument) naming the format string and the field
// for an unknown field, a bad index, an unclosed brace or another spec.
std::string format_target(std::string_view format, const TargetFields& fields);

}  // namespace larder::tree
