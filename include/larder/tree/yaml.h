// YAML read as plain data, never executed: parse_yaml() turns a document into
// a Value (ordered JSON: mappings keep their order) the way PyYAML's
// yaml.safe_load resolves it, and to_yaml() writes one back.
//
// Plain scalars resolve as PyYAML's SafeLoader does (YAML 1.1): int with
// 0b/0x/leading-0 octal, '_' and sexagesimal forms; float only with a '.'
// (so "1e-3" stays a string, "1.0e-3" is a float) and .inf/.nan; bool from
// true/false/yes/no/on/off; null from ~/null/empty; timestamps stay strings
// (and are written quoted, so PyYAML reads them back as strings). Merge keys
// (<<) are applied as PyYAML does: explicit keys win, then later merge keys,
// then earlier mappings of a merge list. The standard tags (!!str, !!int, !!float,
// !!bool, !!null, !!map, !!seq, !!omap, !!pairs, !!set) are resolved;
// !!omap/!!pairs become an ordered mapping and !!set a mapping to null.
// Mapping keys that are not strings become their JSON text ("1", "true").
// paramspace's tags (!pspace, !pspace-unsorted, !pdim, !sweep, !coupled-pdim,
// !coupled-sweep) become a tagged node {"!tag": "<tag>", "value": <content>};
// their "-default" forms (!pdim-default, !sweep-default, ...) become the
// default value, as paramspace reads them. Any other tag is an
// Error(invalid_argument) naming origin, line and tag. Limits exceeded are an
// Error(invalid_argument) naming the limit; the size limit is checked before
// parsing and aliases are counted as the nodes they expand to, so an alias
// bomb fails fast. Functions here are thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace larder::tree {

using Value = nlohmann::ordered_json;

struct YamlLimits {
  std::size_t max_bytes = 64 << 20;    // the document's size
  int max_depth = 128;                 // nesting of mappings and sequences
  std::size_t max_nodes = 10'000'000;  // nodes after alias expansion
  std::size_t max_aliases = 100'000;   // alias uses (*name)
};

// `origin` names the document in errors (a file name, "<string>").
Value parse_yaml(std::string_view text, std::string_view origin, const YamlLimits& limits = {});
// Error(not_found) for a missing file, Error(io) when it cannot be read.
Value read_yaml(const std::filesystem::path& file, const YamlLimits& limits = {});

// Block-style YAML that parse_yaml() (and PyYAML) reads back to `value`;
// tagged nodes are written with their tag.
std::string to_yaml(const Value& value);

// Whether parse_yaml() keeps `tag` as a tagged node (the list above).
bool is_kept_tag(std::string_view tag);
// Builds a tagged node {"!tag": tag, "value": content}; Error(invalid_argument)
// naming the tag when it is not a kept one, or the content when it is not a
// mapping (the parser tags mappings only). parse_yaml() refuses a plain
// mapping of this shape, so a Value of it always is a tagged node.
Value make_tagged(std::string_view tag, Value content);
// The tag of a tagged node (a kept tag over a mapping), or empty when
// `value` is not one.
std::string_view tag_of(const Value& value);
// The content if `value` is a tagged node with that tag, else nullptr.
const Value* tagged(const Value& value, std::string_view tag);

}  // namespace larder::tree
