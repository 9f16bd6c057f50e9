// larder._Collection: the engine's Collection, one variable per call. The
// StoreGate-style forms (a name, a tuple, a list of names; index=-1 for
// every row) live in python/larder/collection.py.
#include <fmt/format.h>

#include <algorithm>

#include "bindings.h"
#include "larder/collection/collection.h"
#include "larder/core/error.h"
#include "larder/store/store.h"

namespace larder::python {
namespace {

using collection::Collection;
using collection::Split;

std::shared_ptr<store::Group> root_of(py::handle store) {
  if (py::isinstance<store::Group>(store)) return store.cast<std::shared_ptr<store::Group>>();
  if (py::isinstance<store::Store>(store)) return store.cast<store::Store&>().root();
  throw Error(ErrorCode::invalid_argument,
              fmt::format("a collection lives in a larder.Store or larder.Group, not {}",
                          py::str(py::type::of(store)).cast<std::string>()));
}

// A phase name, fractions (floats) or counts (ints), for `phases` or the
// default train, valid, test.
Split split_from(py::handle phase, py::handle phases) {
  std::vector<std::string> names;
  if (!phases.is_none()) names = phases.cast<std::vector<std::string>>();
  if (py::isinstance<py::str>(phase)) return Split::phase(phase.cast<std::string>());
  if (!py::isinstance<py::sequence>(phase)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("phase must be a name, fractions or counts, not {}",
                            py::repr(phase).cast<std::string>()));
  }
  bool all_ints = true;
  for (py::handle item : phase) {
    const bool is_int =
        !py::isinstance<py::bool_>(item) &&
        (py::isinstance<py::int_>(item) ||
         (py::hasattr(item, "dtype") &&
          py::str(item.attr("dtype").attr("kind")).cast<std::string>().find_first_of("iu") == 0));
    all_ints = all_ints && is_int;
  }
  if (all_ints) return Split::counts(phase.cast<std::vector<std::int64_t>>(), names);
  return Split::fractions(phase.cast<std::vector<double>>(), names);
}

// Ragged records from a list of arrays whose first axes differ: jagged
// when the rest of their shapes agree, else shaped.
ragged::Records records_from(const std::vector<py::array>& items) {
  py::module_ np = py::module_::import("numpy");
  const py::dtype dtype = np.attr("result_type")(*py::tuple(py::cast(items)));
  bool jagged = true;
  const auto rank = items.front().ndim();
  for (const auto& a : items) {
    jagged = jagged && a.ndim() == rank && rank >= 1;
    for (py::ssize_t d = 1; jagged && d < rank; ++d)
      jagged = a.shape(d) == items.front().shape(d);
  }
  ragged::Records records;
  py::list flat;
  for (const auto& a : items) {
    if (jagged) {
      records.offsets.push_back(records.offsets.back() + a.shape(0));
      flat.append(a.attr("astype")(dtype, py::arg("copy") = false));
    } else {
      records.shapes.emplace_back(std::vector<std::int64_t>(a.shape(), a.shape() + a.ndim()));
      records.offsets.push_back(records.offsets.back() + a.size());
      flat.append(a.attr("astype")(dtype, py::arg("copy") = false).attr("reshape")(-1));
    }
  }
  records.values = from_numpy(np.attr("concatenate")(flat));
  return records;
}

// A Python list of arrays of different shapes is ragged data: its items
// as arrays; empty for anything else (dense data).
std::vector<py::array> ragged_items(py::handle data) {
  if (!py::isinstance<py::list>(data) && !py::isinstance<py::tuple>(data)) return {};
  py::module_ np = py::module_::import("numpy");
  std::vector<py::array> items;
  bool shapes_differ = false;
  for (py::handle item : data) {
    items.push_back(np.attr("asarray")(item));
    const py::array& a = items.back();
    const py::array& first = items.front();
    shapes_differ = shapes_differ || a.ndim() != first.ndim() ||
                    !std::equal(a.shape(), a.shape() + a.ndim(), first.shape());
  }
  return shapes_differ ? items : std::vector<py::array>{};
}

py::dict info_of(const collection::Variable& v) {
  py::dict out;
  out["kind"] = v.kind();
  out["dtype"] = to_numpy_dtype(v.dtype());
  const Shape s = v.sample_shape();
  out["shape"] = py::tuple(py::cast(std::vector<std::int64_t>(s.begin(), s.end())));
  out["rows"] = v.rows();
  out["in_memory"] = v.in_memory;
  return out;
}

}  // namespace

