// larder.Data, larder.Trace and @larder.operation: the trace layer from
// Python. The skip logic, hashing, node writing and crash marking all live
// in C++; a Python operation is a C++ ArrayOperation calling the function.
#include <fmt/format.h>

#include "bindings.h"
#include "larder/core/error.h"
#include "larder/store/table.h"
#include "larder/trace/data.h"
#include "larder/trace/trace.h"

namespace larder::python {
namespace {

using trace::ApplyOptions;
using trace::ApplyResult;
using trace::Data;
using trace::Dict;
using trace::DictValue;
using trace::Trace;
using trace::VariableInfo;

py::tuple dims(const Shape& shape) {
  return py::tuple(py::cast(std::vector<std::int64_t>(shape.begin(), shape.end())));
}

py::dict info_dict(const VariableInfo& info) {
  py::dict d;
  d["name"] = info.name;
  d["kind"] = std::string(to_string(info.kind));
  const bool has_dtype =
      info.kind != trace::VariableKind::dict && info.kind != trace::VariableKind::table;
  d["dtype"] = has_dtype ? py::object(to_numpy_dtype(info.dtype)) : py::object(py::none());
  d["shape"] = dims(info.shape);
  d["nbytes"] = info.nbytes;
  d["hash"] = info.hash;
  if (info.kind == trace::VariableKind::link) {
    d["file"] = info.link_file;
    d["path"] = info.link_path;
  }
  return d;
}

py::object value_to_python(Array value, bool scalar) {
  py::array a = to_numpy(std::move(value));
  if (scalar) return a[py::tuple()];
  return a;
}

// A dict variable read (without the GIL) into a Python dict.
py::dict dict_of(Trace& t, const std::string& name) {
  Dict dict;
  {
    py::gil_scoped_release release;
    dict = t.get_dict(name);
  }
  py::dict out;
  for (auto& [k, v] : dict)
    out[py::str(k)] = value_to_python(std::move(v.value), v.scalar);
  return out;
}

// A table variable read (without the GIL) as a dict of numpy columns.
py::object table_of(Trace& t, const std::string& name) {
  store::Table table;
  {
    py::gil_scoped_release release;
    table = t.get_table(name);
  }
  return table_to_python(std::move(table));
}

// An array or numpy scalar for a dict member; Error naming the key otherwise.
DictValue member_from(const std::string& dict, const std::string& key, py::handle value) {
  static const py::object numpy_generic = py::module_::import("numpy").attr("generic");
  static const py::object ndarray = py::module_::import("numpy").attr("ndarray");
  const bool scalar = py::isinstance(value, numpy_generic) || py::isinstance<py::bool_>(value) ||
                      py::isinstance<py::int_>(value) || py::isinstance<py::float_>(value);
  if (!scalar && !py::isinstance(value, ndarray)) {
    throw Error(
        ErrorCode::type_mismatch,
        fmt::format("dict {}: key {} holds a {}; dict values must be numpy arrays or "
                    "numbers (nested dicts are not stored)",
                    dict, key, py::str(py::type::of(value).attr("__name__")).cast<std::string>()));
  }
  py::object array = py::module_::import("numpy").attr("asarray")(value);
  const char kind = py::reinterpret_borrow<py::array>(array).dtype().kind();
  if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f' && kind != 'c') {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("dict {}: key {} holds dtype {}, not a number or bool", dict, key,
                            py::str(array.attr("dtype")).cast<std::string>()));
  }
  return DictValue{.value = from_numpy(array), .scalar = scalar};
}

// A dict of columns (or a pandas DataFrame, through its items()) as a table.
store::Table table_from(py::handle columns) {
  store::Table table;
  py::object items = columns.attr("items")();
  for (py::handle item : items) {
    py::tuple pair = py::reinterpret_borrow<py::tuple>(item);
    table.names.push_back(py::str(pair[0]).cast<std::string>());
    table.columns.push_back(from_numpy(pair[1]));
  }
  return table;
}

py::dict node_dict(const trace::Node& node) {
  return to_python(trace::to_json(node));
}

