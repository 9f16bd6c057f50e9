// larder.Ragged and larder.Records: ragged records from Python. A record is
// a numpy array; a block of records shares one values array, each record a
// view into it.
#include <fmt/format.h>

#include <numeric>

#include "bindings.h"
#include "larder/core/error.h"
#include "larder/ragged/ragged.h"

namespace larder::python {
namespace {

using ragged::Ragged;
using ragged::Records;

py::tuple to_tuple(const Shape& shape) {
  return py::tuple(py::cast(std::vector<std::int64_t>(shape.begin(), shape.end())));
}

// The numpy record i of `records`, a view into `values` (its numpy twin).
py::object record_view(const Records& records, const py::array& values, std::int64_t i) {
  const auto at = static_cast<std::size_t>(i);
  py::object part = values[py::slice(static_cast<py::ssize_t>(records.offsets[at]),
                                     static_cast<py::ssize_t>(records.offsets[at + 1]), 1)];
  if (records.shapes.empty()) return part;
  const Shape& shape = records.shapes[at];
  return part.attr("reshape")(to_tuple(shape));
}

// What Python holds for a block of records: numpy values, offsets, shapes.
struct PyRecords {
  Records records;
  py::array values;

  explicit PyRecords(Records r) : records(std::move(r)) {
    values = to_numpy(std::move(records.values));
    records.values = Array::empty(DType::uint8(), Shape{0});  // moved to numpy
  }
  py::list list() const {
    py::list out;
    for (std::int64_t i = 0; i < records.size(); ++i)
      out.append(record_view(records, values, i));
    return out;
  }
};

std::vector<std::int64_t> int64_vector(const py::array& array, const char* what) {
  if (array.dtype().kind() != 'i' && array.dtype().kind() != 'u' && array.size() > 0) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{} must be integers", what));
  }
  py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> ids(array);
  return {ids.data(), ids.data() + ids.size()};
}

py::array one_d(py::handle object, const char* what) {
  py::array array = py::array::ensure(object);
  if (!array || array.ndim() != 1) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{} must be a 1-D list or array", what));
  }
  return array;
}

// Record ids, or a boolean mask over all `size` records.
std::vector<std::int64_t> row_ids(py::handle rows, std::int64_t size) {
  py::array array = one_d(rows, "record ids");
  if (array.dtype().kind() == 'b') {
    py::array_t<bool, py::array::c_style | py::array::forcecast> mask(array);
    if (mask.size() != size) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("a mask of {} entries for {} records", mask.size(), size));
    }
    std::vector<std::int64_t> out;
    for (py::ssize_t i = 0; i < mask.size(); ++i)
      if (mask.data()[i]) out.push_back(i);
    return out;
  }
  return int64_vector(array, "record ids (or a boolean mask)");
}

// The record ids an int-free key names: a slice, ids or a mask, or all (None).
std::vector<std::int64_t> ids_for(Ragged& r, py::handle key) {
  const std::int64_t n = r.size();
  if (!key.is_none() && !py::isinstance<py::slice>(key)) return row_ids(key, n);
  const py::slice slice = key.is_none() ? py::slice(py::none(), py::none(), py::none())
                                        : py::reinterpret_borrow<py::slice>(key);
  py::ssize_t start = 0, stop = 0, step = 0, count = 0;
  if (!slice.compute(static_cast<py::ssize_t>(n), &start, &stop, &step, &count)) {
    throw py::error_already_set();
  }
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  for (py::ssize_t k = 0; k < count; ++k)
    ids[static_cast<std::size_t>(k)] = start + k * step;
  return ids;
}

// The records a key names, read with the GIL released (a run of
// consecutive ids is one read: see Ragged::gather).
Records records_for(Ragged& r, py::handle key) {
  const std::vector<std::int64_t> ids = ids_for(r, key);
  py::gil_scoped_release release;
  return r.gather(ids);
}

bool is_index(py::handle key) {
  const bool is_array =
      py::isinstance<py::array>(key) && py::reinterpret_borrow<py::array>(key).ndim() > 0;
  return !is_array && !py::isinstance<py::bool_>(key) && PyIndex_Check(key.ptr());
}

Array checked_values(Ragged& r, py::handle values) {
  py::module_ np = py::module_::import("numpy");
  return from_numpy(
      np.attr("asarray")(values, py::arg("dtype") = to_numpy_dtype(r.dtype().native())));
}

