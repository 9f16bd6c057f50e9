// DType — the element type of an array: kind, item size and byte order.
//
// A small value type (copy freely, compare with ==). It names every type
// larder stores: bool, signed and unsigned integers of 1..8 bytes, float16/32/64,
// complex64/128, fixed-length byte strings of n bytes and variable-length
// strings. It converts to and from numpy's dtype strings ("<f4", "|b1", "|S8",
// "|O" for variable-length strings). Thread-safe: immutable.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace larder {

enum class DTypeKind : std::uint8_t {
  boolean,
  int_,     // signed integer
  uint,     // unsigned integer
  float_,   // IEEE binary16/32/64
  complex,  // pair of floats
  string,   // fixed-length byte string, item_size bytes, NUL padded
  vstring,  // variable-length UTF-8 string; not stored in a flat buffer
};

enum class ByteOrder : std::uint8_t { little, big, not_applicable };

class DType {
 public:
  // The common types, in native (little-endian) byte order.
  static DType boolean() { return {DTypeKind::boolean, 1}; }
  static DType int8() { return {DTypeKind::int_, 1}; }
  static DType int16() { return {DTypeKind::int_, 2}; }
  static DType int32() { return {DTypeKind::int_, 4}; }
  static DType int64() { return {DTypeKind::int_, 8}; }
  static DType uint8() { return {DTypeKind::uint, 1}; }
  static DType uint16() { return {DTypeKind::uint, 2}; }
  static DType uint32() { return {DTypeKind::uint, 4}; }
  static DType uint64() { return {DTypeKind::uint, 8}; }
  static DType float16() { return {DTypeKind::float_, 2}; }
  static DType float32() { return {DTypeKind::float_, 4}; }
  static DType float64() { return {DTypeKind::float_, 8}; }
  static DType complex64() { return {DTypeKind::complex, 8}; }
  static DType complex128() { return {DTypeKind::complex, 16}; }
  static DType string(std::size_t length);  // fixed length in bytes, >= 1
  static DType vstring() { return {DTypeKind::vstring, 0}; }

  // Parses numpy's dtype strings: "<f4", ">i8", "|b1", "|u1", "f8" (native),
  // "|S10", "|O". Also accepts larder's names ("float32", "bool", "string",
  // "vstring", "S10"). Throws Error(invalid_argument) naming the text.
  static DType from_string(std::string_view text);

  DTypeKind kind() const noexcept { return kind_; }
  // Bytes per element; 0 for vstring, whose elements have no fixed size.
  std::size_t item_size() const noexcept { return size_; }
  ByteOrder byte_order() const noexcept { return order_; }
  bool is_native() const noexcept { return order_ != ByteOrder::big; }
  // Fixed size, so elements live in a flat buffer (everything but vstring).
  bool is_fixed_size() const noexcept { return kind_ != DTypeKind::vstring; }
  bool is_numeric() const noexcept;

  // The same type in native byte order.
  DType native() const;
  // The same type in big-endian order (for types with a byte order).
  DType big_endian() const;

  // "float32", "int64", "bool", "complex64", "S10", "vstring".
  std::string name() const;
  // numpy's dtype.str: "<f4", "|b1", "|S10", "|O".
  std::string numpy_str() const;

  friend bool operator==(const DType&, const DType&) = default;

 private:
  DType(DTypeKind kind, std::size_t size);
  DType(DTypeKind kind, std::size_t size, ByteOrder order)
      : kind_(kind), order_(order), size_(size) {}

  DTypeKind kind_;
  ByteOrder order_;
  std::size_t size_;
};

// Reverses the byte order of `count` elements of `item_size` bytes in place
// (complex: each of the two floats separately).
void byteswap(void* data, std::size_t count, const DType& dtype);

// C++ type -> DType, for the typed accessors of Array and ArrayView.
template <class T>
DType dtype_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>)
    return DType::boolean();
  else if constexpr (std::is_same_v<U, std::int8_t>)
    return DType::int8();
  else if constexpr (std::is_same_v<U, std::int16_t>)
    return DType::int16();
  else if constexpr (std::is_same_v<U, std::int32_t>)
    return DType::int32();
  else if constexpr (std::is_same_v<U, std::int64_t>)
    return DType::int64();
  else if constexpr (std::is_same_v<U, std::uint8_t>)
    return DType::uint8();
  else if constexpr (std::is_same_v<U, std::uint16_t>)
    return DType::uint16();
  else if constexpr (std::is_same_v<U, std::uint32_t>)
    return DType::uint32();
  else if constexpr (std::is_same_v<U, std::uint64_t>)
    return DType::uint64();
  else if constexpr (std::is_same_v<U, float>)
    return DType::float32();
  else if constexpr (std::is_same_v<U, double>)
    return DType::float64();
  else if constexpr (std::is_same_v<U, std::complex<float>>)
    return DType::complex64();
  else if constexpr (std::is_same_v<U, std::complex<double>>)
    return DType::complex128();
  else
    static_assert(sizeof(U) == 0, "no larder DType for this C++ type");
}

}  // namespace larder