py::dict graph_dict(const trace::Graph& graph) {
  py::list nodes, edges;
  for (const auto& n : graph.nodes)
    nodes.append(node_dict(n));
  for (const auto& e : graph.edges) {
    py::dict d;
    d["from"] = e.from;
    d["to"] = e.to;
    d["variable"] = e.variable;
    edges.append(d);
  }
  py::dict g;
  g["nodes"] = nodes;
  g["edges"] = edges;
  return g;
}

class PythonOperation final : public trace::ArrayOperation {
 public:
  PythonOperation(std::string name, int version, std::shared_ptr<py::object> function)
      : name_(std::move(name)), version_(version), function_(std::move(function)) {}
  std::string name() const override { return name_; }
  int version() const override { return version_; }
  std::vector<Array> compute(std::vector<Array> inputs, const nlohmann::json& params,
                             trace::OperationContext& context) override {
    py::gil_scoped_acquire gil;
    py::list args;
    for (auto& a : inputs)
      args.append(to_numpy(std::move(a)));
    py::dict kwargs = to_python(params);
    py::object result;
    try {
      result = (*function_)(*py::tuple(args), **kwargs);
    } catch (py::error_already_set& e) {
      // Formats the message while the GIL is held: the C++ side reads
      // what() after releasing it, when it records the step as failed.
      (void)e.what();
      throw;
    }
    std::vector<Array> outputs;
    if (py::isinstance<py::tuple>(result)) {
      for (py::handle item : result)
        outputs.push_back(from_numpy(py::module_::import("numpy").attr("asarray")(item)));
    } else {
      outputs.push_back(from_numpy(py::module_::import("numpy").attr("asarray")(result)));
    }
    (void)context;
    return outputs;
  }

 private:
  std::string name_;
  int version_;
  std::shared_ptr<py::object> function_;
};

}  // namespace

