// Array — an owning, C-ordered, 64-byte aligned N-D array of a fixed-size dtype.
//
// Array is move-only: copying data is explicit (clone()). Its buffer is held
// by a shared_ptr so that a consumer — a numpy array in Python, a chunk in
// flight — can keep the memory alive after the Array is gone (buffer()).
// An Array may also adopt memory it did not allocate (adopt()), e.g. a numpy
// array's, releasing it through the given deleter. An Array adopted read-only
// (a view of a read-only file mapping) refuses mutable_view() and values<T>()
// on a non-const lvalue: read it through a const Array; writing through
// data() there faults. Not thread-safe for concurrent writes; concurrent
// reads are fine.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "larder/core/array_view.h"
#include "larder/core/dtype.h"
#include "larder/core/selection.h"
#include "larder/core/shape.h"

namespace larder {

class Array {
 public:
  // Uninitialised contents.
  static Array empty(DType dtype, Shape shape);
  static Array zeros(DType dtype, Shape shape);
  // A C-ordered copy of any (strided) view.
  static Array copy_of(ArrayView view);
  // Takes over a C-ordered buffer of dtype.item_size() * shape.num_elements()
  // bytes; `data`'s deleter runs when the last owner lets go.
  static Array adopt(DType dtype, Shape shape, std::shared_ptr<std::byte> data);
  // As adopt(), for memory that must not be written: read_only() is true.
  static Array adopt_read_only(DType dtype, Shape shape, std::shared_ptr<std::byte> data);
  // A 1-D array of the given values.
  template <class T>
  static Array from_values(std::span<const T> values);

  Array(Array&&) noexcept = default;
  Array& operator=(Array&&) noexcept = default;
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;

  Array clone() const { return copy_of(view()); }  // writable

  // The buffer must not be written (see adopt_read_only()).
  bool read_only() const noexcept { return read_only_; }

  const DType& dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  std::size_t rank() const noexcept { return shape_.rank(); }
  std::int64_t num_elements() const noexcept { return shape_.num_elements(); }
  std::size_t nbytes() const noexcept {
    return static_cast<std::size_t>(num_elements()) * dtype_.item_size();
  }

  std::byte* data() noexcept { return data_.get(); }
  const std::byte* data() const noexcept { return data_.get(); }
  std::span<std::byte> bytes() noexcept { return {data_.get(), nbytes()}; }
  std::span<const std::byte> bytes() const noexcept { return {data_.get(), nbytes()}; }
  // Shares ownership of the buffer (for keep-alive across faces).
  std::shared_ptr<std::byte> buffer() const noexcept { return data_; }

  ArrayView view() const { return ArrayView(data_.get(), dtype_, shape_); }
  // Error(invalid_argument) for a read-only array.
  MutableArrayView mutable_view();
  operator ArrayView() const { return view(); }  // NOLINT: implicit by design

  template <class T>
  std::span<const T> values() const& {
    return view().values<T>();
  }
  // Error(invalid_argument) for a read-only array.
  template <class T>
  std::span<T> values() & {
    return mutable_view().values<T>();
  }
  // A temporary's values are for reading (ds->read().values<double>()[0]),
  // whether or not it is read-only; valid until the end of the expression.
  template <class T>
  std::span<const T> values() && {
    return view().values<T>();
  }

  // The same elements under a new shape with the same element count.
  Array reshaped(Shape shape) &&;

 private:
  Array(DType dtype, Shape shape, std::shared_ptr<std::byte> data)
      : dtype_(dtype), shape_(std::move(shape)), data_(std::move(data)) {}

  DType dtype_;
  Shape shape_;
  std::shared_ptr<std::byte> data_;
  bool read_only_ = false;
};

template <class T>
Array Array::from_values(std::span<const T> values) {
  Array a = empty(dtype_of<T>(), Shape{static_cast<std::int64_t>(values.size())});
  if (!values.empty()) std::memcpy(a.data(), values.data(), values.size_bytes());
  return a;
}

// Reads the selected elements of `source` into a new C-ordered array.
Array take(ArrayView source, const Selection& selection);

// Writes `values` into the selected elements of `target`. `values` has the
// selection's result shape, or a single element that is broadcast.
void put(MutableArrayView target, const Selection& selection, ArrayView values);

// `values` (of `dtype` in either byte order) packed in C order in `dtype`'s
// byte order. When they already are, no copy: the result borrows the
// caller's memory and is valid while it is; else it owns a converted copy.
Array packed_as(ArrayView values, const DType& dtype);

}  // namespace larder
