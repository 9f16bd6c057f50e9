// ParamSpace — a parameter sweep as paramspace defines it: a nested mapping
// in which some values are parameter dimensions (!pdim / !sweep) or coupled
// dimensions (!coupled-pdim / !coupled-sweep) that follow another dimension.
//
// Dimensions are ordered by (order, path), the last one varying fastest.
// Each dimension has num_values + 1 states, state 0 being its default, and a
// point's state number is the mixed-radix number of its states (last
// dimension least significant); sweep points are those whose every state is
// >= 1. So a space of two dimensions with 2 and 3 values has the points 5, 6,
// 7, 9, 10, 11 (docs/pspace.md works it through). Subspaces mask values and
// keep the state numbers of the full space. A ParamSpace is an immutable
// value: copy it, read it from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "larder/tree/yaml.h"

namespace larder::tree {

struct ParamDim {
  std::string name;               // unique within its space (paramspace's rule)
  std::vector<std::string> path;  // keys from the space's root; list items as "0", "1", ...
  Value default_value;
  std::vector<Value> values;  // the sweep values, index i has state i + 1
  double order = 0;           // +inf when not given
  std::vector<bool> mask;     // one per value; true: skipped by points()
  // Coupled dimensions only: the index in dims() of the dimension they follow.
  std::optional<std::size_t> target;

  bool coupled() const { return target.has_value(); }
  // Values not masked (1 when every value is masked: the default is used).
  std::int64_t active_size() const;
  // The value at a state: the default for 0, else values[state - 1].
  const Value& value_at(std::int64_t state) const;
};

struct Point {
  std::int64_t state_no = 0;
  std::string state_name;             // zero-padded to the width of max_state_no
  std::vector<std::int64_t> indices;  // the state of each dim (>= 1 but for fully masked dims)
  std::vector<Value> coords;          // the value of each dim at this point
};

class ParamSpace {
 public:
  // From a !pspace node (or !pspace-unsorted) or a plain mapping holding
  // dimensions. Error(invalid_argument) naming `origin`, the dimension's path
  // and the offending key or value for a malformed dimension.
  static ParamSpace from_value(const Value& value, std::string_view origin);

  const std::vector<ParamDim>& dims() const { return dims_; }
  const std::vector<ParamDim>& coupled_dims() const { return coupled_; }
  // The index in dims() of the dimension called `name` (or, when no name
  // matches, whose dotted path is `name`); Error(not_found) listing the
  // names there are.
  std::size_t dim_index(std::string_view name) const;

  std::vector<std::int64_t> shape() const;  // active values per dim
  std::int64_t volume() const;              // product of shape(); 0 without dims
  std::int64_t max_state_no() const;        // product of (num_values + 1) - 1
  std::int64_t state_no(const std::vector<std::int64_t>& indices) const;
  // The active points in state-number order; one point (state 0, the
  // defaults) for a space without dimensions.
  std::vector<Point> points() const;
  // The whole mapping at `point` (one of points()), every dimension resolved.
  Value params_of(const Point& point) const;
  Value default_params() const;

  // The space with only the selected values active (state numbers kept):
  // `selection` maps dim names to a value or list of values, {loc: ...} the
  // same, or {idx: i | [i, ...]} with indices from 1 (0 is the default).
  // Dimensions not named are fully active. Error(not_found) for an unknown
  // dim or a value not in it, Error(out_of_range) for a bad index,
  // Error(invalid_argument) when a dimension would be left with no value.
  ParamSpace subspace(const Value& selection, std::string_view origin) const;

  // The !pspace tagged node (masks included), as paramspace writes it.
  Value to_value() const;

 private:
  Value root_;  // the mapping, dims still as tagged nodes (their specs)
  std::vector<ParamDim> dims_;
  std::vector<ParamDim> coupled_;
  std::string origin_;
};

// Whether `value` is a parameter space node (!pspace or !pspace-unsorted).
bool is_param_space(const Value& value);

// The parameter space node of a document: the node at `key` ("a/b") when
// given (Error(not_found) naming `origin`, the key and the missing part),
// else the document if it is a !pspace, else its first !pspace in document
// order; nullptr when there is none. `where` receives its key.
const Value* find_param_space(const Value& doc, std::string_view key, std::string_view origin,
                              std::string* where = nullptr);

// `state_no` zero-padded to the width of space.max_state_no(), as paramspace
// and dantro name state groups.
std::string state_name(const ParamSpace& space, std::int64_t state_no);

}  // namespace larder::tree