void bind_collection(py::module_& m) {
  py::class_<Collection>(m, "_Collection", "The engine's collection; use larder.Collection.")
      .def(py::init([](py::handle store, const std::string& data_id, py::object codec,
                       py::object level, std::int64_t chunk_rows) {
             collection::CollectionOptions options{
                 .codec = codec_from(std::move(codec), std::move(level), py::none()),
                 .chunk_rows = chunk_rows};
             return Collection::open(root_of(store), data_id, options);
           }),
           py::arg("store"), py::arg("data_id"), py::arg("codec") = py::none(),
           py::arg("level") = py::none(), py::arg("chunk_rows") = 0)
      .def_static("data_ids",
                  [](py::handle store) { return Collection::data_ids(*root_of(store)); })
      .def_property_readonly("data_id", &Collection::data_id)
      .def_property_readonly("file", &Collection::file)
      .def("phases", &Collection::phases)
      .def("has_phase", &Collection::has_phase)
      .def("variables", &Collection::variables)
      .def("contains", &Collection::contains)
      .def("size", &Collection::size)
      .def("info", [](Collection& c, const std::string& phase,
                      const std::string& name) { return info_of(c.variable(phase, name)); })
      .def("column",
           [](Collection& c, const std::string& phase, const std::string& name) -> py::object {
             const collection::Variable v = c.variable(phase, name);
             if (v.dense) return py::cast(v.dense);
             return py::cast(v.ragged);
           })
      .def(
          "add",
          [](Collection& c, const std::vector<std::string>& names, py::list data, py::handle phase,
             py::handle phases, py::object seed) {
            if (names.size() != py::len(data)) {
              throw Error(
                  ErrorCode::invalid_argument,
                  fmt::format("{} variable names for {} arrays", names.size(), py::len(data)));
            }
            const Split split = split_from(phase, phases);
            std::vector<ragged::Records> records(names.size());
            std::vector<Array> arrays;
            std::vector<collection::VariableData> columns;
            arrays.reserve(names.size());  // columns view them: no reallocation
            for (std::size_t i = 0; i < names.size(); ++i) {
              if (const auto items = ragged_items(data[i]); !items.empty()) {
                records[i] = records_from(items);
                columns.emplace_back(names[i], records[i]);
              } else {
                arrays.push_back(from_numpy(data[i]));
                columns.emplace_back(names[i], arrays.back().view());
              }
            }
            std::optional<std::uint64_t> shuffle_seed;
            if (!seed.is_none()) shuffle_seed = seed.cast<std::uint64_t>();
            py::gil_scoped_release release;
            c.add(columns, split, shuffle_seed);
          },
          py::arg("names"), py::arg("data"), py::arg("phase"), py::arg("phases") = py::none(),
          py::arg("seed") = py::none())
      .def(
          "create_empty",
          [](Collection& c, const std::vector<std::string>& names, std::vector<std::int64_t> shape,
             py::handle phase, py::object dtype) {
            c.create_empty(names, Shape(std::move(shape)), split_from(phase, py::none()),
                           from_numpy_dtype(py::dtype::from_args(dtype)));
          },
          py::arg("names"), py::arg("shape"), py::arg("phase"), py::arg("dtype"))
      .def(
          "get",
          [](Collection& c, const std::string& phase, const std::string& name,
             py::handle key) -> py::object {
            const AxisSelection rows = axis_from(key);
            if (phase != "all" && c.variable(phase, name).ragged) {
              ragged::Records records;
              {
                py::gil_scoped_release release;
                records = c.get_records(phase, name, rows);
              }
              if (std::holds_alternative<AxisSelection::Index>(rows.get())) {
                return records_list(std::move(records))[0];
              }
              return records_list(std::move(records));
            }
            Array values = Array::empty(DType::uint8(), Shape{0});
            {
              py::gil_scoped_release release;
              values = c.get(phase, name, rows);
            }
            return to_numpy(std::move(values));
          },
          py::arg("phase"), py::arg("name"), py::arg("key"))
      .def(
          "get_stacked",
          [](Collection& c, const std::string& phase, const std::vector<std::string>& names,
             py::handle key) {
            const AxisSelection rows = axis_from(key);
            Array values = Array::empty(DType::uint8(), Shape{0});
            {
              py::gil_scoped_release release;
              values = c.get_stacked(phase, names, rows);
            }
            return to_numpy(std::move(values));
          },
          py::arg("phase"), py::arg("names"), py::arg("key"))
      .def(
          "update",
          [](Collection& c, const std::string& phase, const std::string& name, py::handle key,
             py::handle values) {
            const AxisSelection rows = axis_from(key);
            const Array array = from_numpy(values);
            py::gil_scoped_release release;
            c.update(phase, name, rows, array);
          },
          py::arg("phase"), py::arg("name"), py::arg("key"), py::arg("values"))
      .def("remove", &Collection::remove, py::call_guard<py::gil_scoped_release>())
      .def("clear", &Collection::clear, py::call_guard<py::gil_scoped_release>())
      .def("compile",
           [](Collection& c) {
             collection::Metadata metadata;
             {
               py::gil_scoped_release release;
               metadata = c.compile();
             }
             return to_python(metadata.to_json());
           })
      .def("metadata",
           [](Collection& c) -> py::object {
             const auto metadata = c.metadata();
             return metadata ? to_python(metadata->to_json()) : py::object(py::none());
           })
      .def(
          "astype",
          [](Collection& c, const std::string& phase, const std::string& name, py::object dtype) {
            const DType d = from_numpy_dtype(py::dtype::from_args(dtype));
            py::gil_scoped_release release;
            c.astype(phase, name, d);
          },
          py::arg("phase"), py::arg("name"), py::arg("dtype"))
      .def(
          "onehot",
          [](Collection& c, const std::string& phase, const std::string& name, std::int64_t classes,
             py::object dtype) {
            const DType d = from_numpy_dtype(py::dtype::from_args(dtype));
            py::gil_scoped_release release;
            c.onehot(phase, name, classes, d);
          },
          py::arg("phase"), py::arg("name"), py::arg("classes"), py::arg("dtype"))
      .def("argmax", &Collection::argmax, py::call_guard<py::gil_scoped_release>())
      .def("shuffle", &Collection::shuffle, py::call_guard<py::gil_scoped_release>())
      .def("to_memory", &Collection::to_memory, py::call_guard<py::gil_scoped_release>())
      .def("to_storage", &Collection::to_storage, py::call_guard<py::gil_scoped_release>());
}

}  // namespace larder::python