void bind_trace(py::module_& m) {
  m.def(
      "register_operation",
      [](const std::string& name, int version, py::function function) {
        // The registry outlives the interpreter: the function is kept for
        // the life of the process and never released after shutdown.
        auto held = std::shared_ptr<py::object>(new py::object(function), [](py::object* p) {
          if (!Py_IsInitialized()) return;
          py::gil_scoped_acquire gil;
          delete p;
        });
        trace::OperationRegistry::instance().add(name, [name, version, held] {
          return std::make_unique<PythonOperation>(name, version, held);
        });
      },
      py::arg("name"), py::arg("version"), py::arg("function"));
  m.def("registered_operations", [] { return trace::OperationRegistry::instance().names(); });

  py::class_<Trace>(m, "_Trace", "The engine's trace; use larder.Trace.")
      .def_static(
          "create",
          [](const std::string& folder, const std::string& group, py::object seed) {
            trace::TraceOptions options;
            if (!seed.is_none()) options.seed = seed.cast<std::uint64_t>();
            py::gil_scoped_release release;
            return Trace::create(folder, group, options);
          },
          py::arg("folder"), py::arg("group") = "", py::arg("seed") = py::none())
      .def_static(
          "link",
          [](const std::string& folder, const std::string& group, bool read_only) {
            py::gil_scoped_release release;
            return Trace::link(folder, group, {.read_only = read_only});
          },
          py::arg("folder"), py::arg("group") = "", py::arg("read_only") = false)
      .def_property_readonly("folder", [](const Trace& t) { return t.folder().string(); })
      .def_property_readonly("code", &Trace::code)
      .def_property_readonly("seed", &Trace::seed)
      .def_property_readonly("group", &Trace::group)
      .def("groups", &Trace::groups)
      .def("create_group", &Trace::create_group)
      .def("change_group", &Trace::change_group)
      .def("files_folder", [](Trace& t) { return t.files_folder().string(); })
      .def("readings_folder", [](Trace& t) { return t.readings_folder().string(); })
      .def("outputs_folder", [](Trace& t) { return t.outputs_folder().string(); })
      .def("set_array",
           [](Trace& t, const std::string& name, py::handle value) {
             Array a = from_numpy(value);
             py::gil_scoped_release release;
             t.set_array(name, a);
           })
      .def("set_scalar",
           [](Trace& t, const std::string& name, py::handle value) {
             Array a = from_numpy(py::module_::import("numpy").attr("asarray")(value));
             py::gil_scoped_release release;
             t.set_scalar(name, a);
           })
      .def("set_dict",
           [](Trace& t, const std::string& name, py::dict value) {
             Dict dict;
             for (auto [k, v] : value) {
               if (!py::isinstance<py::str>(k)) {
                 throw Error(ErrorCode::invalid_argument,
                             fmt::format("dict {}: key {} is not a string", name,
                                         py::repr(k).cast<std::string>()));
               }
               const std::string key = k.cast<std::string>();
               dict.emplace(key, member_from(name, key, v));
             }
             py::gil_scoped_release release;
             t.set_dict(name, dict);
           })
      .def("set_table",
           [](Trace& t, const std::string& name, py::handle columns) {
             store::Table table = table_from(columns);
             py::gil_scoped_release release;
             t.set_table(name, table);
           })
      .def("get_table", &table_of)
      .def("set_link",
           [](Trace& t, const std::string& name, const std::string& file, const std::string& path) {
             py::gil_scoped_release release;
             t.set_link(name, file, path);
           })
      .def("exists", &Trace::exists)
      .def("info", [](const Trace& t, const std::string& name) { return info_dict(t.info(name)); })
      .def("variables_info",
           [](const Trace& t) {
             py::list list;
             for (const auto& v : t.variables())
               list.append(info_dict(v));
             return list;
           })
      .def("variables",
           [](const Trace& t) {
             std::vector<std::string> names;
             for (const auto& v : t.variables())
               names.push_back(v.name);
             return names;
           })
      .def("remove", &Trace::remove)
      .def("get",
           [](Trace& t, const std::string& name) -> py::object {
             switch (t.info(name).kind) {
               case trace::VariableKind::array:
               case trace::VariableKind::link:
                 return py::cast(t.dataset(name));
               case trace::VariableKind::scalar: {
                 Array a = Array::empty(DType::uint8(), Shape{0});
                 {
                   py::gil_scoped_release release;
                   a = t.get(name);
                 }
                 return value_to_python(std::move(a), true);
               }
               case trace::VariableKind::dict:
                 return dict_of(t, name);
               case trace::VariableKind::table:
                 return table_of(t, name);
             }
             return py::none();
           })
      .def("dataset", &Trace::dataset)
      .def(
          "read",
          [](Trace& t, const std::string& name, py::handle key) {
            const Selection selection = key.is_none() ? Selection() : selection_from(key);
            Array a = Array::empty(DType::uint8(), Shape{0});
            bool scalar = false;
            {
              py::gil_scoped_release release;
              scalar = t.info(name).kind == trace::VariableKind::scalar;
              a = t.get(name, selection);
            }
            return value_to_python(std::move(a), scalar);
          },
          py::arg("name"), py::arg("key") = py::none())
      .def("get_dict", &dict_of)
      .def("read_key",
           [](Trace& t, const std::string& name, const std::string& key) {
             DictValue v;
             {
               py::gil_scoped_release release;
               v = t.read_key(name, key);
             }
             return value_to_python(std::move(v.value), v.scalar);
           })
      .def("write_key",
           [](Trace& t, const std::string& name, const std::string& key, py::handle value) {
             DictValue v = member_from(name, key, value);
             py::gil_scoped_release release;
             t.write_key(name, key, v);
           })
      .def(
          "apply",
          [](Trace& t, const std::string& operation, std::vector<std::string> inputs,
             std::vector<std::string> outputs, py::handle params, bool force) {
            ApplyOptions options{
                .inputs = std::move(inputs),
                .outputs = std::move(outputs),
                .params = params.is_none() ? nlohmann::json::object() : to_json(params),
                .force = force};
            ApplyResult result;
            {
              py::gil_scoped_release release;
              result = t.apply(operation, options);
            }
            py::dict out;
            out["skipped"] = result.skipped;
            out["node"] = node_dict(result.node);
            return out;
          },
          py::arg("operation"), py::arg("inputs"), py::arg("outputs"),
          py::arg("params") = py::none(), py::arg("force") = false)
      .def("graph", [](const Trace& t) { return graph_dict(t.graph()); })
      .def("lineage",
           [](const Trace& t, const std::string& variable) {
             const trace::Lineage l = t.lineage(variable);
             py::list steps;
             for (const auto& n : l.steps)
               steps.append(node_dict(n));
             py::dict d;
             d["variable"] = l.variable;
             d["steps"] = steps;
             d["sources"] = l.sources;
             return d;
           })
      .def("dot", [](const Trace& t) { return trace::to_dot(t.graph(), "trace_" + t.code()); })
      .def("flush",
           [](Trace& t) {
             py::gil_scoped_release release;
             t.flush();
           })
      .def("close", [](Trace& t) {
        py::gil_scoped_release release;
        t.close();
      });

  py::class_<Data>(m, "_Data", "The engine's data store; use larder.Data.")
      .def_static("create",
                  [](const std::string& folder) {
                    py::gil_scoped_release release;
                    return Data::create(folder);
                  })
      .def_static("link",
                  [](const std::string& folder, const std::string& code) {
                    py::gil_scoped_release release;
                    return Data::link(folder, code);
                  })
      .def_property_readonly("file", [](const Data& d) { return d.file().string(); })
      .def_property_readonly("code", &Data::code)
      .def_property_readonly("used", &Data::used)
      .def("from_array",
           [](Data& d, const std::string& name, py::handle value) {
             Array a = from_numpy(value);
             py::gil_scoped_release release;
             d.from_array(name, a);
           })
      .def("from_table",
           [](Data& d, const std::string& name, py::handle columns) {
             store::Table table = table_from(columns);
             py::gil_scoped_release release;
             d.from_table(name, table);
           })
      .def("table",
           [](Data& d, const std::string& name) {
             store::Table table;
             {
               py::gil_scoped_release release;
               table = d.table(name);
             }
             return table_to_python(std::move(table));
           })
      .def("load_npy",
           [](Data& d, const std::string& name, const std::string& file) {
             py::gil_scoped_release release;
             d.load_npy(name, file);
           })
      .def("load_npz",
           [](Data& d, const std::string& file, const std::string& prefix) {
             py::gil_scoped_release release;
             return d.load_npz(file, prefix);
           })
      .def("load_csv",
           [](Data& d, const std::string& name, const std::string& file, char delimiter,
              bool header) {
             py::gil_scoped_release release;
             d.load_csv(name, file, {.delimiter = delimiter, .header = header});
           })
      .def("load_tiff",
           [](Data& d, const std::string& name, const std::string& path,
              const std::vector<std::string>& extensions) {
             std::vector<std::string> files;
             {
               py::gil_scoped_release release;
               for (const auto& f : d.load_tiff(name, path, {.extensions = extensions}))
                 files.push_back(f.string());
             }
             return files;
           })
      .def("load_json",
           [](Data& d, const std::string& name, const std::string& file) {
             py::gil_scoped_release release;
             d.load_json(name, file);
           })
      .def("use", &Data::use)
      .def("close", &Data::close)
      .def("contains", &Data::contains)
      .def("dataset", &Data::dataset)
      .def(
          "read",
          [](Data& d, py::handle key) {
            const Selection selection = key.is_none() ? Selection() : selection_from(key);
            Array a = Array::empty(DType::uint8(), Shape{0});
            {
              py::gil_scoped_release release;
              a = d.read(selection);
            }
            return value_to_python(std::move(a), false);
          },
          py::arg("key") = py::none())
      .def("info", [](Data& d) {
        py::list list;
        for (const auto& e : d.info()) {
          py::dict item;
          item["name"] = e.name;
          item["kind"] = e.kind;
          item["dtype"] =
              e.kind == "table" ? py::object(py::none()) : py::object(to_numpy_dtype(e.dtype));
          item["shape"] = dims(e.shape);
          list.append(item);
        }
        return list;
      });
}

}  // namespace larder::python
