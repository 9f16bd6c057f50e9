// YAML through libyaml's event parser: every event is turned into a Value
// here, so tags, scalar styles, anchors and line numbers are all in view and
// nothing is ever constructed from a tag. Anchored values are kept with
// their node counts, so an alias is charged its full expanded size before it
// is copied.
#include "larder/tree/yaml.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>
#include <yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../store/file_io.h"
#include "larder/core/error.h"

namespace larder::tree {
namespace {

constexpr std::string_view kYamlTagPrefix = "tag:yaml.org,2002:";

// paramspace's tags that stay as tagged nodes, and those that read as the
// default value of the pdim they mark.
constexpr std::string_view kKeptTags[] = {"!pspace", "!pspace-unsorted", "!pdim",
                                          "!sweep",  "!coupled-pdim",    "!coupled-sweep"};
constexpr std::string_view kDefaultTags[] = {"!pdim-default", "!sweep-default",
                                             "!coupled-pdim-default", "!coupled-sweep-default"};

bool one_of(std::string_view tag, std::span<const std::string_view> tags) {
  for (auto t : tags)
    if (t == tag) return true;
  return false;
}

// PyYAML's implicit resolvers (resolver.py, YAML 1.1), tried in its order.
struct Resolvers {
  RE2 boolean{"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"};
  RE2 floating{
      "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
      "|\\.[0-9_]+(?:[eE][-+][0-9]+)?"
      "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
      "|[-+]?\\.(?:inf|Inf|INF)"
      "|\\.(?:nan|NaN|NAN)"};
  RE2 integer{
      "[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
      "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"};
  RE2 null{"~|null|Null|NULL|"};
  // Read by PyYAML as a date or datetime: stays a string here, but is
  // quoted when written.
  RE2 timestamp{
      "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
      "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ "
      "\\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
      "(?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?"};
};

const Resolvers& resolvers() {
  static const Resolvers r;
  return r;
}

std::string without_underscores(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (c != '_') out += c;
  return out;
}

// Splits a leading sign off; returns -1 or +1.
int take_sign(std::string& digits) {
  int sign = 1;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    if (digits[0] == '-') sign = -1;
    digits.erase(0, 1);
  }
  return sign;
}

std::vector<std::string> split_colons(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return parts;
}

std::optional<Value> to_int(std::string_view text) {
  std::string digits = without_underscores(text);
  int sign = take_sign(digits);
  if (digits.empty()) return std::nullopt;
  if (digits.find(':') != std::string::npos) {
    // Sexagesimal: 1:30 is 90.
    double total = 0;
    for (const auto& part : split_colons(digits)) {
      if (part.empty()) return std::nullopt;
      total = total * 60 + std::strtod(part.c_str(), nullptr);
    }
    if (total <= 9.0e15) return Value(static_cast<std::int64_t>(sign * total));
    return Value(sign * total);
  }
  int base = 10;
  std::size_t skip = 0;
  if (digits.size() > 1 && digits[0] == '0') {
    if (digits[1] == 'b')
      base = 2, skip = 2;
    else if (digits[1] == 'x')
      base = 16, skip = 2;
    else
      base = 8, skip = 1;
  }
  std::string body = digits.substr(skip);
  if (body.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  unsigned long long magnitude = std::strtoull(body.c_str(), &end, base);
  if (*end != '\0') return std::nullopt;
  if (errno == ERANGE) {
    // Larger than 64 bits: Python keeps it exact, JSON cannot; a float is
    // the nearest value.
    double approx = 0;
    for (char c : body)
      approx = approx * base + (std::isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
    return Value(sign * approx);
  }
  if (sign > 0) return Value(static_cast<std::uint64_t>(magnitude));
  if (magnitude <= static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max()) + 1)
    return Value(static_cast<std::int64_t>(0 - magnitude));
  return Value(-static_cast<double>(magnitude));
}

std::optional<Value> to_float(std::string_view text) {
  std::string digits = without_underscores(text);
  for (char& c : digits)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  int sign = take_sign(digits);
  if (digits == ".inf") return Value(sign * std::numeric_limits<double>::infinity());
  if (digits == ".nan") return Value(std::numeric_limits<double>::quiet_NaN());
  if (digits.empty()) return std::nullopt;
  if (digits.find(':') != std::string::npos) {
    double total = 0;
    for (const auto& part : split_colons(digits))
      total = total * 60 + std::strtod(part.c_str(), nullptr);
    return Value(sign * total);
  }
  char* end = nullptr;
  double value = std::strtod(digits.c_str(), &end);
  if (*end != '\0' || end == digits.c_str()) return std::nullopt;
  return Value(sign * value);
}

std::optional<Value> to_bool(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "yes" || lower == "true" || lower == "on") return Value(true);
  if (lower == "no" || lower == "false" || lower == "off") return Value(false);
  return std::nullopt;
}

// A plain scalar as PyYAML's SafeLoader resolves it.
Value resolve_plain(std::string_view text) {
  const auto& r = resolvers();
  re2::StringPiece piece(text.data(), text.size());
  if (RE2::FullMatch(piece, r.boolean)) return *to_bool(text);
  if (RE2::FullMatch(piece, r.floating))
    if (auto v = to_float(text)) return *v;
  if (RE2::FullMatch(piece, r.integer))
    if (auto v = to_int(text)) return *v;
  if (RE2::FullMatch(piece, r.null)) return Value(nullptr);
  return Value(std::string(text));
}

struct Anchored {
  Value value;
  std::size_t nodes;
};

class Reader {
 public:
  Reader(std::string_view text, std::string_view origin, const YamlLimits& limits)
      : origin_(origin), limits_(limits) {
    if (text.size() > limits.max_bytes)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("YAML document of {} bytes exceeds the limit of {} bytes (max_bytes)",
                              text.size(), limits.max_bytes),
                  origin_);
    if (!yaml_parser_initialize(&parser_))
      throw Error(ErrorCode::io, "cannot initialise the YAML parser", origin_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~Reader() {
    if (have_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  Value read() {
    next();
    expect(YAML_STREAM_START_EVENT);
    next();
    if (event_.type == YAML_STREAM_END_EVENT) return Value(nullptr);
    expect(YAML_DOCUMENT_START_EVENT);
    next();
    std::size_t nodes = 0;
    Value value = node(0, nodes);
    next();
    expect(YAML_DOCUMENT_END_EVENT);
    next();
    if (event_.type != YAML_STREAM_END_EVENT)
      fail(line(), "expected a single document, found a second one");
    return value;
  }

 private:
  void next() {
    if (have_event_) yaml_event_delete(&event_);
    have_event_ = false;
    if (!yaml_parser_parse(&parser_, &event_)) {
      std::size_t at = parser_.problem_mark.line + 1;
      std::string problem = parser_.problem ? parser_.problem : "malformed YAML";
      if (parser_.context) problem = fmt::format("{} {}", parser_.context, problem);
      fail(at, problem);
    }
    have_event_ = true;
  }

  std::size_t line() const { return event_.start_mark.line + 1; }

  [[noreturn]] void fail(std::size_t at, std::string_view what) const {
    throw Error(ErrorCode::invalid_argument, fmt::format("line {}: {}", at, what), origin_);
  }

  void expect(yaml_event_type_t type) const {
    if (event_.type != type) fail(line(), "unexpected YAML structure");
  }

  void count_nodes(std::size_t& nodes, std::size_t more) {
    nodes += more;
    total_nodes_ += more;
    if (total_nodes_ > limits_.max_nodes)
      fail(line(), fmt::format("more than {} nodes (max_nodes)", limits_.max_nodes));
  }

  static std::string text_of(const unsigned char* s) {
    return s ? std::string(reinterpret_cast<const char*>(s)) : std::string();
  }

  // The current event's node (scalar, alias, sequence or mapping start),
  // consuming the events up to its end. `nodes` grows by its node count.
  Value node(int depth, std::size_t& nodes) {
    switch (event_.type) {
      case YAML_ALIAS_EVENT: {
        std::string name = text_of(event_.data.alias.anchor);
        auto it = anchors_.find(name);
        if (it == anchors_.end()) fail(line(), fmt::format("unknown alias *{}", name));
        if (++aliases_ > limits_.max_aliases)
          fail(line(), fmt::format("more than {} aliases (max_aliases)", limits_.max_aliases));
        count_nodes(nodes, it->second.nodes);
        return it->second.value;
      }
      case YAML_SCALAR_EVENT: {
        count_nodes(nodes, 1);
        std::string anchor = text_of(event_.data.scalar.anchor);
        Value value = scalar();
        if (!anchor.empty()) anchors_[anchor] = {value, 1};
        return value;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        if (depth >= limits_.max_depth)
          fail(line(), fmt::format("nesting deeper than {} (max_depth)", limits_.max_depth));
        bool is_mapping = event_.type == YAML_MAPPING_START_EVENT;
        std::string anchor = text_of(is_mapping ? event_.data.mapping_start.anchor
                                                : event_.data.sequence_start.anchor);
        std::string tag =
            text_of(is_mapping ? event_.data.mapping_start.tag : event_.data.sequence_start.tag);
        std::size_t at = line();
        std::size_t own = 0;
        count_nodes(own, 1);
        Value value = is_mapping ? mapping(depth, own) : sequence(depth, own);
        value = apply_collection_tag(tag, std::move(value), is_mapping, at);
        nodes += own;
        if (!anchor.empty()) anchors_[anchor] = {value, own};
        return value;
      }
      default:
        fail(line(), "unexpected YAML event");
    }
  }

  Value scalar() {
    std::string text(reinterpret_cast<const char*>(event_.data.scalar.value),
                     event_.data.scalar.length);
    std::string tag = text_of(event_.data.scalar.tag);
    bool plain = event_.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag.empty() || tag == "?") return plain ? resolve_plain(text) : Value(text);
    if (tag == "!") return Value(text);
    if (tag.starts_with(kYamlTagPrefix)) {
      std::string_view kind = std::string_view(tag).substr(kYamlTagPrefix.size());
      std::optional<Value> value;
      if (kind == "str")
        value = Value(text);
      else if (kind == "int")
        value = to_int(text);
      else if (kind == "float")
        value = to_float(text);
      else if (kind == "bool")
        value = to_bool(text);
      else if (kind == "null")
        value = Value(nullptr);
      else
        fail(line(), fmt::format("tag !!{} is not accepted on a scalar", kind));
      if (!value) fail(line(), fmt::format("'{}' is not a valid !!{}", text, kind));
      return *value;
    }
    fail(line(), fmt::format("tag {} is not accepted on a scalar ('{}')", tag, text));
  }

  Value sequence(int depth, std::size_t& nodes) {
    Value items = Value::array();
    for (next(); event_.type != YAML_SEQUENCE_END_EVENT; next())
      items.push_back(node(depth + 1, nodes));
    return items;
  }

  // A mapping key as a string: strings as they are, other scalars as their
  // JSON text, as a JSON object needs.
  std::string key_text(const Value& key) {
    if (key.is_string()) return key.get<std::string>();
    if (key.is_structured())
      fail(line(), "a mapping or sequence as a mapping key is not supported");
    return key.dump();
  }

  Value mapping(int depth, std::size_t& nodes) {
    Value explicit_items = Value::object();
    // PyYAML's order: the mappings of each merge key (<<) in turn, those of
    // a list last to first; a later one wins, explicit keys win over all.
    std::vector<Value> merges;
    std::size_t start = line();
    for (next(); event_.type != YAML_MAPPING_END_EVENT; next()) {
      bool merge_key =
          event_.type == YAML_SCALAR_EVENT && event_.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
          event_.data.scalar.tag == nullptr && event_.data.scalar.length == 2 &&
          std::string_view(reinterpret_cast<const char*>(event_.data.scalar.value), 2) == "<<";
      std::string key = key_text(node(depth + 1, nodes));
      next();
      Value value = node(depth + 1, nodes);
      if (merge_key) {
        if (value.is_object() && tag_of(value).empty()) {
          merges.push_back(std::move(value));
        } else if (value.is_array()) {
          for (auto item = value.rbegin(); item != value.rend(); ++item) {
            if (!item->is_object() || !tag_of(*item).empty())
              fail(line(), "a merge key (<<) takes a mapping or a list of mappings");
            merges.push_back(std::move(*item));
          }
        } else {
          fail(line(), "a merge key (<<) takes a mapping or a list of mappings");
        }
        continue;
      }
      explicit_items[key] = std::move(value);
    }
    Value merged = Value::object();
    for (auto& m : merges)
      for (auto& [key, value] : m.items())
        merged[key] = std::move(value);
    for (auto& [key, value] : explicit_items.items())
      merged[key] = std::move(value);
    refuse_tagged_shape(merged, start);
    return merged;
  }

  // A plain mapping must not read as a tagged node (see make_tagged).
  void refuse_tagged_shape(const Value& mapping, std::size_t at) {
    if (!tag_of(mapping).empty())
      fail(at, fmt::format("a mapping of just '!tag' and 'value' is reserved for tagged nodes; "
                           "write the tag instead ({} {{...}})",
                           tag_of(mapping)));
  }

  Value apply_collection_tag(const std::string& tag, Value value, bool is_mapping, std::size_t at) {
    if (tag.empty() || tag == "!") return value;
    if (tag.starts_with(kYamlTagPrefix)) {
      std::string_view kind = std::string_view(tag).substr(kYamlTagPrefix.size());
      if (kind == "map" && is_mapping) return value;
      if (kind == "seq" && !is_mapping) return value;
      if (kind == "set" && is_mapping) return value;
      if ((kind == "omap" || kind == "pairs") && !is_mapping) {
        Value ordered = Value::object();
        for (auto& item : value) {
          if (!item.is_object() || item.size() != 1 || !tag_of(item).empty())
            fail(at, fmt::format("each item of a !!{} must be a one-key mapping", kind));
          auto entry = item.begin();
          ordered[entry.key()] = std::move(entry.value());
        }
        refuse_tagged_shape(ordered, at);
        return ordered;
      }
      fail(at,
           fmt::format("tag !!{} does not fit a {}", kind, is_mapping ? "mapping" : "sequence"));
    }
    if (one_of(tag, kKeptTags)) {
      if (!is_mapping) fail(at, fmt::format("tag {} needs a mapping", tag));
      return make_tagged(tag, std::move(value));
    }
    if (one_of(tag, kDefaultTags)) {
      if (!is_mapping || !value.contains("default"))
        fail(at, fmt::format("tag {} needs a mapping with a 'default'", tag));
      return value["default"];
    }
    fail(at, fmt::format("unknown tag {} (only plain data and paramspace's tags are read)", tag));
  }

  std::string origin_;
  YamlLimits limits_;
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool have_event_ = false;
  std::size_t total_nodes_ = 0;
  std::size_t aliases_ = 0;
  std::unordered_map<std::string, Anchored> anchors_;
};

// --- writing ---------------------------------------------------------------

std::string float_text(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  std::string text = fmt::format("{}", v);  // shortest round trip
  // PyYAML's float needs a '.', and a sign on the exponent.
  auto e = text.find_first_of("eE");
  std::string mantissa = text.substr(0, e);
  std::string exponent = e == std::string::npos ? "" : text.substr(e + 1);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  if (!exponent.empty() && exponent[0] != '-' && exponent[0] != '+') exponent = "+" + exponent;
  return exponent.empty() ? mantissa : mantissa + "e" + exponent;
}

bool plain_safe(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
              c == '/' || c == ' ';
    if (!ok) return false;
  }
  if (s.front() == '-' || s.front() == '.') return false;
  if (RE2::FullMatch(s, resolvers().timestamp)) return false;  // PyYAML would read a date
  return resolve_plain(s).is_string();
}

// JSON's quoting, with the characters YAML reads as line breaks or will not
// read raw escaped: a raw U+2028 inside quotes folded to a space, or ended
// the line. JSON already escapes C0 controls, quotes and backslashes.
std::string string_text(const std::string& s) {
  if (plain_safe(s)) return s;
  // UTF-8 of U+2028, U+2029, U+FEFF, U+FFFE, U+FFFF.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kEscapes = {{
      {"\xe2\x80\xa8", "\\u2028"},
      {"\xe2\x80\xa9", "\\u2029"},
      {"\xef\xbb\xbf", "\\ufeff"},
      {"\xef\xbf\xbe", "\\ufffe"},
      {"\xef\xbf\xbf", "\\uffff"},
  }};
  const std::string json = Value(s).dump(-1, ' ', false, Value::error_handler_t::replace);
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    const auto b = static_cast<unsigned char>(json[i]);
    const auto next = i + 1 < json.size() ? static_cast<unsigned char>(json[i + 1]) : 0;
    if (b == 0x7f) {  // DEL
      out += "\\u007f";
      continue;
    }
    if (b == 0xc2 && next >= 0x80 && next <= 0x9f) {  // C1 controls, NEL among them
      out += fmt::format("\\u00{:02x}", next);
      ++i;
      continue;
    }
    const auto escape = b != 0xe2 && b != 0xef
                            ? kEscapes.end()
                            : std::find_if(kEscapes.begin(), kEscapes.end(), [&](const auto& e) {
                                return std::string_view(json).substr(i, 3) == e.first;
                              });
    if (escape != kEscapes.end()) {
      out += escape->second;
      i += 2;
      continue;
    }
    out += json[i];
  }
  return out;
}

