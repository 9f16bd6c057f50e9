// larder.open(), Store, Group, Dataset and attrs: the storage layer from Python.
#include <fmt/format.h>

#include "bindings.h"
#include "larder/core/error.h"
#include "larder/ragged/ragged.h"
#include "larder/store/store.h"

namespace larder::python {
namespace {

using store::Attributes;
using store::Dataset;
using store::Group;
using store::Node;
using store::NodeKind;
using store::Store;
using store::WalkPath;

}  // namespace

AxisSelection axis_from(py::handle item) {
  if (item.is(py::ellipsis())) return AxisSelection::ellipsis();
  if (py::isinstance<py::slice>(item)) {
    auto member = [&](const char* name) -> std::optional<std::int64_t> {
      py::object v = item.attr(name);
      if (v.is_none()) return std::nullopt;
      return py::int_(v).cast<std::int64_t>();
    };
    const auto step = member("step");
    if (step && *step == 0) throw Error(ErrorCode::invalid_argument, "slice step cannot be zero");
    return AxisSelection::slice(member("start"), member("stop"), step.value_or(1));
  }
  if (item.is_none()) {
    throw Error(ErrorCode::unsupported,
                "numpy.newaxis is not supported when indexing a stored array");
  }
  if (py::isinstance<py::bool_>(item)) {
    throw Error(ErrorCode::invalid_argument, "a lone boolean is not an index");
  }
  // ndarrays implement __index__ (for 0-d integers): only scalars are indices here.
  const bool is_array =
      py::isinstance<py::array>(item) && py::reinterpret_borrow<py::array>(item).ndim() > 0;
  if (!is_array && PyIndex_Check(item.ptr())) {
    return AxisSelection::index(py::reinterpret_borrow<py::object>(item).cast<std::int64_t>());
  }
  py::array array = py::array::ensure(item);
  if (!array) throw Error(ErrorCode::invalid_argument, "cannot use this object as an index");
  if (array.ndim() != 1) {
    throw Error(ErrorCode::unsupported,
                fmt::format("index arrays must be 1-D, got {} dimensions", array.ndim()));
  }
  const char kind = array.dtype().kind();
  if (kind == 'b') {
    py::array_t<bool, py::array::c_style | py::array::forcecast> mask(array);
    return AxisSelection::mask(std::vector<bool>(mask.data(), mask.data() + mask.size()));
  }
  if (kind == 'i' || kind == 'u' || array.size() == 0) {
    py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> ids(array);
    return AxisSelection::indices(std::vector<std::int64_t>(ids.data(), ids.data() + ids.size()));
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("index arrays must hold integers or booleans, not {}",
                          py::str(array.dtype()).cast<std::string>()));
}

Selection selection_from(py::handle key) {
  std::vector<AxisSelection> axes;
  if (py::isinstance<py::tuple>(key)) {
    for (py::handle item : py::reinterpret_borrow<py::tuple>(key))
      axes.push_back(axis_from(item));
  } else {
    axes.push_back(axis_from(key));
  }
  return Selection(std::move(axes));
}

namespace {

py::object attribute_to_python(store::AttributeValue value) {
  if (auto* json = std::get_if<nlohmann::json>(&value)) return to_python(*json);
  return to_numpy(std::move(std::get<Array>(value)));
}

void set_attribute(Attributes& attrs, const std::string& name, py::handle value) {
  // A Python complex is stored as numpy's complex128 scalar would be.
  if (py::isinstance(value, py::module_::import("builtins").attr("complex"))) {
    set_attribute(attrs, name, py::module_::import("numpy").attr("asarray")(value));
    return;
  }
  if (py::isinstance<py::array>(value) ||
      (py::hasattr(value, "dtype") && py::hasattr(value, "shape") &&
       !py::isinstance<py::str>(value))) {
    py::array array = py::array::ensure(value);
    if (array && array.dtype().kind() != 'U' && array.dtype().kind() != 'O') {
      if (array.ndim() == 0 && array.dtype().kind() != 'c') {  // numpy scalars: plain numbers
        attrs.set(name, to_json(array.attr("item")()));
        return;
      }
      attrs.set(name, from_numpy(array).view());
      return;
    }
    attrs.set(name, to_json(array.attr("tolist")()));
    return;
  }
  attrs.set(name, to_json(value));
}

py::object strings_to_numpy(const Dataset& ds, std::vector<std::string> strings,
                            const Shape& shape) {
  py::list items;
  for (auto& s : strings) {
    if (ds.dtype().kind() == DTypeKind::string) {
      items.append(py::bytes(s));
    } else {
      items.append(py::str(s));
    }
  }
  py::module_ np = py::module_::import("numpy");
  py::object dtype = ds.dtype().kind() == DTypeKind::string
                         ? py::object(py::str(ds.dtype().numpy_str()))
                         : py::object(py::str("O"));
  py::object out = np.attr("array")(items, py::arg("dtype") = dtype);
  return out.attr("reshape")(
      py::tuple(py::cast(std::vector<std::int64_t>(shape.begin(), shape.end()))));
}

py::object read_python(Dataset& ds, const Selection& selection) {
  if (ds.dtype().kind() == DTypeKind::string || ds.dtype().kind() == DTypeKind::vstring) {
    std::vector<std::string> strings;
    Shape shape = selection.result_shape(ds.shape());
    {
      py::gil_scoped_release release;
      strings = ds.read_strings(selection);
    }
    return strings_to_numpy(ds, std::move(strings), shape);
  }
  Array out = Array::empty(DType::uint8(), Shape{0});
  {
    py::gil_scoped_release release;
    out = ds.read(selection);
  }
  py::array result = to_numpy(std::move(out));
  if (result.ndim() == 0) return result[py::tuple()];  // a numpy scalar, as numpy gives
  return result;
}

// `value` as an array of `dtype` in native byte order (numpy converts it).
Array numpy_values(py::handle value, const DType& dtype) {
  py::module_ np = py::module_::import("numpy");
  return from_numpy(np.attr("asarray")(value, py::arg("dtype") = to_numpy_dtype(dtype.native())));
}

void write_python(Dataset& ds, const Selection& selection, py::handle value) {
  if (ds.dtype().kind() == DTypeKind::string || ds.dtype().kind() == DTypeKind::vstring) {
    py::module_ np = py::module_::import("numpy");
    py::object flat = np.attr("asarray")(value, py::arg("dtype") = py::str("O")).attr("ravel")();
    std::vector<std::string> strings;
    for (py::handle item : flat) {
      strings.push_back(py::isinstance<py::bytes>(item) ? item.cast<std::string>()
                                                        : py::str(item).cast<std::string>());
    }
    const auto n = static_cast<std::size_t>(selection.result_shape(ds.shape()).num_elements());
    if (strings.size() == 1 && n != 1) strings.assign(n, strings[0]);
    py::gil_scoped_release release;
    ds.write_strings(selection, strings);
    return;
  }
  Array values = numpy_values(value, ds.dtype());
  py::gil_scoped_release release;
  ds.write(selection, values);
}

std::shared_ptr<Dataset> create_array(Group& group, const std::string& path, py::object shape,
                                      py::object dtype, py::object chunks, py::object codec,
                                      py::object level, bool extendable, py::object data,
                                      py::object fill_value, py::object shuffle) {
  py::module_ np = py::module_::import("numpy");
  py::object array = py::none();
  if (!data.is_none())
    array = np.attr("asarray")(data, py::arg("dtype") = dtype.is_none() ? py::none() : dtype);
  store::DatasetOptions options;
  if (!array.is_none()) {
    py::array a = array;
    const char kind = a.dtype().kind();
    options.dtype = kind == 'U' || kind == 'O' ? DType::vstring() : from_numpy_dtype(a.dtype());
    std::vector<std::int64_t> dims(a.shape(), a.shape() + a.ndim());
    options.shape = Shape(dims);
  }
  if (!dtype.is_none()) {
    py::dtype d = py::dtype::from_args(dtype);
    options.dtype = d.kind() == 'O' || d.kind() == 'U' ? DType::vstring() : from_numpy_dtype(d);
  }
  if (!shape.is_none()) {
    options.shape = py::isinstance<py::int_>(shape)
                        ? Shape{shape.cast<std::int64_t>()}
                        : Shape(shape.cast<std::vector<std::int64_t>>());
  } else if (array.is_none()) {
    throw Error(ErrorCode::invalid_argument, "create_array needs shape= or data=");
  }
  if (!chunks.is_none()) options.chunks = chunks.cast<std::vector<std::int64_t>>();
  options.codec = codec_from(codec, level, shuffle);
  if (!shuffle.is_none() && !options.codec.shuffles_itself()) {
    // Other codecs get HDF5's shuffle filter before them (h5py's shuffle=True).
    if (options.codec.shuffle == codec::Shuffle::bit) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("shuffle 'bit' comes with the blosc codecs and 'bitshuffle', not "
                              "with codec '{}'",
                              options.codec.id),
                  group.store_path().string(), store::join_path(group.path(), path));
    }
    options.shuffle = options.codec.shuffle == codec::Shuffle::byte;
    options.codec.shuffle = codec::Shuffle::byte;  // the spec's default: no meaning here
  }
  options.extendable = extendable;
  if (!fill_value.is_none())
    options.fill_value = to_json(np.attr("asarray")(fill_value).attr("item")());
  const bool numeric =
      options.dtype.kind() != DTypeKind::string && options.dtype.kind() != DTypeKind::vstring;
  if (!array.is_none() && numeric) {
    Array values = numpy_values(array, options.dtype);
    if (values.shape() == options.shape) {  // else broadcast by write()
      py::gil_scoped_release release;
      return group.create_dataset_from(path, options, values);
    }
  }
  std::shared_ptr<Dataset> ds = group.create_dataset(path, options);
  if (!array.is_none() && options.shape.num_elements() > 0) write_python(*ds, Selection(), array);
  return ds;
}

