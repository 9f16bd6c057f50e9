// The combine step: the result is allocated from the first state that has
// the field, and every state's array is copied into its slot (slots follow
// the points' state order, which is C order over the active values). A merge
// that meets its first missing state converts the slots written so far to a
// NaN-holding float type once.
#include "larder/tree/combine.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "larder/core/astype.h"
#include "larder/core/error.h"
#include "larder/store/dataset.h"

namespace larder::tree {
namespace {

// The dtype that holds `dtype`'s values and NaN (the "can hold NaN" rule of
// both paths): a float type itself, float64 for ints and bools;
// Error(unsupported) naming the field, the dtype and the missing state for
// anything else.
DType nan_holder(const DType& dtype, std::string_view field, std::string_view missing_state) {
  if (dtype.kind() == DTypeKind::float_) return dtype.native();
  if (dtype.kind() != DTypeKind::complex && dtype.is_numeric()) return DType::float64();
  throw Error(ErrorCode::unsupported,
              fmt::format("field '{}' of dtype {} cannot hold NaN for the missing {} (merge fills "
                          "missing states with NaN; use concat, or give every state the field)",
                          field, dtype.name(), missing_state));
}

void fill_nan(std::byte* slot, const DType& dtype, std::int64_t count) {
  if (dtype.item_size() == 8) {
    double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::int64_t i = 0; i < count; ++i)
      std::memcpy(slot + i * 8, &nan, 8);
  } else if (dtype.item_size() == 4) {
    float nan = std::numeric_limits<float>::quiet_NaN();
    for (std::int64_t i = 0; i < count; ++i)
      std::memcpy(slot + i * 4, &nan, 4);
  } else {
    std::uint16_t nan = 0x7e00;  // IEEE binary16 quiet NaN
    for (std::int64_t i = 0; i < count; ++i)
      std::memcpy(slot + i * 2, &nan, 2);
  }
}

Value coords_of(const ParamDim& dim) {
  Value out = Value::array();
  for (std::size_t i = 0; i < dim.values.size(); ++i)
    if (!dim.mask[i]) out.push_back(dim.values[i]);
  if (out.empty()) out.push_back(dim.default_value);  // fully masked: the default is used
  return out;
}

}  // namespace

std::string_view to_string(CombineMethod method) {
  return method == CombineMethod::concat ? "concat" : "merge";
}

CombineMethod combine_method(std::string_view text) {
  if (text == "concat") return CombineMethod::concat;
  if (text == "merge") return CombineMethod::merge;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("combine method must be concat or merge, got '{}'", text));
}

Combined combine(const ParamSpace& space, std::string_view field,
                 const std::function<std::optional<Array>(const Point&)>& field_of,
                 CombineMethod method, std::vector<std::string> data_dims) {
  return combine(space, space.points(), field, field_of, method, std::move(data_dims));
}