std::string scalar_text(const Value& v) {
  switch (v.type()) {
    case Value::value_t::null:
      return "null";
    case Value::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case Value::value_t::number_integer:
      return std::to_string(v.get<std::int64_t>());
    case Value::value_t::number_unsigned:
      return std::to_string(v.get<std::uint64_t>());
    case Value::value_t::number_float:
      return float_text(v.get<double>());
    case Value::value_t::string:
      return string_text(v.get<std::string>());
    case Value::value_t::object:
      return "{}";
    case Value::value_t::array:
      return "[]";
    default:
      return "null";
  }
}

bool is_block(const Value& v) {
  return v.is_structured() && !v.empty();
}

void write_block(const Value& v, int indent, std::string& out);

// After "key:" or "-": the rest of the line and any block below it.
void write_after(const Value& v, int indent, std::string& out) {
  if (auto tag = tag_of(v); !tag.empty()) {
    const Value& content = v["value"];
    out += ' ';
    out += tag;
    if (is_block(content)) {
      out += '\n';
      write_block(content, indent, out);
    } else {
      out += ' ' + scalar_text(content) + '\n';
    }
    return;
  }
  if (is_block(v)) {
    out += '\n';
    write_block(v, indent, out);
  } else {
    out += ' ' + scalar_text(v) + '\n';
  }
}

