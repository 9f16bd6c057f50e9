// combine() — one field gathered from every state of a parameter space into
// one N-D array with dims (sweep dims..., data dims...) and coordinates, as
// dantro's ParamSpaceGroup.select does; write_combined() stores the result
// in any store (the stored form is docs/formats/selection.md).
//
// The caller supplies the field of each point (loading it lazily); each is
// copied into the result once, straight. Not thread-safe per call: field_of
// is called from the calling thread, point after point in state order.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/array.h"
#include "larder/store/group.h"
#include "larder/tree/pspace.h"

namespace larder::tree {

enum class CombineMethod {
  concat,  // every state present, same shape and dtype
  merge,   // missing states become NaN (ints and bools promoted to float64)
};

struct Coordinate {
  std::string dim;
  Value values;  // a list: the active values of a sweep dim; 0..n-1 for a data dim
};

struct Combined {
  Array values = Array::empty(DType::float64(), Shape{0});
  std::vector<std::string> dims;
  std::vector<Coordinate> coords;  // one per dim, in dims' order
};

// For every point of `space` (its subspace, if masked), field_of(point)
// gives the field's array or nullopt when that state lacks it. Data dims are
// named by `data_dims` when given (one per axis of the field), else dim_0,
// dim_1, ... concat: Error(not_found) naming the state and the field for a
// missing state; Error(invalid_argument) naming the state when shape or
// dtype differ from the first state's. merge: shapes and dtypes must agree
// as for concat; missing states are NaN, the result float64 unless the field
// is already a float type; Error(unsupported) naming the missing state for
// a field that cannot hold NaN (complex, strings); Error(not_found) when no
// state has the field. Data dims are checked against the first state that
// has the field, before any other is read.
Combined combine(const ParamSpace& space, std::string_view field,
                 const std::function<std::optional<Array>(const Point&)>& field_of,
                 CombineMethod method, std::vector<std::string> data_dims = {});
// The same over `points`, space.points() as the caller has them already.
Combined combine(const ParamSpace& space, const std::vector<Point>& points, std::string_view field,
                 const std::function<std::optional<Array>(const Point&)>& field_of,
                 CombineMethod method, std::vector<std::string> data_dims = {});

// "concat" / "merge", and back (Error(invalid_argument) naming the text).
std::string_view to_string(CombineMethod method);
CombineMethod combine_method(std::string_view text);

// Writes the values as the dataset `path` under `parent`, with attributes
// "dims" (list of names) and per dim "coords__<dim>" (its coordinate values)
// and "coords_mode__<dim>" = "values": dantro's XrDataContainer convention,
// which h5py reads as plain arrays and lists.
void write_combined(store::Group& parent, std::string_view path, const Combined& combined);

}  // namespace larder::tree