// "name  Dataset (1000, 16) float32 chunks=(4096, 16) blosc-lz4:5:byte" lines.
// The members below `group`, indented by depth; ragged records are one line.
void tree_lines(Group& group, std::size_t depth, WalkPath& walk, std::string& out) {
  for (const auto& member : group.members()) {
    out += std::string(2 * depth, ' ') + member.name;
    std::shared_ptr<Node> node = group.open(member.name);
    if (auto r = ragged::Ragged::from_node(group, member.name, node)) {
      const auto info = r->storage_info();
      out += fmt::format("  ragged {} records of {} {}", r->size(), r->dtype().name(),
                         r->record_shape());
      if (!info.filters.empty()) out += " " + info.filters;
      out += "\n";
      continue;
    }
    if (member.kind == NodeKind::group) {
      if (!walk.enter(*node)) {
        out += "/  (a link to a group it is inside of)\n";
        continue;
      }
      out += "/\n";
      tree_lines(static_cast<Group&>(*node), depth + 1, walk, out);
      walk.leave();
      continue;
    }
    auto& ds = static_cast<Dataset&>(*node);
    out += fmt::format("  {} {}", ds.shape().to_string(), ds.dtype().name());
    if (!ds.chunks().empty()) out += fmt::format(" chunks=({})", fmt::join(ds.chunks(), ", "));
    const auto info = ds.storage_info();
    if (!info.filters.empty()) out += " " + info.filters;
    out += "\n";
  }
}

