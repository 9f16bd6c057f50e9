#include "metadata.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>

#include "larder/codec/registry.h"
#include "larder/core/error.h"
#include "larder/store/element_json.h"

namespace larder::store::zarr {
namespace {

using nlohmann::json;

// Python's non-finite tokens travel through nlohmann::json as these strings
// (a control character first: no name or value of zarr's starts with one).
constexpr std::string_view kNanMarker = "\x01larder:NaN";
constexpr std::string_view kInfMarker = "\x01larder:Infinity";
constexpr std::string_view kNegInfMarker = "\x01larder:-Infinity";

// The text with bare NaN / Infinity / -Infinity outside strings replaced by
// quoted markers.
std::string mark_non_finite(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    const auto replace = [&](std::string_view token, std::string_view marker) {
      if (text.substr(i, token.size()) != token) return false;
      out += fmt::format("\"\\u0001{}\"", marker.substr(1));
      i += token.size() - 1;
      return true;
    };
    if (replace("NaN", kNanMarker) || replace("Infinity", kInfMarker) ||
        replace("-Infinity", kNegInfMarker))
      continue;
    out.push_back(c);
  }
  return out;
}

void unmark(json& value) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    double number = 0;  // `s` dies when `value` is assigned: decide first
    if (s == kNanMarker) {
      number = std::numeric_limits<double>::quiet_NaN();
    } else if (s == kInfMarker) {
      number = std::numeric_limits<double>::infinity();
    } else if (s == kNegInfMarker) {
      number = -std::numeric_limits<double>::infinity();
    } else {
      return;
    }
    value = number;
  } else if (value.is_structured()) {
    for (auto& item : value)
      unmark(item);
  }
}

void mark(json& value) {
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isnan(d)) value = std::string(kNanMarker);
    if (std::isinf(d)) value = std::string(d > 0 ? kInfMarker : kNegInfMarker);
  } else if (value.is_structured()) {
    for (auto& item : value)
      mark(item);
  }
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
}

// ---- base64 (RFC 4648, with padding), for S fill values ----

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::span<const std::byte> bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = std::to_integer<std::uint32_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= std::to_integer<std::uint32_t>(bytes[i + 2]);
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kBase64[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kBase64[v & 63] : '=');
  }
  return out;
}

std::optional<std::vector<std::byte>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<std::byte> out;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v = 0;
    int pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      int d = 0;
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++pad;
      } else if (const char* p = std::strchr(kBase64, c); p != nullptr && c != '\0' && pad == 0) {
        d = static_cast<int>(p - kBase64);
      } else {
        return std::nullopt;
      }
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    out.push_back(static_cast<std::byte>(v >> 16));
    if (pad < 2) out.push_back(static_cast<std::byte>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<std::byte>(v & 0xff));
  }
  return out;
}

