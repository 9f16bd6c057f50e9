#include "sidecar.h"

#include <fmt/format.h>

#include <charconv>
#include <complex>
#include <cstring>
#include <limits>

#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/store/element_json.h"

namespace larder::store::mmap {
namespace {

constexpr std::string_view kFormat = "larder-mmap";

[[noreturn]] void corrupt(const std::string& file, const std::string& what) {
  throw Error(ErrorCode::corrupt, fmt::format("bad array sidecar: {}", what), file);
}

const nlohmann::json& field(const nlohmann::json& doc, const char* name, const std::string& file) {
  auto it = doc.find(name);
  if (it == doc.end()) corrupt(file, fmt::format("no \"{}\" field", name));
  return *it;
}

std::uint64_t non_negative(const nlohmann::json& value, const char* what, const std::string& file) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  corrupt(file, fmt::format("{} is {}, not a non-negative integer", what, value.dump()));
}

}  // namespace

std::uint64_t Sidecar::row_bytes() const {
  const auto dims = shape.dims();
  std::uint64_t n = dtype.item_size();
  for (std::size_t a = 1; a < dims.size(); ++a)
    n *= static_cast<std::uint64_t>(dims[a]);
  return n;
}

std::uint64_t Sidecar::rows() const {
  return shape.rank() == 0 ? 1 : static_cast<std::uint64_t>(shape[0]);
}