// "name  (1000, 16) float32 chunks=(4096, 16) blosc-lz4:5:byte" lines.
std::string tree_text(Group& group) {
  std::string out = group.path() + "\n";
  WalkPath walk;
  walk.enter(group);
  tree_lines(group, 1, walk, out);
  return out;
}

constexpr const char* kCreateRaggedDoc =
    R"(Creates ragged records: jagged ones of shape (n, *inner_shape), or shaped
ones of any shape (shaped=True); values compressed with `codec`.)";

template <class Class>
void bind_group_api(Class& cls) {
  cls.def("__getitem__", [](Group& g, const std::string& path) { return open_member(g, path); })
      .def("__contains__", [](Group& g, const std::string& path) { return g.contains(path); })
      .def("__delitem__", [](Group& g, const std::string& path) { g.remove(path); })
      .def("__iter__",
           [](Group& g) {
             py::list names;
             for (const auto& m : g.members())
               names.append(m.name);
             return py::iter(names);
           })
      .def("__len__", [](Group& g) { return g.members().size(); })
      .def("keys",
           [](Group& g) {
             py::list names;
             for (const auto& m : g.members())
               names.append(m.name);
             return names;
           })
      .def("create_group", &Group::create_group, py::arg("path"))
      .def("require_group", &Group::require_group, py::arg("path"))
      .def("create_array", &create_array, py::arg("path"), py::arg("shape") = py::none(),
           py::arg("dtype") = py::none(), py::arg("chunks") = py::none(),
           py::arg("codec") = py::none(), py::arg("level") = py::none(),
           py::arg("extendable") = false, py::arg("data") = py::none(),
           py::arg("fill_value") = py::none(), py::arg("shuffle") = py::none(),
           "Creates a dataset; codec is an id ('blosc-lz4'), 'id:level' or a spec dict.")
      .def("create_ragged", &create_ragged, py::arg("path"), py::arg("dtype") = py::none(),
           py::arg("inner_shape") = py::none(), py::arg("shaped") = false,
           py::arg("codec") = py::none(), py::arg("level") = py::none(),
           py::arg("chunk_items") = py::none(), kCreateRaggedDoc)
      .def("visit",
           [](Group& g, py::function f) {
             g.visit([&](const std::string& path, NodeKind) { f(path); });
           })
      .def(
          "tree", [](Group& g) { return tree_text(g); },
          "The members below, one per line, with shapes and codecs.")
      .def_property_readonly("path", [](Group& g) { return g.path(); })
      // The full path, as h5py and zarr name a group.
      .def_property_readonly("name", [](Group& g) { return g.path(); })
      .def_property_readonly(
          "store_path", [](Group& g) { return g.store_path().string(); },
          "The file or directory of the store the group is in.")
      .def_property_readonly(
          "attrs", [](Group& g) -> Attributes& { return g.attrs(); },
          py::return_value_policy::reference_internal);
}

}  // namespace