Combined combine(const ParamSpace& space, const std::vector<Point>& points, std::string_view field,
                 const std::function<std::optional<Array>(const Point&)>& field_of,
                 CombineMethod method, std::vector<std::string> data_dims) {
  const std::vector<std::int64_t> sweep_shape =
      space.dims().empty() ? std::vector<std::int64_t>{} : space.shape();
  // One slot per point: points of another space would write past the result.
  if (static_cast<std::int64_t>(points.size()) != std::max<std::int64_t>(space.volume(), 1))
    throw Error(ErrorCode::invalid_argument,
                fmt::format("combine of field '{}' was given {} points for a space of {}", field,
                            points.size(), std::max<std::int64_t>(space.volume(), 1)));
  Combined out;
  for (const auto& d : space.dims()) {
    out.dims.push_back(d.name);
    out.coords.push_back({d.name, coords_of(d)});
  }

  // The result is stored as `storage`: the first piece's dtype, or (merge,
  // once a state is missing) the dtype that also holds NaN.
  std::optional<Array> result;
  Shape field_shape;
  DType field_dtype = DType::float64();
  DType storage = DType::float64();
  std::vector<bool> written(points.size(), false);
  std::vector<std::size_t> missing;  // slots to fill with NaN (merge)

  auto state_label = [&](const Point& p) {
    return fmt::format("state {} (state number {})", p.state_name, p.state_no);
  };
  auto slot_bytes = [&](const DType& dtype) {
    return static_cast<std::size_t>(field_shape.num_elements()) * dtype.item_size();
  };
  // From the first piece: the data dims, named and checked at once.
  auto name_data_dims = [&](const Point& p) {
    if (data_dims.empty())
      for (std::size_t a = 0; a < field_shape.rank(); ++a)
        data_dims.push_back(fmt::format("dim_{}", a));
    if (data_dims.size() != field_shape.rank())
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("field '{}' has {} axes in {} but {} data dims were named ({})",
                              field, field_shape.rank(), state_label(p), data_dims.size(),
                              fmt::join(data_dims, ", ")));
    for (std::size_t a = 0; a < data_dims.size(); ++a) {
      for (const auto& d : out.dims)
        if (d == data_dims[a])
          throw Error(ErrorCode::invalid_argument,
                      fmt::format("data dim '{}' of field '{}' has the name of another dim ({})",
                                  data_dims[a], field, fmt::join(out.dims, ", ")));
      out.dims.push_back(data_dims[a]);
    }
  };
  // Converts the written slots (only those) to the NaN-holding dtype.
  auto promote = [&](const Point& missing_point) {
    DType to = nan_holder(field_dtype, field, state_label(missing_point));
    if (to == storage) return;
    std::vector<std::int64_t> dims = sweep_shape;
    dims.insert(dims.end(), field_shape.begin(), field_shape.end());
    Array promoted = Array::empty(to, Shape(dims));
    for (std::size_t k = 0; k < points.size(); ++k) {
      if (!written[k]) continue;
      Array converted =
          astype(ArrayView(result->data() + k * slot_bytes(storage), storage, field_shape), to);
      if (slot_bytes(to))
        std::memcpy(promoted.data() + k * slot_bytes(to), converted.data(), slot_bytes(to));
    }
    result = std::move(promoted);
    storage = to;
  };

  for (std::size_t k = 0; k < points.size(); ++k) {
    const Point& p = points[k];
    std::optional<Array> piece = field_of(p);
    if (!piece) {
      if (method == CombineMethod::concat)
        throw Error(ErrorCode::not_found,
                    fmt::format("field '{}' is missing in {}; concat needs every state (use "
                                "method merge to fill missing states with NaN)",
                                field, state_label(p)));
      missing.push_back(k);
      if (result) promote(p);
      continue;
    }
    if (!piece->dtype().is_fixed_size())
      throw Error(ErrorCode::unsupported,
                  fmt::format("field '{}' in {} has variable-length strings, which cannot be "
                              "combined into one array",
                              field, state_label(p)));
    if (!result) {
      field_shape = piece->shape();
      field_dtype = piece->dtype().native();
      name_data_dims(p);
      storage = missing.empty() ? field_dtype
                                : nan_holder(field_dtype, field, state_label(points[missing[0]]));
      std::vector<std::int64_t> dims = sweep_shape;
      dims.insert(dims.end(), field_shape.begin(), field_shape.end());
      result = Array::empty(storage, Shape(dims));
    }
    if (!(piece->shape() == field_shape))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("field '{}' has shape {} in {} but {} in the first state", field,
                              piece->shape().to_string(), state_label(p), field_shape.to_string()));
    // Every piece has the first one's dtype, merge or concat.
    if (!(piece->dtype().native() == field_dtype))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("field '{}' has dtype {} in {} but {} in the first state", field,
                              piece->dtype().name(), state_label(p), field_dtype.name()));
    std::byte* slot = result->data() + k * slot_bytes(storage);
    Array packed =
        storage == field_dtype ? packed_as(piece->view(), storage) : astype(piece->view(), storage);
    if (slot_bytes(storage)) std::memcpy(slot, packed.data(), slot_bytes(storage));
    written[k] = true;
  }
  if (!result)
    throw Error(ErrorCode::not_found,
                fmt::format("field '{}' is missing in every state of the parameter space", field));
  for (std::size_t k : missing)
    fill_nan(result->data() + k * slot_bytes(storage), storage, field_shape.num_elements());

  for (std::size_t a = 0; a < data_dims.size(); ++a) {
    Value range = Value::array();
    for (std::int64_t i = 0; i < field_shape[a]; ++i)
      range.push_back(i);
    out.coords.push_back({data_dims[a], std::move(range)});
  }
  out.values = std::move(*result);
  return out;
}

void write_combined(store::Group& parent, std::string_view path, const Combined& combined) {
  auto dataset = parent.create_dataset(
      path, {.dtype = combined.values.dtype(), .shape = combined.values.shape()});
  dataset->write(Selection(), combined.values.view());
  auto& attrs = dataset->attrs();
  Value dims = Value::array();
  for (const auto& d : combined.dims)
    dims.push_back(d);
  attrs.set("dims", nlohmann::json(dims));
  for (const auto& c : combined.coords) {
    const Value& v = c.values;
    bool ints = !v.empty(), numbers = !v.empty();
    for (const auto& x : v) {
      ints = ints && x.is_number_integer();
      numbers = numbers && x.is_number() && !x.is_boolean();
    }
    // Numbers as numeric arrays, so h5py reads them as numpy arrays.
    std::string name = "coords__" + c.dim;
    if (ints) {
      std::vector<std::int64_t> xs;
      for (const auto& x : v)
        xs.push_back(x.get<std::int64_t>());
      attrs.set(name, Array::from_values<std::int64_t>(xs).view());
    } else if (numbers) {
      std::vector<double> xs;
      for (const auto& x : v)
        xs.push_back(x.get<double>());
      attrs.set(name, Array::from_values<double>(xs).view());
    } else {
      attrs.set(name, nlohmann::json(v));
    }
    attrs.set("coords_mode__" + c.dim, nlohmann::json("values"));
  }
}

}  // namespace larder::tree