// A float fill: a number or one of zarr's strings for the non-finite ones.
std::optional<double> float_fill(const json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

json float_to_zarr(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

// The numpy type code of a dtype string ("<U5" -> 'U'), if it has one.
char type_code(std::string_view text) {
  if (!text.empty() && (text[0] == '<' || text[0] == '>' || text[0] == '|' || text[0] == '='))
    text.remove_prefix(1);
  return text.empty() ? '\0' : text[0];
}

}  // namespace

std::int64_t ArrayMetadata::chunk_elements() const {
  std::int64_t n = 1;
  for (const std::int64_t c : chunks)
    n *= c;
  return n;
}

std::vector<std::int64_t> ArrayMetadata::grid() const {
  std::vector<std::int64_t> out(chunks.size());
  for (std::size_t a = 0; a < chunks.size(); ++a)
    out[a] = (shape[a] + chunks[a] - 1) / chunks[a];
  return out;
}

json parse_json(std::string_view text, const std::string& file) {
  json doc;
  try {
    doc = json::parse(mark_non_finite(text));
  } catch (const json::exception& e) {
    throw Error(ErrorCode::corrupt, fmt::format("not valid JSON: {}", e.what()), file);
  }
  unmark(doc);
  return doc;
}

std::string dump_json(const json& value) {
  json marked = value;
  mark(marked);
  std::string text = marked.dump(4, ' ', true);
  replace_all(text, "\"\\u0001larder:NaN\"", "NaN");
  replace_all(text, "\"\\u0001larder:Infinity\"", "Infinity");
  replace_all(text, "\"\\u0001larder:-Infinity\"", "-Infinity");
  return text + "\n";
}

json fill_to_zarr(const DType& dtype, std::span<const std::byte> element) {
  switch (dtype.kind()) {
    case DTypeKind::string: {
      std::size_t n = element.size();
      while (n > 0 && element[n - 1] == std::byte{0})
        --n;  // numpy drops trailing NULs, so zarr-python encodes without them
      return base64_encode(element.first(n));
    }
    case DTypeKind::float_:
      return float_to_zarr(element_to_json(dtype, element.data()).get<double>());
    case DTypeKind::complex: {
      const json pair = element_to_json(dtype, element.data());
      return json::array(
          {float_to_zarr(pair[0].get<double>()), float_to_zarr(pair[1].get<double>())});
    }
    case DTypeKind::vstring:
      return "";
    default:
      return element_to_json(dtype, element.data());
  }
}

std::vector<std::byte> fill_from_zarr(const DType& dtype, const json& value) {
  std::vector<std::byte> out(dtype.item_size(), std::byte{0});
  if (value.is_null()) return out;
  const auto bad = [&] {
    return Error(ErrorCode::corrupt, fmt::format("fill_value {} does not fit dtype {}",
                                                 value.dump(), dtype.numpy_str()));
  };
  json larder_value;  // what element_from_json takes
  switch (dtype.kind()) {
    case DTypeKind::boolean:
      if (!value.is_boolean() && !value.is_number_integer()) throw bad();
      larder_value = value;
      break;
    case DTypeKind::int_:
    case DTypeKind::uint: {
      json v = value;
      if (v.is_number_float()) {  // 3.0: an integer all the same
        const double d = v.get<double>();
        if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9.2e18) throw bad();
        v = static_cast<std::int64_t>(d);
      }
      if (!v.is_number_integer()) throw bad();
      const unsigned bits = 8 * static_cast<unsigned>(dtype.item_size());
      if (dtype.kind() == DTypeKind::uint) {
        if (!v.is_number_unsigned() && v.get<std::int64_t>() < 0) throw bad();
        const auto u = v.get<std::uint64_t>();
        if (bits < 64 && u >> bits != 0) throw bad();
      } else {
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) throw bad();
        const auto i = v.get<std::int64_t>();
        if (bits < 64 &&
            (i < -(std::int64_t{1} << (bits - 1)) || i >= (std::int64_t{1} << (bits - 1))))
          throw bad();
      }
      larder_value = v;
      break;
    }
    case DTypeKind::float_: {
      const auto v = float_fill(value);
      if (!v) throw bad();
      larder_value = *v;
      break;
    }
    case DTypeKind::complex: {
      const auto pair = value.is_array() && value.size() == 2
                            ? std::pair{float_fill(value[0]), float_fill(value[1])}
                            : std::pair{float_fill(value), std::optional<double>(0.0)};
      if (!pair.first || !pair.second) throw bad();
      larder_value = json::array({*pair.first, *pair.second});
      break;
    }
    case DTypeKind::string: {
      if (value.is_number_integer() && value.get<std::int64_t>() == 0) return out;
      if (!value.is_string()) throw bad();
      const auto bytes = base64_decode(value.get_ref<const std::string&>());
      if (!bytes || bytes->size() > out.size()) throw bad();
      std::copy(bytes->begin(), bytes->end(), out.begin());
      return out;
    }
    case DTypeKind::vstring:
      return out;
  }
  try {
    return element_from_json(dtype, larder_value);
  } catch (const Error&) {
    throw bad();
  }
}

