#include "larder/tree/target_path.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "larder/core/error.h"

namespace larder::tree {
namespace {

std::string replaced(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

[[noreturn]] void bad_format(std::string_view format, std::string_view why) {
  throw Error(ErrorCode::invalid_argument, fmt::format("target path '{}': {}", format, why));
}

// Applies a [[fill]align][0][width] spec.
std::string padded(std::string text, std::string_view spec, std::string_view format) {
  if (spec.empty()) return text;
  char fill = ' ';
  char align = '<';  // Python's default for text
  bool explicit_fill = false;
  std::size_t i = 0;
  const auto is_align = [](char c) { return c == '<' || c == '>' || c == '^'; };
  if (spec.size() >= 2 && is_align(spec[1])) {
    fill = spec[0];
    align = spec[1];
    explicit_fill = true;
    i = 2;
  } else if (is_align(spec[0])) {
    align = spec[0];
    i = 1;
  }
  // The '0' flag pads with zeros unless a fill was given, as Python does.
  if (i < spec.size() && spec[i] == '0' && i + 1 < spec.size()) {
    if (!explicit_fill) fill = '0';
    ++i;
  }
  std::size_t width = 0;
  const auto rest = spec.substr(i);
  if (!rest.empty()) {
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), width);
    if (ec != std::errc() || ptr != rest.data() + rest.size() || width > 4096) {
      bad_format(format, fmt::format("format spec '{}' is not [[fill]align][0][width]", spec));
    }
  }
  if (text.size() >= width) return text;
  const std::size_t pad = width - text.size();
  if (align == '<') return text + std::string(pad, fill);
  if (align == '>') return std::string(pad, fill) + text;
  return std::string(pad / 2, fill) + text + std::string(pad - pad / 2, fill);
}

std::string field_value(std::string_view field, const TargetFields& fields,
                        std::string_view format) {
  const auto bracket = field.find('[');
  if (bracket == std::string_view::npos) {
    const auto it = fields.names.find(std::string(field));
    if (it == fields.names.end()) {
      // (a loop: clang 14's concepts reject views::keys of a map)
      std::vector<std::string_view> known;
      for (const auto& entry : fields.names)
        known.push_back(entry.first);
      bad_format(format, fmt::format("unknown field '{}'; known: {}, groups[i], named[x]", field,
                                     fmt::join(known, ", ")));
    }
    return it->second;
  }
  if (field.back() != ']') bad_format(format, fmt::format("field '{}' lacks its ']'", field));
  const auto name = field.substr(0, bracket);
  const auto key = field.substr(bracket + 1, field.size() - bracket - 2);
  if (name == "groups") {
    std::size_t index = 0;
    auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
    if (ec != std::errc() || ptr != key.data() + key.size() || index >= fields.groups.size()) {
      bad_format(format,
                 fmt::format("'{}': path_regex has {} group(s)", field, fields.groups.size()));
    }
    return fields.groups[index];
  }
  if (name == "named") {
    const auto it = fields.named.find(std::string(key));
    if (it == fields.named.end()) {
      bad_format(format, fmt::format("'{}': path_regex has no group named '{}'", field, key));
    }
    return it->second;
  }
  bad_format(format, fmt::format("unknown field '{}'", field));
}

}  // namespace

PathRegex::PathRegex(const std::string& pattern) : pattern_(pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  re_ = std::make_unique<re2::RE2>(pattern, options);
  if (!re_->ok()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("path_regex '{}' is not a valid RE2 pattern: {}", pattern, re_->error()));
  }
}

PathRegex::~PathRegex() = default;
PathRegex::PathRegex(PathRegex&&) noexcept = default;
PathRegex& PathRegex::operator=(PathRegex&&) noexcept = default;

std::optional<std::vector<std::string>> PathRegex::search(std::string_view text) const {
  const int groups = re_->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(groups) + 1);
  if (!re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED,
                  pieces.data(), groups + 1)) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& piece : pieces)
    out.emplace_back(piece.data() ? std::string(piece) : "");
  return out;
}

std::map<std::string, int> PathRegex::named_groups() const {
  return {re_->NamedCapturingGroups().begin(), re_->NamedCapturingGroups().end()};
}

TargetFields target_fields(std::string_view relpath, const PathRegex* regex) {
  TargetFields fields;
  const std::string rel(relpath);
  const auto slash = rel.rfind('/');
  const std::string file = slash == std::string::npos ? rel : rel.substr(slash + 1);
  const auto dot = file.rfind('.');
  const bool has_ext = dot != std::string::npos && dot != 0;
  std::string basename = has_ext ? file.substr(0, dot) : file;
  std::transform(basename.begin(), basename.end(), basename.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string ext = has_ext ? file.substr(dot + 1) : "";
  const std::string rel_no_ext = has_ext ? rel.substr(0, rel.size() - ext.size() - 1) : rel;
  const std::string dirname = slash == std::string::npos ? "" : rel.substr(0, slash);
  fields.names = {{"basename", basename},
                  {"ext", ext},
                  {"relpath", rel_no_ext},
                  {"dirname", dirname},
                  {"relpath_cleaned", replaced(rel_no_ext, "/", "__")},
                  {"dirname_cleaned", replaced(dirname, "/", "__")},
                  {"match", basename}};
  if (regex != nullptr) {
    if (auto found = regex->search(relpath)) {
      fields.matched = true;
      fields.groups.assign(found->begin() + 1, found->end());
      fields.names["match"] = fields.groups.empty() ? (*found)[0] : fields.groups[0];
      for (const auto& [name, index] : regex->named_groups())
        fields.named[name] = (*found)[static_cast<std::size_t>(index)];
    }
  }
  return fields;
}

std::string format_target(std::string_view format, const TargetFields& fields) {
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      bad_format(format, "single '}' (write '}}' for a brace)");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const auto close = format.find('}', i);
    if (close == std::string_view::npos) bad_format(format, "unclosed '{'");
    const auto inner = format.substr(i + 1, close - i - 1);
    const auto colon = inner.find(':');
    const auto field = inner.substr(0, colon);
    const auto spec =
        colon == std::string_view::npos ? std::string_view{} : inner.substr(colon + 1);
    if (field.empty()) bad_format(format, "empty field '{}' (positional fields are not filled)");
    out += padded(field_value(field, fields, format), spec, format);
    i = close;
  }
  return out;
}

}  // namespace larder::tree
