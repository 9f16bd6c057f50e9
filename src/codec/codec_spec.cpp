#include "larder/codec/codec_spec.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "larder/core/error.h"

namespace larder::codec {
namespace {

using nlohmann::json;

constexpr std::string_view kShuffleNames = "none, byte, bit";

[[noreturn]] void bad_spec(std::string message) {
  throw Error(ErrorCode::invalid_argument, std::move(message));
}

std::optional<Shuffle> shuffle_from_name(std::string_view name) {
  if (name == "none") return Shuffle::none;
  if (name == "byte") return Shuffle::byte;
  if (name == "bit") return Shuffle::bit;
  return std::nullopt;
}

bool is_blosc(std::string_view id) {
  return id.starts_with("blosc-");
}

std::int64_t integer_field(const json& value, std::string_view field, std::int64_t min,
                           std::int64_t max) {
  std::int64_t v = 0;
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) {
      bad_spec(fmt::format("codec spec field '{}' is {}, above {}", field, u, max));
    }
    v = static_cast<std::int64_t>(u);
  } else if (value.is_number_integer()) {
    v = value.get<std::int64_t>();
  } else {
    bad_spec(fmt::format("codec spec field '{}' must be an integer, got {}", field, value.dump()));
  }
  if (v < min || v > max) {
    bad_spec(fmt::format("codec spec field '{}' is {}, outside {}..{}", field, v, min, max));
  }
  return v;
}

std::string string_field(const json& value, std::string_view field) {
  if (!value.is_string()) {
    bad_spec(fmt::format("codec spec field '{}' must be a string, got {}", field, value.dump()));
  }
  return value.get<std::string>();
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto pos = text.find(sep);
    parts.push_back(text.substr(0, pos));
    if (pos == std::string_view::npos) return parts;
    text.remove_prefix(pos + 1);
  }
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::string_view to_string(Shuffle shuffle) noexcept {
  switch (shuffle) {
    case Shuffle::none:
      return "none";
    case Shuffle::byte:
      return "byte";
    case Shuffle::bit:
      return "bit";
  }
  return "unknown";
}

CodecSpec CodecSpec::from_json(const json& j) {
  if (!j.is_object()) bad_spec(fmt::format("a codec spec must be a JSON object, got {}", j.dump()));
  CodecSpec spec;
  bool has_id = false;
  for (const auto& [key, value] : j.items()) {
    if (key == "id") {
      spec.id = string_field(value, key);
      has_id = true;
    } else if (key == "level") {
      spec.level = static_cast<int>(integer_field(value, key, std::numeric_limits<int>::min(),
                                                  std::numeric_limits<int>::max()));
    } else if (key == "shuffle") {
      const std::string name = string_field(value, key);
      const auto shuffle = shuffle_from_name(name);
      if (!shuffle) {
        bad_spec(
            fmt::format("codec spec field 'shuffle' is '{}', not one of {}", name, kShuffleNames));
      }
      spec.shuffle = *shuffle;
    } else if (key == "typesize") {
      spec.typesize =
          static_cast<int>(integer_field(value, key, 1, std::numeric_limits<int>::max()));
    } else if (key == "block_size") {
      spec.block_size = static_cast<std::size_t>(
          integer_field(value, key, 0, std::numeric_limits<std::int64_t>::max()));
    } else if (key == "format") {
      spec.format = string_field(value, key);
    } else {
      bad_spec(
          fmt::format("codec spec has unknown field '{}' (known: id, level, shuffle, "
                      "typesize, block_size, format)",
                      key));
    }
  }
  if (!has_id || spec.id.empty()) bad_spec(fmt::format("codec spec {} has no 'id'", j.dump()));
  return spec;
}

CodecSpec CodecSpec::parse(std::string_view text) {
  const std::string_view body = trim(text);
  if (body.starts_with('{') || body.starts_with('[') || body.starts_with('"')) {
    json j;
    try {
      j = json::parse(body);
    } catch (const json::exception& e) {
      // Not only parse_error: a number such as 1e1111 overflows (out_of_range).
      bad_spec(fmt::format("codec spec '{}' is not valid JSON: {}", text, e.what()));
    }
    return from_json(j);
  }
  const auto parts = split(body, ':');
  if (parts.size() > 3) {
    bad_spec(
        fmt::format("codec spec '{}' has {} ':'-separated parts; expected id[:level[:shuffle]]",
                    text, parts.size()));
  }
  CodecSpec spec;
  if (parts[0].empty()) bad_spec(fmt::format("codec spec '{}' has no codec id", text));
  const auto bad_char = parts[0].find_first_not_of(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
  if (bad_char != std::string_view::npos) {
    bad_spec(
        fmt::format("codec spec '{}': codec id '{}' has a '{}'; ids are letters, digits, "
                    "'.', '_' and '-'",
                    text, parts[0], parts[0][bad_char]));
  }
  spec.id = std::string(parts[0]);
  if (parts.size() > 1 && !parts[1].empty()) {
    const std::string_view level = parts[1];
    const char* end = level.data() + level.size();
    const auto [ptr, ec] = std::from_chars(level.data(), end, spec.level);
    if (ec != std::errc() || ptr != end) {
      bad_spec(fmt::format("codec spec '{}': level '{}' is not an integer", text, level));
    }
  }
  if (parts.size() > 2) {
    const auto shuffle = shuffle_from_name(parts[2]);
    if (!shuffle) {
      bad_spec(fmt::format("codec spec '{}': shuffle '{}' is not one of {}", text, parts[2],
                           kShuffleNames));
    }
    spec.shuffle = *shuffle;
  }
  return spec;
}

json CodecSpec::to_json() const {
  json j = json::object();
  j["id"] = id;
  if (level != -1) j["level"] = level;
  // blosc-* always say how they shuffle; other codecs only when set to
  // something else, so a codec added to a registry keeps what it was given.
  if (is_blosc(id) || shuffle != Shuffle::byte)
    j["shuffle"] = std::string(larder::codec::to_string(shuffle));
  if (is_blosc(id) || typesize != 1) j["typesize"] = typesize;
  if (block_size != 0) j["block_size"] = block_size;
  if (!format.empty()) j["format"] = format;
  return j;
}

bool CodecSpec::shuffles_itself() const {
  return is_blosc(id) || id == "bitshuffle";
}

std::string CodecSpec::to_string() const {
  const bool show_shuffle = shuffle != Shuffle::byte || (is_blosc(id) && level != -1);
  std::string text = id;
  if (level != -1 || show_shuffle) text += ':';
  if (level != -1) text += std::to_string(level);
  if (show_shuffle) {
    text += ':';
    text += larder::codec::to_string(shuffle);
  }
  return text;
}

}  // namespace larder::codec