ArrayMetadata parse_array_metadata(std::string_view text, const std::string& file) {
  const auto fail = [&](ErrorCode code, const std::string& what) {
    return Error(code, what, file);
  };
  const auto bad = [&](const std::string& what) { return fail(ErrorCode::corrupt, what); };
  ArrayMetadata meta;
  meta.document = parse_json(text, file);
  const json& doc = meta.document;
  if (!doc.is_object()) throw bad("not a JSON object");
  const auto field = [&](const char* key) -> const json& {
    const auto it = doc.find(key);
    if (it == doc.end()) throw bad(fmt::format("no \"{}\"", key));
    return *it;
  };

  const json& format = field("zarr_format");
  if (!format.is_number_integer())
    throw bad(fmt::format("zarr_format {} is not an integer", format.dump()));
  if (format.get<std::int64_t>() != 2) {
    throw fail(ErrorCode::unsupported,
               fmt::format("zarr_format {}: larder reads zarr v2 arrays", format.dump()));
  }

  // Extents of shape and chunks: integers, at most 2^62 each.
  const auto extents = [&](const char* key, std::int64_t min) {
    const json& list = field(key);
    if (!list.is_array()) throw bad(fmt::format("{} {} is not a list", key, list.dump()));
    std::vector<std::int64_t> out;
    for (const json& d : list) {
      // Unsigned above 2^63 would wrap: compare as unsigned first.
      const bool ok =
          d.is_number_integer() &&
          (!d.is_number_unsigned() || d.get<std::uint64_t>() <= (std::uint64_t{1} << 62)) &&
          d.get<std::int64_t>() >= min;
      if (!ok) {
        throw bad(fmt::format("{} {} holds {}, not an integer of at least {}", key, list.dump(),
                              d.dump(), min));
      }
      out.push_back(d.get<std::int64_t>());
    }
    return out;
  };
  const std::vector<std::int64_t> dims = extents("shape", 0);
  meta.chunks = extents("chunks", 1);
  if (meta.chunks.size() != dims.size()) {
    throw bad(fmt::format("chunks {} and shape {} differ in rank", field("chunks").dump(),
                          field("shape").dump()));
  }
  try {
    meta.shape = Shape(dims);
  } catch (const Error& e) {
    throw bad(fmt::format("shape {}: {}", field("shape").dump(), e.message()));
  }

  const json& dtype = field("dtype");
  if (dtype.is_array()) {
    throw fail(ErrorCode::unsupported,
               fmt::format("structured dtype {} is not one larder reads", dtype.dump()));
  }
  if (!dtype.is_string()) throw bad(fmt::format("dtype {} is not a string", dtype.dump()));
  const std::string& dtype_text = dtype.get_ref<const std::string&>();
  try {
    meta.dtype = DType::from_string(dtype_text);
  } catch (const Error& e) {
    const char code = type_code(dtype_text);
    if (code == 'U' || code == 'M' || code == 'm' || code == 'V') {
      throw fail(ErrorCode::unsupported,
                 fmt::format("dtype \"{}\" is not one larder reads (unicode, datetime and void "
                             "types are not)",
                             dtype_text));
    }
    throw bad(fmt::format("dtype \"{}\": {}", dtype_text, e.message()));
  }
  if (meta.dtype.kind() == DTypeKind::vstring) {
    throw fail(ErrorCode::unsupported,
               fmt::format("dtype \"{}\" (Python objects) is not one larder reads", dtype_text));
  }

  // Chunk bytes, checked before anything multiplies them.
  long double bytes = static_cast<long double>(meta.dtype.item_size());
  for (const std::int64_t c : meta.chunks)
    bytes *= static_cast<long double>(c);
  if (bytes > static_cast<long double>(kMaxChunkBytes)) {
    throw fail(ErrorCode::unsupported,
               fmt::format("chunks {} of dtype {} hold {:.0f} bytes each, more than the {} larder "
                           "reads",
                           field("chunks").dump(), dtype_text, static_cast<double>(bytes),
                           kMaxChunkBytes));
  }

  const json& order = field("order");
  if (order != "C" && order != "F")
    throw bad(fmt::format("order {} is not \"C\" or \"F\"", order.dump()));
  meta.fortran_order = order == "F";

  const json& filters = field("filters");
  if (!filters.is_null() && !filters.is_array())
    throw bad(fmt::format("filters {} is not a list or null", filters.dump()));
  if (filters.is_array() && !filters.empty()) {
    throw fail(ErrorCode::unsupported,
               fmt::format("filters {} are not ones larder applies (it reads arrays without "
                           "filters)",
                           filters.dump()));
  }

  if (const auto it = doc.find("dimension_separator"); it != doc.end() && !it->is_null()) {
    if (*it != "." && *it != "/") {
      throw bad(fmt::format("dimension_separator {} is not \".\" or \"/\"", it->dump()));
    }
    meta.separator = it->get_ref<const std::string&>()[0];
  }

  const json& compressor = field("compressor");
  if (!compressor.is_null() && !compressor.is_object())
    throw bad(fmt::format("compressor {} is not an object or null", compressor.dump()));
  try {
    meta.codec = codec::CodecRegistry::builtin().spec_from_numcodecs(
        compressor, static_cast<int>(std::min<std::size_t>(meta.dtype.item_size(), INT32_MAX)));
  } catch (const Error& e) {
    throw fail(e.code() == ErrorCode::unsupported ? ErrorCode::unsupported : ErrorCode::corrupt,
               fmt::format("compressor: {}", e.message()));
  }

  try {
    meta.fill = fill_from_zarr(meta.dtype, field("fill_value"));
  } catch (const Error& e) {
    throw bad(e.message());
  }
  return meta;
}