void extend(Ragged& r, py::handle records, py::object lengths, py::object shapes) {
  py::module_ np = py::module_::import("numpy");
  if (!lengths.is_none() || !shapes.is_none()) {  // values back to back
    Array values = checked_values(r, records);
    if (!shapes.is_none()) {
      std::vector<Shape> list;
      for (py::handle s : shapes)
        list.emplace_back(s.cast<std::vector<std::int64_t>>());
      py::gil_scoped_release release;
      r.extend(values, list);
      return;
    }
    const std::vector<std::int64_t> counts = int64_vector(one_d(lengths, "lengths"), "lengths");
    py::gil_scoped_release release;
    r.extend(values, counts);
    return;
  }
  // A list of records: their values concatenated once.
  py::list items;
  std::vector<std::int64_t> counts;
  std::vector<Shape> list;
  const py::dtype dtype = to_numpy_dtype(r.dtype().native());
  for (py::handle item : records) {
    py::array a = np.attr("asarray")(item, py::arg("dtype") = dtype);
    std::vector<std::int64_t> dims(a.shape(), a.shape() + a.ndim());
    if (r.shaped()) {
      list.emplace_back(dims);
      items.append(a.attr("reshape")(-1));
    } else {
      if (a.ndim() != static_cast<py::ssize_t>(r.inner_shape().rank()) + 1) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("a record of shape {} for records of shape {}",
                                Shape(dims).to_string(), r.record_shape()),
                    r.file(), r.path());
      }
      counts.push_back(dims[0]);
      items.append(a);
    }
  }
  if (py::len(items) == 0) return;
  Array values = from_numpy(np.attr("concatenate")(items));
  py::gil_scoped_release release;
  if (r.shaped()) {
    r.extend(values, list);
  } else {
    r.extend(values, counts);
  }
}

}  // namespace

py::list records_list(ragged::Records records) {
  return PyRecords(std::move(records)).list();
}

py::object create_ragged(store::Group& group, const std::string& path, py::object dtype,
                         py::object inner_shape, bool shaped, py::object codec, py::object level,
                         py::object chunk_items) {
  ragged::RaggedOptions options;
  if (!dtype.is_none()) options.dtype = from_numpy_dtype(py::dtype::from_args(dtype));
  if (!inner_shape.is_none()) {
    options.inner_shape = py::isinstance<py::int_>(inner_shape)
                              ? Shape{inner_shape.cast<std::int64_t>()}
                              : Shape(inner_shape.cast<std::vector<std::int64_t>>());
  }
  options.shaped = shaped;
  options.codec = codec_from(codec, level, py::none());
  if (!chunk_items.is_none()) options.chunk_items = chunk_items.cast<std::int64_t>();
  return py::cast(std::shared_ptr<Ragged>(Ragged::create(group, path, options)));
}

py::object open_member(store::Group& group, const std::string& path) {
  std::shared_ptr<store::Node> node = group.open(path);
  if (auto records = Ragged::from_node(group, path, node)) {
    return py::cast(std::shared_ptr<Ragged>(std::move(records)));
  }
  if (node->kind() == store::NodeKind::group) {
    return py::cast(std::static_pointer_cast<store::Group>(node));
  }
  return py::cast(std::static_pointer_cast<store::Dataset>(node));
}

