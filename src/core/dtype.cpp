#include "larder/core/dtype.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "larder/core/error.h"

namespace larder {
namespace {

constexpr ByteOrder order_for(DTypeKind kind, std::size_t size) {
  if (kind == DTypeKind::string || kind == DTypeKind::vstring) return ByteOrder::not_applicable;
  if (kind == DTypeKind::boolean || size == 1) return ByteOrder::not_applicable;
  return ByteOrder::little;
}

bool valid_size(DTypeKind kind, std::size_t size) {
  switch (kind) {
    case DTypeKind::boolean:
      return size == 1;
    case DTypeKind::int_:
    case DTypeKind::uint:
      return size == 1 || size == 2 || size == 4 || size == 8;
    case DTypeKind::float_:
      return size == 2 || size == 4 || size == 8;
    case DTypeKind::complex:
      return size == 8 || size == 16;
    case DTypeKind::string:
      return size >= 1;
    case DTypeKind::vstring:
      return size == 0;
  }
  return false;
}

[[noreturn]] void bad_dtype(std::string_view text, std::string_view why) {
  throw Error(ErrorCode::invalid_argument, fmt::format("cannot read dtype '{}': {}", text, why));
}

// The named forms: "float32", "bool", "S10", "string", ...
bool parse_name(std::string_view text, DType& out) {
  struct Named {
    std::string_view name;
    DType (*make)();
  };
  static constexpr Named names[] = {
      {"bool", DType::boolean},        {"int8", DType::int8},
      {"int16", DType::int16},         {"int32", DType::int32},
      {"int64", DType::int64},         {"uint8", DType::uint8},
      {"uint16", DType::uint16},       {"uint32", DType::uint32},
      {"uint64", DType::uint64},       {"float16", DType::float16},
      {"float32", DType::float32},     {"float64", DType::float64},
      {"complex64", DType::complex64}, {"complex128", DType::complex128},
      {"vstring", DType::vstring},     {"str", DType::vstring},
      {"object", DType::vstring},
  };
  for (const auto& n : names) {
    if (n.name == text) {
      out = n.make();
      return true;
    }
  }
  return false;
}

}  // namespace

DType::DType(DTypeKind kind, std::size_t size)
    : kind_(kind), order_(order_for(kind, size)), size_(size) {}

DType DType::string(std::size_t length) {
  if (length == 0) {
    throw Error(ErrorCode::invalid_argument, "a fixed-length string dtype needs at least 1 byte");
  }
  return {DTypeKind::string, length};
}

DType DType::from_string(std::string_view text) {
  DType named = DType::boolean();
  if (parse_name(text, named)) return named;
  if (text.empty()) bad_dtype(text, "empty");

  std::string_view rest = text;
  ByteOrder order = ByteOrder::little;  // larder runs on little-endian hosts only
  bool explicit_order = false;
  switch (rest.front()) {
    case '<':
    case '=':
      rest.remove_prefix(1);
      explicit_order = true;
      break;
    case '>':
      order = ByteOrder::big;
      rest.remove_prefix(1);
      explicit_order = true;
      break;
    case '|':
      order = ByteOrder::not_applicable;
      rest.remove_prefix(1);
      explicit_order = true;
      break;
    default:
      break;
  }
  if (rest.empty()) bad_dtype(text, "no type code after the byte order");

  const char code = rest.front();
  rest.remove_prefix(1);
  if (code == 'O') {
    if (!rest.empty()) bad_dtype(text, "'O' takes no size");
    return vstring();
  }

  std::size_t size = 0;
  if (!rest.empty()) {
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), size);
    if (ec != std::errc() || end != rest.data() + rest.size()) {
      bad_dtype(text, "the size is not a whole number");
    }
  }

  DTypeKind kind;
  switch (code) {
    case 'b':
    case '?':
      kind = DTypeKind::boolean;
      if (rest.empty()) size = 1;
      break;
    case 'i':
      kind = DTypeKind::int_;
      break;
    case 'u':
      kind = DTypeKind::uint;
      break;
    case 'f':
      kind = DTypeKind::float_;
      break;
    case 'c':
      kind = DTypeKind::complex;
      break;
    case 'S':
    case 'a':
      kind = DTypeKind::string;
      break;
    case 'U':
      bad_dtype(text,
                "numpy unicode (UCS-4) strings are not stored; use 'S' bytes or 'O' (vstring)");
    default:
      bad_dtype(text, fmt::format("unknown type code '{}'", code));
  }
  if (rest.empty() && kind != DTypeKind::boolean) bad_dtype(text, "missing item size");
  if (!valid_size(kind, size)) bad_dtype(text, fmt::format("no such size: {} bytes", size));

  DType result(kind, size);
  // '|' on a multi-byte number means "no order" in numpy only for 1-byte types;
  // accept it as native. A '>' on a 1-byte type or a string has no effect.
  if (explicit_order && order == ByteOrder::big && result.order_ == ByteOrder::little) {
    result.order_ = ByteOrder::big;
  }
  return result;
}

bool DType::is_numeric() const noexcept {
  return kind_ == DTypeKind::boolean || kind_ == DTypeKind::int_ || kind_ == DTypeKind::uint ||
         kind_ == DTypeKind::float_ || kind_ == DTypeKind::complex;
}

DType DType::native() const {
  return DType(kind_, size_);
}

DType DType::big_endian() const {
  DType result(kind_, size_);
  if (result.order_ == ByteOrder::little) result.order_ = ByteOrder::big;
  return result;
}

std::string DType::name() const {
  switch (kind_) {
    case DTypeKind::boolean:
      return "bool";
    case DTypeKind::int_:
      return fmt::format("int{}", size_ * 8);
    case DTypeKind::uint:
      return fmt::format("uint{}", size_ * 8);
    case DTypeKind::float_:
      return fmt::format("float{}", size_ * 8);
    case DTypeKind::complex:
      return fmt::format("complex{}", size_ * 8);
    case DTypeKind::string:
      return fmt::format("S{}", size_);
    case DTypeKind::vstring:
      return "vstring";
  }
  return "?";
}

std::string DType::numpy_str() const {
  const char order = order_ == ByteOrder::little ? '<' : order_ == ByteOrder::big ? '>' : '|';
  switch (kind_) {
    case DTypeKind::boolean:
      return "|b1";
    case DTypeKind::int_:
      return fmt::format("{}i{}", order, size_);
    case DTypeKind::uint:
      return fmt::format("{}u{}", order, size_);
    case DTypeKind::float_:
      return fmt::format("{}f{}", order, size_);
    case DTypeKind::complex:
      return fmt::format("{}c{}", order, size_);
    case DTypeKind::string:
      return fmt::format("|S{}", size_);
    case DTypeKind::vstring:
      return "|O";
  }
  return "?";
}

void byteswap(void* data, std::size_t count, const DType& dtype) {
  if (dtype.byte_order() == ByteOrder::not_applicable) return;
  const std::size_t width =
      dtype.kind() == DTypeKind::complex ? dtype.item_size() / 2 : dtype.item_size();
  const std::size_t words = dtype.kind() == DTypeKind::complex ? count * 2 : count;
  auto* bytes = static_cast<unsigned char*>(data);
  for (std::size_t i = 0; i < words; ++i) {
    std::reverse(bytes + i * width, bytes + (i + 1) * width);
  }
}

}  // namespace larder
