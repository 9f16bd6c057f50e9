// Shared pieces of the larder Python bindings: one bind_* per concept, and
// the conversions every binding uses (arrays, JSON). Call with the GIL held.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include "larder/codec/codec_spec.h"
#include "larder/core/array.h"
#include "larder/core/error.h"
#include "larder/core/selection.h"
#include "larder/ragged/ragged.h"
#include "larder/store/group.h"
#include "larder/store/table.h"
#include "larder/tree/yaml.h"

namespace larder::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_array(py::module_& m);
void bind_codec(py::module_& m);
void bind_store(py::module_& m);
void bind_ragged(py::module_& m);
void bind_copy(py::module_& m);
void bind_collection(py::module_& m);
void bind_loader(py::module_& m);
void bind_expr(py::module_& m);
void bind_trace(py::module_& m);
void bind_tree(py::module_& m);
void bind_files(py::module_& m);
void bind_pspace(py::module_& m);

// A numpy array viewing `array`'s buffer; the numpy array keeps it alive.
py::array to_numpy(Array array);

// An Array over a numpy array (or anything numpy accepts). C-contiguous
// input is wrapped without copying and kept alive by the Array; other input
// is copied into C order.
Array from_numpy(py::handle object);

// A numpy dtype for a larder DType, and back.
py::dtype to_numpy_dtype(const DType& dtype);
DType from_numpy_dtype(const py::dtype& dtype);

// A codec from Python: None ("none"), an id or "id:level:shuffle" string, or
// a spec dict; level and shuffle (None: as given) override.
codec::CodecSpec codec_from(py::object codec, py::object level, py::object shuffle);

// What store[path] gives: a Ragged where ragged records are, else the
// Group or Dataset.
py::object open_member(store::Group& group, const std::string& path);
// A new larder.Ragged (see Group.create_ragged).
py::object create_ragged(store::Group& group, const std::string& path, py::object dtype,
                         py::object inner_shape, bool shaped, py::object codec, py::object level,
                         py::object chunk_items);

// One axis of a numpy index: an int, a slice, Ellipsis, an integer list or
// array (any order, repeats) or a boolean array.
AxisSelection axis_from(py::handle item);
// A whole numpy index: one axis, or a tuple of them.
Selection selection_from(py::handle key);

// Records as a list of numpy arrays, each a view into one values array.
py::list records_list(ragged::Records records);

// A Python int as a JSON number, as json.dumps writes it: int64, then
// uint64, then (beyond 64 bits) the nearest float.
template <class Json>
Json int_to_json(py::handle integer) {
  try {
    return Json(integer.cast<std::int64_t>());
  } catch (const py::cast_error&) {
    try {
      return Json(integer.cast<std::uint64_t>());
    } catch (const py::cast_error&) {
      return Json(integer.cast<double>());
    }
  }
}

// JSON of either flavour (nlohmann::json, ordered_json) to Python, value by
// value rather than through text, so that NaN and the infinities travel as
// floats. `special(node)` may convert a node itself: a non-null result is
// taken as is.
template <class Json, class Special>
py::object json_to_python(const Json& json, const Special& special) {
  if (py::object converted = special(json)) return converted;
  switch (json.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      return py::none();
    case Json::value_t::boolean:
      return py::bool_(json.template get<bool>());
    case Json::value_t::number_integer:
      return py::int_(json.template get<std::int64_t>());
    case Json::value_t::number_unsigned:
      return py::int_(json.template get<std::uint64_t>());
    case Json::value_t::number_float:
      return py::float_(json.template get<double>());
    case Json::value_t::string:
      return py::str(json.template get_ref<const std::string&>());
    case Json::value_t::array: {
      py::list out;
      for (const auto& item : json)
        out.append(json_to_python(item, special));
      return out;
    }
    case Json::value_t::object: {
      py::dict out;
      for (const auto& [key, value] : json.items())
        out[py::str(key)] = json_to_python(value, special);
      return out;
    }
    case Json::value_t::binary:
      break;
  }
  throw Error(ErrorCode::unsupported, "binary JSON values have no Python form");
}

py::object to_python(const nlohmann::json& json);

// A table as a dict of numpy columns, in order (the columns move into it).
py::dict table_to_python(store::Table table);
nlohmann::json to_json(py::handle object);

// YAML data (tree::Value) to Python and back, mappings in order: a !pspace
// node is a larder.ParamSpace, another kept tag a larder.Tagged.
py::object yaml_to_python(const tree::Value& value);
tree::Value yaml_from_python(py::handle object);

// A codec spec from 'id[:level[:shuffle]]', JSON text or a dict.
codec::CodecSpec spec_from_python(py::handle spec);

}  // namespace larder::python