std::string format_array_metadata(const ArrayMetadata& meta) {
  json doc = meta.document;
  doc["shape"] = std::vector<std::int64_t>(meta.shape.begin(), meta.shape.end());
  return dump_json(doc);
}

ArrayMetadata new_array_metadata(const DType& dtype, const Shape& shape,
                                 std::vector<std::int64_t> chunks, const codec::CodecSpec& codec,
                                 const json& compressor, std::vector<std::byte> fill,
                                 char separator) {
  ArrayMetadata meta;
  meta.dtype = dtype;
  meta.shape = shape;
  meta.chunks = std::move(chunks);
  meta.codec = codec;
  meta.separator = separator;
  meta.document = {{"zarr_format", 2},
                   {"shape", std::vector<std::int64_t>(shape.begin(), shape.end())},
                   {"chunks", meta.chunks},
                   {"dtype", dtype.numpy_str()},
                   {"compressor", compressor},
                   {"fill_value", fill_to_zarr(dtype, fill)},
                   {"order", "C"},
                   {"filters", nullptr},
                   {"dimension_separator", std::string(1, separator)}};
  meta.fill = std::move(fill);
  return meta;
}

std::string chunk_key(std::span<const std::int64_t> coords, char separator) {
  if (coords.empty()) return "0";
  return fmt::format("{}", fmt::join(coords, std::string_view(&separator, 1)));
}

std::optional<std::vector<std::int64_t>> parse_chunk_key(std::string_view key, std::size_t rank,
                                                         char separator) {
  if (rank == 0) return key == "0" ? std::optional(std::vector<std::int64_t>{}) : std::nullopt;
  std::vector<std::int64_t> coords;
  std::size_t pos = 0;
  for (std::size_t a = 0; a < rank; ++a) {
    const std::size_t end = a + 1 < rank ? key.find(separator, pos) : key.size();
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view part = key.substr(pos, end - pos);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || part[0] == '-' || ec != std::errc() || ptr != part.data() + part.size())
      return std::nullopt;
    coords.push_back(v);
    pos = end + 1;
  }
  return coords;
}

}  // namespace larder::store::zarr
