// Shape — the extent of each axis of an array, outermost first (C order).
//
// A value type; rank 0 is a scalar with one element. Construction checks
// that every extent is >= 0 and that the element count fits in int64.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace larder {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::vector<std::int64_t> dims);
  explicit Shape(std::span<const std::int64_t> dims);

  std::size_t rank() const noexcept { return dims_.size(); }
  std::int64_t operator[](std::size_t axis) const { return dims_.at(axis); }
  std::span<const std::int64_t> dims() const noexcept { return dims_; }
  auto begin() const noexcept { return dims_.begin(); }
  auto end() const noexcept { return dims_.end(); }

  // Product of the extents (1 for a scalar).
  std::int64_t num_elements() const noexcept { return count_; }

  // The same shape with axis `axis` set to `extent`.
  Shape with(std::size_t axis, std::int64_t extent) const;
  // The shape without its first axis (the shape of one row).
  Shape without_first() const;
  // "(3, 4)", "(5,)", "()" — as numpy prints shapes.
  std::string to_string() const;

  friend bool operator==(const Shape& a, const Shape& b) { return a.dims_ == b.dims_; }

 private:
  void validate();

  std::vector<std::int64_t> dims_;
  std::int64_t count_ = 1;
};

// Byte strides of a C-ordered array of this shape.
std::vector<std::int64_t> c_strides(const Shape& shape, std::size_t item_size);

}  // namespace larder