void write_block(const Value& v, int indent, std::string& out) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, item] : v.items()) {
      out += pad + string_text(key) + ':';
      write_after(item, indent + 2, out);
    }
  } else {
    for (const auto& item : v) {
      out += pad + '-';
      write_after(item, indent + 2, out);
    }
  }
}

}  // namespace

Value parse_yaml(std::string_view text, std::string_view origin, const YamlLimits& limits) {
  Reader reader(text, origin, limits);
  return reader.read();
}

Value read_yaml(const std::filesystem::path& file, const YamlLimits& limits) {
  return parse_yaml(store::read_text(file, "", limits.max_bytes), file.string(), limits);
}

std::string to_yaml(const Value& value) {
  std::string out;
  if (auto tag = tag_of(value); !tag.empty()) {
    const Value& content = value["value"];
    out += tag;
    if (is_block(content)) {
      out += '\n';
      write_block(content, 0, out);
    } else {
      out += ' ' + scalar_text(content) + '\n';
    }
  } else if (is_block(value)) {
    write_block(value, 0, out);
  } else {
    out += scalar_text(value) + '\n';
  }
  return out;
}

bool is_kept_tag(std::string_view tag) {
  return one_of(tag, kKeptTags);
}

Value make_tagged(std::string_view tag, Value content) {
  if (!is_kept_tag(tag))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("tag '{}' is not one of paramspace's kept tags ({})", tag,
                            fmt::join(kKeptTags, ", ")));
  if (!content.is_object())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a {} node holds a mapping, not {}", tag, content.dump()));
  Value node = Value::object();
  node["!tag"] = std::string(tag);
  node["value"] = std::move(content);
  return node;
}

std::string_view tag_of(const Value& value) {
  if (!value.is_object() || value.size() != 2) return {};
  auto it = value.find("!tag");
  if (it == value.end() || !it->is_string()) return {};
  auto content = value.find("value");
  // parse_yaml() tags mappings only, and refuses plain mappings of this
  // shape, so the shape is unambiguous.
  if (content == value.end() || !content->is_object()) return {};
  const std::string& tag = it->get_ref<const std::string&>();
  return is_kept_tag(tag) ? std::string_view(tag) : std::string_view();
}

const Value* tagged(const Value& value, std::string_view tag) {
  if (tag_of(value) != tag) return nullptr;
  return &value["value"];
}

}  // namespace larder::tree