codec::CodecSpec codec_from(py::object codec, py::object level, py::object shuffle) {
  codec::CodecSpec spec = codec.is_none() ? codec::CodecSpec{} : spec_from_python(codec);
  if (!level.is_none()) spec.level = level.cast<int>();
  if (!shuffle.is_none()) {
    spec.shuffle = codec::CodecSpec::parse("x:0:" + shuffle.cast<std::string>()).shuffle;
  }
  return spec;
}

void bind_store(py::module_& m) {
  py::class_<Attributes>(m, "Attributes", "A node's attributes, dict-like.")
      .def("__getitem__",
           [](const Attributes& a, const std::string& n) { return attribute_to_python(a.get(n)); })
      .def("__setitem__",
           [](Attributes& a, const std::string& n, py::handle v) { set_attribute(a, n, v); })
      .def("__delitem__", [](Attributes& a, const std::string& n) { a.remove(n); })
      .def("__contains__", [](const Attributes& a, const std::string& n) { return a.contains(n); })
      .def("__iter__", [](const Attributes& a) { return py::iter(py::cast(a.names())); })
      .def("__len__", [](const Attributes& a) { return a.names().size(); })
      .def("keys", [](const Attributes& a) { return a.names(); })
      .def("items",
           [](const Attributes& a) {
             py::list items;
             for (const auto& n : a.names())
               items.append(py::make_tuple(n, attribute_to_python(a.get(n))));
             return items;
           })
      .def(
          "get",
          [](const Attributes& a, const std::string& n, py::object fallback) {
            return a.contains(n) ? attribute_to_python(a.get(n)) : fallback;
          },
          py::arg("name"), py::arg("default") = py::none());

  py::class_<Dataset, std::shared_ptr<Dataset>>(m, "Dataset", R"(A stored N-D array.

Index it like numpy to read (a[10:20, ::2], a[[5, 1, 5]], a[mask], a[...])
and to write (a[0:10] = x); append(rows) grows an extendable array. Reads
and writes release the GIL; compressed chunks are decoded on all cores.)")
      .def("__getitem__",
           [](Dataset& d, py::handle key) { return read_python(d, selection_from(key)); })
      .def("__setitem__", [](Dataset& d, py::handle key,
                             py::handle value) { write_python(d, selection_from(key), value); })
      .def(
          "__array__",
          [](Dataset& d, py::object dtype) {
            py::object a = read_python(d, Selection());
            return dtype.is_none() ? a : a.attr("astype")(dtype);
          },
          py::arg("dtype") = py::none())
      .def("__len__",
           [](Dataset& d) {
             if (d.shape().rank() == 0) throw py::type_error("len() of a scalar dataset");
             return d.shape()[0];
           })
      .def(
          "append",
          [](Dataset& d, py::handle rows) {
            py::module_ np = py::module_::import("numpy");
            Array values = from_numpy(
                np.attr("asarray")(rows, py::arg("dtype") = to_numpy_dtype(d.dtype().native())));
            py::gil_scoped_release release;
            d.append(values);
          },
          py::arg("rows"),
          "Appends one row, or rows stacked along axis 0; committed when it returns.")
      .def(
          "gather",
          [](Dataset& d, py::handle rows) {
            py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> ids(
                py::array::ensure(rows));
            std::vector<std::int64_t> list(ids.data(), ids.data() + ids.size());
            Array out = Array::empty(DType::uint8(), Shape{0});
            {
              py::gil_scoped_release release;
              out = d.gather(list);
            }
            return to_numpy(std::move(out));
          },
          py::arg("rows"), "Rows in the order given, repeats allowed; each chunk is read once.")
      .def(
          "resize",
          [](Dataset& d, py::object shape) {
            d.resize(py::isinstance<py::int_>(shape)
                         ? d.shape().with(0, shape.cast<std::int64_t>())
                         : Shape(shape.cast<std::vector<std::int64_t>>()));
          },
          py::arg("shape"))
      .def_property_readonly(
          "shape",
          [](Dataset& d) {
            const Shape shape = d.shape();
            return py::tuple(py::cast(std::vector<std::int64_t>(shape.begin(), shape.end())));
          })
      .def_property_readonly("dtype",
                             [](Dataset& d) {
                               return d.dtype().kind() == DTypeKind::vstring
                                          ? py::dtype("O")
                                          : to_numpy_dtype(d.dtype());
                             })
      .def_property_readonly("ndim", [](Dataset& d) { return d.shape().rank(); })
      .def_property_readonly("size", [](Dataset& d) { return d.shape().num_elements(); })
      .def_property_readonly("nbytes", [](Dataset& d) { return d.storage_info().logical_bytes; })
      .def_property_readonly("chunks",
                             [](Dataset& d) -> py::object {
                               if (d.chunks().empty()) return py::none();
                               return py::tuple(py::cast(d.chunks()));
                             })
      .def_property_readonly("codec",
                             [](Dataset& d) -> py::object {
                               const auto c = d.codec();
                               return c ? to_python(c->to_json()) : py::none();
                             })
      .def_property_readonly("extendable", &Dataset::extendable)
      .def_property_readonly(
          "shuffle", &Dataset::shuffle_filter,
          "Whether HDF5's shuffle filter runs before the codec (h5py's shuffle).")
      .def_property_readonly("fill_value", [](Dataset& d) { return to_python(d.fill_value()); })
      .def_property_readonly("storage",
                             [](Dataset& d) {
                               const auto info = d.storage_info();
                               py::dict out;
                               out["logical_bytes"] = info.logical_bytes;
                               out["stored_bytes"] = info.stored_bytes;
                               out["layout"] = info.layout;
                               out["filters"] = info.filters;
                               return out;
                             })
      .def_property_readonly("path", [](Dataset& d) { return d.path(); })
      .def_property_readonly(
          "store_path", [](Dataset& d) { return d.store_path().string(); },
          "The file or directory of the store the array is in.")
      .def_property_readonly("name", [](Dataset& d) { return d.path(); })  // as h5py's
      .def_property_readonly(
          "attrs", [](Dataset& d) -> Attributes& { return d.attrs(); },
          py::return_value_policy::reference_internal)
      .def("__repr__", [](Dataset& d) {
        return fmt::format("<larder.Dataset '{}' shape={} dtype={}>", d.path(),
                           d.shape().to_string(), d.dtype().name());
      });

  py::class_<Group, std::shared_ptr<Group>> group(
      m, "Group", "A group of groups and datasets, addressed by paths.");
  bind_group_api(group);
  group.def("__repr__", [](Group& g) {
    return fmt::format("<larder.Group '{}' ({} members)>", g.path(), g.members().size());
  });

  py::class_<Store> store(m, "Store",
                          R"(An open store. Use larder.open(path, mode) as a context manager.)");
  store
      .def("__getitem__",
           [](Store& s, const std::string& path) { return open_member(*s.root(), path); })
      .def("__contains__",
           [](Store& s, const std::string& path) { return s.root()->contains(path); })
      .def("__delitem__", [](Store& s, const std::string& path) { s.root()->remove(path); })
      .def("__iter__",
           [](Store& s) {
             py::list names;
             for (const auto& mi : s.root()->members())
               names.append(mi.name);
             return py::iter(names);
           })
      .def("__len__", [](Store& s) { return s.root()->members().size(); })
      .def("keys",
           [](Store& s) {
             py::list names;
             for (const auto& mi : s.root()->members())
               names.append(mi.name);
             return names;
           })
      .def(
          "create_group", [](Store& s, const std::string& p) { return s.root()->create_group(p); },
          py::arg("path"))
      .def(
          "require_group",
          [](Store& s, const std::string& p) { return s.root()->require_group(p); },
          py::arg("path"))
      .def(
          "create_array",
          [](Store& s, const std::string& path, py::object shape, py::object dtype,
             py::object chunks, py::object codec, py::object level, bool extendable,
             py::object data, py::object fill_value, py::object shuffle) {
            return create_array(*s.root(), path, shape, dtype, chunks, codec, level, extendable,
                                data, fill_value, shuffle);
          },
          py::arg("path"), py::arg("shape") = py::none(), py::arg("dtype") = py::none(),
          py::arg("chunks") = py::none(), py::arg("codec") = py::none(),
          py::arg("level") = py::none(), py::arg("extendable") = false,
          py::arg("data") = py::none(), py::arg("fill_value") = py::none(),
          py::arg("shuffle") = py::none())
      .def(
          "create_ragged",
          [](Store& s, const std::string& path, py::object dtype, py::object inner_shape,
             bool shaped, py::object codec, py::object level, py::object chunk_items) {
            return create_ragged(*s.root(), path, dtype, inner_shape, shaped, codec, level,
                                 chunk_items);
          },
          py::arg("path"), py::arg("dtype") = py::none(), py::arg("inner_shape") = py::none(),
          py::arg("shaped") = false, py::arg("codec") = py::none(), py::arg("level") = py::none(),
          py::arg("chunk_items") = py::none(), kCreateRaggedDoc)
      .def("tree", [](Store& s) { return tree_text(*s.root()); })
      .def("visit",
           [](Store& s, py::function f) {
             s.root()->visit([&](const std::string& path, NodeKind) { f(path); });
           })
      .def_property_readonly("root", &Store::root)
      .def_property_readonly(
          "attrs", [](Store& s) -> Attributes& { return s.root()->attrs(); },
          py::return_value_policy::reference_internal)
      .def_property_readonly("path", [](Store& s) { return s.path().string(); })
      // h5py's File.filename and File.name ("/", the root group's path).
      .def_property_readonly("filename", [](Store& s) { return s.path().string(); })
      .def_property_readonly("name", [](Store& s) { return s.root()->path(); })
      .def_property_readonly("mode",
                             [](Store& s) { return std::string(store::to_string(s.mode())); })
      .def_property_readonly("driver", [](Store& s) { return std::string(s.driver()); })
      .def("flush", &Store::flush)
      .def("close", &Store::close)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](Store& s, py::object, py::object, py::object) { s.close(); })
      .def("__repr__", [](Store& s) {
        return fmt::format("<larder.Store '{}' mode={}{}>", s.path().string(),
                           store::to_string(s.mode()), s.is_open() ? "" : " closed");
      });

  m.def(
      "open",
      [](const std::string& path, std::optional<std::string> mode, const std::string& driver,
         std::size_t chunk_cache, bool in_memory, bool write_back, bool untrusted,
         bool follow_external, const std::string& dimension_separator) {
        store::StoreOptions options{.driver = driver,
                                    .chunk_cache_bytes = chunk_cache,
                                    .in_memory = in_memory,
                                    .write_back = write_back,
                                    .untrusted = untrusted,
                                    .follow_external = follow_external,
                                    .zarr_dimension_separator = dimension_separator};
        // A memory store has nothing to read: without a mode, it is made.
        if (!mode) mode = Store::driver_for(path, options) == "memory" ? "w" : "r";
        py::gil_scoped_release release;
        return Store::open(path, *mode, options);
      },
      py::arg("path"), py::arg("mode") = py::none(), py::arg("driver") = "",
      py::arg("chunk_cache") = std::size_t{64} << 20, py::arg("in_memory") = false,
      py::arg("write_back") = false, py::arg("untrusted") = false,
      py::arg("follow_external") = false, py::arg("dimension_separator") = ".",
      R"(Opens a store: mode r, r+, w, w- (or x), a, as in h5py (default r).

larder.open(":memory:") (or any name with driver="memory") makes a new,
empty store in RAM that lives as long as the Store; its default mode is w,
and r is an error (there is never one to read). larder.copy() saves it.

untrusted=True first walks the file in a child process, so a file that
crashes or hangs the HDF5 library raises larder.CorruptError instead.
dimension_separator ("." or "/") names the chunk files of the zarr arrays
this store creates: "0.0" (zarr's default) or "0/0".)");
}

}  // namespace larder::python
