// Selection — which elements of an N-D array to read or write, axis by axis.
//
// Each axis takes one of: everything; a single index (the axis is dropped
// from the result, as in numpy); a slice start:stop:step (negative steps and
// negative bounds follow numpy); a list of indices in any order, with
// repeats; or a boolean mask as long as the axis. An ellipsis stands for as
// many "everything" axes as needed; missing trailing axes are "everything".
// A Selection is a value; resolve() checks it against a shape and throws
// Error(out_of_range) naming the axis, the index and the extent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "larder/core/shape.h"

namespace larder {

struct Slice {
  std::optional<std::int64_t> start;
  std::optional<std::int64_t> stop;
  std::int64_t step = 1;  // never 0
};

class AxisSelection {
 public:
  struct All {};
  struct Ellipsis {};
  struct Index {
    std::int64_t value;
  };
  struct IndexList {
    std::vector<std::int64_t> values;
  };
  struct Mask {
    std::vector<bool> values;
  };

  static AxisSelection all() { return AxisSelection(All{}); }
  static AxisSelection ellipsis() { return AxisSelection(Ellipsis{}); }
  static AxisSelection index(std::int64_t i) { return AxisSelection(Index{i}); }
  static AxisSelection slice(std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                             std::int64_t step = 1);
  static AxisSelection indices(std::vector<std::int64_t> list) {
    return AxisSelection(IndexList{std::move(list)});
  }
  static AxisSelection mask(std::vector<bool> mask) { return AxisSelection(Mask{std::move(mask)}); }

  using Variant = std::variant<All, Ellipsis, Index, Slice, IndexList, Mask>;
  const Variant& get() const noexcept { return value_; }
  std::string to_string() const;

 private:
  explicit AxisSelection(Variant v) : value_(std::move(v)) {}
  Variant value_;
};

// One axis of a selection checked against its extent: either a regular
// pattern start + k*step for k in [0, count), or an explicit index list.
struct ResolvedAxis {
  std::int64_t count = 0;
  std::int64_t start = 0;
  std::int64_t step = 1;
  std::vector<std::int64_t> list;  // used when is_list
  bool is_list = false;
  bool drops_axis = false;  // a single index: the axis vanishes from the result

  std::int64_t source_index(std::int64_t k) const noexcept {
    return is_list ? list[static_cast<std::size_t>(k)] : start + k * step;
  }
};

class Selection {
 public:
  Selection() = default;  // everything
  Selection(std::initializer_list<AxisSelection> axes) : axes_(axes) {}
  explicit Selection(std::vector<AxisSelection> axes) : axes_(std::move(axes)) {}

  // numpy's text form: "10:20, ::2", "[5, 1, 5]", "3, ...", "::-1". Throws
  // Error(invalid_argument) naming the text and the position of the fault.
  static Selection parse(std::string_view text);

  const std::vector<AxisSelection>& axes() const noexcept { return axes_; }

  // One ResolvedAxis per axis of `shape`.
  std::vector<ResolvedAxis> resolve(const Shape& shape) const;
  // The shape of what this selection reads from an array of `shape`.
  Shape result_shape(const Shape& shape) const;

  std::string to_string() const;

 private:
  std::vector<AxisSelection> axes_;
};

// Shape of the result from already resolved axes.
Shape result_shape(const std::vector<ResolvedAxis>& axes);

}  // namespace larder
