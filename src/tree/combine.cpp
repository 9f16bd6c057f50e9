// The combine step: the result is allocated from the first state that has
// the field, and every state's array is copied into its slot (slots follow
// the points' state order, which is C order over the active values). A merge
// that meets its first missing state converts what it has to float once.
#include "larder/tree/combine.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <limits>

#include "larder/core/astype.h"
#include "larder/core/error.h"
#include "larder/store/dataset.h"

namespace larder::tree {
namespace {

// A float dtype fit to hold NaN for `dtype`'s values.
DType nan_dtype(const DType& dtype) {
  if (dtype.kind() == DTypeKind::float_) return dtype.native();
  return DType::float64();
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
  const std::vector<Point> points = space.points();
  const std::vector<std::int64_t> sweep_shape =
      space.dims().empty() ? std::vector<std::int64_t>{} : space.shape();
  Combined out;
  for (const auto& d : space.dims()) {
    out.dims.push_back(d.name);
    out.coords.push_back({d.name, coords_of(d)});
  }

  std::optional<Array> result;
  Shape field_shape;
  DType field_dtype = DType::float64();
  std::size_t slot_bytes = 0;
  std::vector<std::size_t> missing;  // slots to fill with NaN (merge)
  bool promoted = false;

  auto state_label = [&](const Point& p) {
    return fmt::format("state {} (state number {})", p.state_name, p.state_no);
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
      if (result && !promoted) {
        DType to = nan_dtype(field_dtype);
        if (!(to == field_dtype)) {
          result = astype(result->view(), to);
          slot_bytes = static_cast<std::size_t>(field_shape.num_elements()) * to.item_size();
        }
        field_dtype = to;
        promoted = true;
      }
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
      if (!missing.empty()) {
        if (piece->dtype().kind() == DTypeKind::complex || !piece->dtype().is_numeric())
          throw Error(ErrorCode::unsupported,
                      fmt::format("field '{}' of dtype {} cannot hold NaN for missing states",
                                  field, piece->dtype().name()));
        field_dtype = nan_dtype(field_dtype);
        promoted = true;
      }
      std::vector<std::int64_t> dims = sweep_shape;
      dims.insert(dims.end(), field_shape.begin(), field_shape.end());
      result = Array::empty(field_dtype, Shape(dims));
      slot_bytes = static_cast<std::size_t>(field_shape.num_elements()) * field_dtype.item_size();
    }
    if (!(piece->shape() == field_shape))
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("field '{}' has shape {} in {} but {} in the first state", field,
                              piece->shape().to_string(), state_label(p), field_shape.to_string()));
    const DType target = field_dtype;
    bool nan_promotion = promoted && !(piece->dtype().native() == target);
    if (!(piece->dtype().native() == target) && !nan_promotion)
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("field '{}' has dtype {} in {} but {} in the first state", field,
                              piece->dtype().name(), state_label(p), target.name()));
    std::byte* slot = result->data() + k * slot_bytes;
    if (piece->dtype().native() == target) {
      Array packed = packed_as(piece->view(), target);
      if (slot_bytes) std::memcpy(slot, packed.data(), slot_bytes);
    } else {
      if (!can_astype(piece->dtype(), target))
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("field '{}' has dtype {} in {}, which does not convert to {}",
                                field, piece->dtype().name(), state_label(p), target.name()));
      Array converted = astype(piece->view(), target);
      if (slot_bytes) std::memcpy(slot, converted.data(), slot_bytes);
    }
  }
  if (!result)
    throw Error(ErrorCode::not_found,
                fmt::format("field '{}' is missing in every state of the parameter space", field));
  for (std::size_t k : missing)
    fill_nan(result->data() + k * slot_bytes, field_dtype, field_shape.num_elements());

  if (data_dims.empty())
    for (std::size_t a = 0; a < field_shape.rank(); ++a)
      data_dims.push_back(fmt::format("dim_{}", a));
  if (data_dims.size() != field_shape.rank())
    throw Error(ErrorCode::invalid_argument,
                fmt::format("field '{}' has {} axes but {} data dims were named ({})", field,
                            field_shape.rank(), data_dims.size(), fmt::join(data_dims, ", ")));
  for (std::size_t a = 0; a < data_dims.size(); ++a) {
    for (const auto& d : out.dims)
      if (d == data_dims[a])
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("data dim '{}' of field '{}' has the name of a sweep dim",
                                data_dims[a], field));
    out.dims.push_back(data_dims[a]);
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
      attrs.set(name, nlohmann::json::parse(v.dump()));
    }
    attrs.set("coords_mode__" + c.dim, nlohmann::json("values"));
  }
}

}  // namespace larder::tree