Sidecar parse_sidecar(std::string_view text, const std::string& file) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) corrupt(file, "not JSON");
  if (!doc.is_object()) corrupt(file, "not a JSON object");
  const auto& format = field(doc, "format", file);
  if (!format.is_string() || format.get<std::string>() != kFormat)
    corrupt(file, fmt::format("format is {}, not \"{}\"", format.dump(), kFormat));
  const auto& version = field(doc, "version", file);
  if (!version.is_number_integer() || version.get<std::int64_t>() < 1 ||
      version.get<std::int64_t>() > kSidecarVersion)
    corrupt(file, fmt::format("version {} is not 1 or {}", version.dump(), kSidecarVersion));
  const auto& kind = field(doc, "kind", file);
  if (!kind.is_string() || kind.get<std::string>() != "array")
    corrupt(file, fmt::format("kind is {}, not \"array\"", kind.dump()));

  Sidecar s;
  s.version = static_cast<int>(version.get<std::int64_t>());
  if (s.version >= 2) {
    s.commit_sequence = non_negative(field(doc, "commit_sequence", file), "commit_sequence", file);
  }
  const auto& dtype = field(doc, "dtype", file);
  if (!dtype.is_string()) corrupt(file, fmt::format("dtype is {}, not a string", dtype.dump()));
  try {
    s.dtype = DType::from_string(dtype.get<std::string>());
  } catch (const Error& e) {
    corrupt(file, e.message());
  }
  if (!s.dtype.is_fixed_size() || s.dtype.item_size() == 0)
    corrupt(file, fmt::format("dtype {} has no fixed size", dtype.dump()));

  const auto& shape = field(doc, "shape", file);
  if (!shape.is_array() || shape.size() > 32)
    corrupt(file, fmt::format("shape is {}, not a list of at most 32 extents", shape.dump()));
  // Row bytes first, then rows x row bytes: neither may pass kMaxArrayBytes.
  std::vector<std::int64_t> dims;
  for (const auto& extent : shape) {
    const std::uint64_t n = non_negative(extent, "a shape extent", file);
    if (n > kMaxArrayBytes) corrupt(file, fmt::format("shape {} is too large", shape.dump()));
    dims.push_back(static_cast<std::int64_t>(n));
  }
  std::uint64_t bytes = s.dtype.item_size();
  for (std::size_t a = dims.empty() ? 0 : 1; a <= dims.size(); ++a) {
    const auto n =
        static_cast<std::uint64_t>(a == dims.size() ? (dims.empty() ? 1 : dims[0]) : dims[a]);
    if (n != 0 && bytes > kMaxArrayBytes / n)
      corrupt(file, fmt::format("shape {} holds more than 2^60 bytes", shape.dump()));
    bytes *= n;
  }
  s.shape = Shape(std::move(dims));
  const std::uint64_t length = non_negative(field(doc, "length", file), "length", file);
  if (length != s.rows())
    corrupt(file, fmt::format("length {} does not match shape {}", length, s.shape.to_string()));

  const auto& extendable = field(doc, "extendable", file);
  if (!extendable.is_boolean()) corrupt(file, "extendable is not true or false");
  s.extendable = extendable.get<bool>();
  if (s.extendable && s.shape.rank() == 0) corrupt(file, "a scalar array cannot be extendable");
  s.fill_value = doc.value("fill_value", nlohmann::json());
  try {
    element_from_json(s.dtype, s.fill_value);
  } catch (const Error& e) {
    corrupt(file, e.message());
  }

  const auto& checksum = field(doc, "checksum", file);
  if (!checksum.is_object()) corrupt(file, "checksum is not an object");
  const auto& algorithm = field(checksum, "algorithm", file);
  if (!algorithm.is_string() || algorithm.get<std::string>() != "xxh3-64")
    corrupt(file, fmt::format("checksum algorithm {} is not \"xxh3-64\"", algorithm.dump()));
  s.block_bytes = non_negative(field(checksum, "block_bytes", file), "block_bytes", file);
  if (s.block_bytes < 4096 || s.block_bytes > (std::uint64_t{1} << 30))
    corrupt(file, fmt::format("block_bytes {} is outside 4096 .. 2^30", s.block_bytes));
  const auto& blocks = field(checksum, "blocks", file);
  if (!blocks.is_array()) corrupt(file, "checksum blocks is not a list");
  const std::uint64_t wanted = (s.committed_bytes() + s.block_bytes - 1) / s.block_bytes;
  if (blocks.size() != wanted)
    corrupt(file, fmt::format("{} block checksums for {} committed bytes (want {})", blocks.size(),
                              s.committed_bytes(), wanted));
  s.checksums.reserve(blocks.size());
  for (const auto& b : blocks) {
    const std::string hex = b.is_string() ? b.get<std::string>() : std::string();
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
    if (hex.size() != 16 || ec != std::errc() || end != hex.data() + hex.size())
      corrupt(file, fmt::format("block checksum {} is not 16 hex digits", b.dump()));
    s.checksums.push_back(v);
  }

  s.attrs = doc.value("attrs", nlohmann::json::object());
  s.array_attrs = doc.value("array_attrs", nlohmann::json::object());
  if (!s.attrs.is_object() || !s.array_attrs.is_object())
    corrupt(file, "attrs or array_attrs is not an object");
  return s;
}

std::string format_sidecar(const Sidecar& s) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const std::uint64_t c : s.checksums)
    blocks.push_back(hex64(c));
  const nlohmann::json doc{
      {"format", kFormat},
      {"version", kSidecarVersion},
      {"kind", "array"},
      {"commit_sequence", s.commit_sequence},
      {"dtype", s.dtype.numpy_str()},
      {"shape", std::vector<std::int64_t>(s.shape.begin(), s.shape.end())},
      {"length", s.rows()},
      {"extendable", s.extendable},
      {"fill_value", s.fill_value},
      {"checksum", {{"algorithm", "xxh3-64"}, {"block_bytes", s.block_bytes}, {"blocks", blocks}}},
      {"attrs", s.attrs},
      {"array_attrs", s.array_attrs}};
  return doc.dump(1) + "\n";
}

std::vector<std::uint64_t> block_checksums(std::span<const std::byte> bytes,
                                           std::uint64_t block_bytes) {
  std::vector<std::uint64_t> out;
  for (std::size_t at = 0; at < bytes.size(); at += block_bytes)
    out.push_back(
        xxh3_64(bytes.subspan(at, std::min<std::size_t>(block_bytes, bytes.size() - at))));
  return out;
}

}  // namespace larder::store::mmap