void bind_ragged(py::module_& m) {
  py::class_<PyRecords, std::shared_ptr<PyRecords>>(m, "Records", R"(A block of ragged records.

values holds them back to back, record i is values[offsets[i]:offsets[i+1]]
(reshaped to shapes[i] for shaped records); indexing and iterating give
each record as a numpy view into values.)")
      .def_readonly("values", &PyRecords::values)
      .def_property_readonly("offsets",
                             [](const PyRecords& r) {
                               return to_numpy(Array::from_values<std::int64_t>(r.records.offsets));
                             })
      .def_property_readonly("shapes",
                             [](const PyRecords& r) -> py::object {
                               if (r.records.shapes.empty() && r.records.size() > 0) {
                                 return py::none();
                               }
                               py::list out;
                               for (const Shape& s : r.records.shapes)
                                 out.append(to_tuple(s));
                               return out;
                             })
      .def("__len__", [](const PyRecords& r) { return r.records.size(); })
      .def("__getitem__",
           [](const PyRecords& r, std::int64_t i) {
             const std::int64_t n = r.records.size();
             if (i < -n || i >= n) throw py::index_error(fmt::format("record {} of {}", i, n));
             return record_view(r.records, r.values, i < 0 ? i + n : i);
           })
      .def("__iter__", [](const PyRecords& r) { return py::iter(r.list()); })
      .def("tolist", &PyRecords::list, "The records as a list of numpy views.")
      .def("__repr__", [](const PyRecords& r) {
        return fmt::format("<larder.Records: {} records, {} values>", r.records.size(),
                           r.values.shape(0));
      });

  py::class_<Ragged, std::shared_ptr<Ragged>>(m, "Ragged", R"(Ragged records of one dtype.

r[i] is record i (a numpy array); r[a:b], r[[5, 1, 5]] and r[mask] give
lists of records; r.read / r.gather give them as one Records block without
a copy per record. Jagged records are (n, *inner_shape); shaped records
have any shape. append / extend add records, committed when they return.)")
      .def("__len__", &Ragged::size)
      .def("__getitem__",
           [](Ragged& r, py::handle key) -> py::object {
             if (is_index(key)) {
               const auto i = py::reinterpret_borrow<py::object>(key).cast<std::int64_t>();
               Array record = Array::empty(DType::uint8(), Shape{0});
               {
                 py::gil_scoped_release release;
                 record = r.record(i);
               }
               return to_numpy(std::move(record));
             }
             return PyRecords(records_for(r, key)).list();
           })
      .def(
          "read",
          [](Ragged& r, std::int64_t start, py::object stop) {
            const std::int64_t end = stop.is_none() ? r.size() : stop.cast<std::int64_t>();
            Records records;
            {
              py::gil_scoped_release release;
              records = r.read(start, end);
            }
            return std::make_shared<PyRecords>(std::move(records));
          },
          py::arg("start") = 0, py::arg("stop") = py::none(),
          "Records [start, stop) as one Records block, in one read.")
      .def(
          "gather",
          [](Ragged& r, py::handle rows) {
            return std::make_shared<PyRecords>(records_for(r, rows));
          },
          py::arg("rows"), "Records in the order given (ids, repeats allowed, or a mask).")
      .def(
          "append",
          [](Ragged& r, py::handle record) {
            Array values = checked_values(r, record);
            py::gil_scoped_release release;
            r.append(values);
          },
          py::arg("record"))
      .def("extend", &extend, py::arg("records"), py::arg("lengths") = py::none(),
           py::arg("shapes") = py::none(),
           R"(Appends a list of records, or values back to back with lengths= (jagged)
or shapes= (shaped); one commit for all.)")
      .def(
          "padded",
          [](Ragged& r, py::object rows, std::int64_t width, py::object fill) {
            const std::vector<std::int64_t> ids = ids_for(r, rows);
            const nlohmann::json fill_value = to_json(fill);
            Array out = Array::empty(DType::uint8(), Shape{0});
            {
              py::gil_scoped_release release;
              out = r.padded(ids, width, fill_value);
            }
            return to_numpy(std::move(out));
          },
          py::arg("rows"), py::arg("width"), py::arg("fill") = 0,
          R"(Records as one (len(rows), width, *inner_shape) array: longer ones clipped,
shorter ones filled with `fill` (e.g. float('nan')). rows: ids, a slice or None.)")
      .def_property_readonly("lengths",
                             [](Ragged& r) {
                               std::vector<std::int64_t> lengths;
                               {
                                 py::gil_scoped_release release;
                                 lengths = r.lengths();
                               }
                               return to_numpy(Array::from_values<std::int64_t>(lengths));
                             })
      .def_property_readonly("dtype", [](Ragged& r) { return to_numpy_dtype(r.dtype()); })
      .def_property_readonly("inner_shape", [](Ragged& r) { return to_tuple(r.inner_shape()); })
      .def_property_readonly("shaped", &Ragged::shaped)
      .def_property_readonly("format", [](Ragged& r) { return std::string(r.format()); })
      .def_property_readonly("writable", &Ragged::writable)
      .def_property_readonly("codec",
                             [](Ragged& r) -> py::object {
                               const auto c = r.codec();
                               return c ? to_python(c->to_json()) : py::none();
                             })
      .def_property_readonly("path", [](Ragged& r) { return r.path(); })
      .def_property_readonly("name", [](Ragged& r) { return r.node().name(); })
      .def_property_readonly(
          "attrs", [](Ragged& r) -> store::Attributes& { return r.attrs(); },
          py::return_value_policy::reference_internal)
      .def("__repr__", [](Ragged& r) {
        const auto c = r.codec();
        return fmt::format("<larder.Ragged '{}' {} {} records of {}{}{}>", r.path(), r.size(),
                           r.shaped() ? "shaped" : "jagged", r.dtype().name(),
                           r.shaped() ? std::string() : " " + r.record_shape(),
                           c && c->id != "none" ? " " + c->to_string() : std::string());
      });
}

}  // namespace larder::python
