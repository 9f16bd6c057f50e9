// larder.ParamSpace, larder.Tagged, larder.parse_yaml / read_yaml / to_yaml:
// YAML read as plain Python data (mappings keep their order) and paramspace's
// parameter spaces. A !pspace node becomes a ParamSpace, any other kept tag
// (a !pdim outside a !pspace) a Tagged(tag, value).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "bindings.h"
#include "larder/core/error.h"
#include "larder/store/store.h"
#include "larder/tree/combine.h"
#include "larder/tree/pspace.h"
#include "larder/tree/yaml.h"

namespace larder::python {

using tree::Value;

namespace {

struct Tagged {
  std::string tag;
  py::object value;
};

// yaml_to_python with the document's origin (its file name) for the errors
// of the parameter spaces in it.
py::object yaml_to_python_from(const Value& value, std::string_view origin) {
  return json_to_python(value, [origin](const Value& node) -> py::object {
    const std::string_view tag = tree::tag_of(node);
    if (tag.empty()) return {};
    if (tree::is_param_space(node)) return py::cast(tree::ParamSpace::from_value(node, origin));
    return py::cast(Tagged{std::string(tag), yaml_to_python_from(node["value"], origin)});
  });
}

}  // namespace

py::object yaml_to_python(const Value& value) {
  return yaml_to_python_from(value, "<yaml>");
}

Value yaml_from_python(py::handle object) {
  if (object.is_none()) return Value(nullptr);
  if (py::isinstance<py::bool_>(object)) return Value(object.cast<bool>());
  if (py::isinstance<py::int_>(object)) return int_to_json<Value>(object);
  if (py::isinstance<py::float_>(object)) return Value(object.cast<double>());
  if (py::isinstance<py::str>(object)) return Value(object.cast<std::string>());
  if (py::isinstance<tree::ParamSpace>(object)) return object.cast<tree::ParamSpace&>().to_value();
  if (py::isinstance<Tagged>(object)) {
    const auto& t = object.cast<const Tagged&>();
    return tree::make_tagged(t.tag, yaml_from_python(t.value));
  }
  if (py::isinstance<py::dict>(object)) {
    Value out = Value::object();
    for (auto item : py::reinterpret_borrow<py::dict>(object)) {
      if (!py::isinstance<py::str>(item.first))
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("mapping keys must be strings, got {}",
                                py::repr(item.first).cast<std::string>()));
      out[item.first.cast<std::string>()] = yaml_from_python(item.second);
    }
    if (!tree::tag_of(out).empty())
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("a mapping of just '!tag' and 'value' is reserved for tagged nodes; "
                      "use larder.Tagged('{}', ...) instead of {}",
                      std::string(tree::tag_of(out)), py::repr(object).cast<std::string>()));
    return out;
  }
  if (py::isinstance<py::list>(object) || py::isinstance<py::tuple>(object)) {
    Value out = Value::array();
    for (auto item : object)
      out.push_back(yaml_from_python(item));
    return out;
  }
  // numpy scalars and 0-d arrays by their kind; arrays as nested lists.
  if (py::hasattr(object, "dtype") && py::hasattr(object, "item") &&
      py::getattr(object, "ndim", py::int_(1)).cast<int>() == 0)
    return yaml_from_python(object.attr("item")());
  if (py::hasattr(object, "tolist")) return yaml_from_python(object.attr("tolist")());
  if (py::hasattr(object, "__fspath__"))
    return Value(py::str(py::module_::import("os").attr("fspath")(object)).cast<std::string>());
  if (py::hasattr(object, "items")) return yaml_from_python(py::dict(object.attr("items")()));
  throw Error(ErrorCode::invalid_argument,
              fmt::format("cannot turn {} into YAML data", py::repr(object).cast<std::string>()));
}

namespace {

// A path from a str or an os.PathLike; TypeError for anything else.
std::filesystem::path path_of(py::handle path) {
  if (!py::isinstance<py::str>(path) && !py::hasattr(path, "__fspath__"))
    throw py::type_error(fmt::format("expected a path (str or os.PathLike), got {}",
                                     py::repr(path).cast<std::string>()));
  py::object text = py::module_::import("os").attr("fspath")(path);
  if (!py::isinstance<py::str>(text))
    throw py::type_error(
        fmt::format("expected a str path, got {}", py::repr(text).cast<std::string>()));
  return std::filesystem::path(text.cast<std::string>());
}

// A document and its origin (the file name, or "<string>").
struct Document {
  Value value;
  std::string origin;
};

Document read_document(const std::filesystem::path& file) {
  return {tree::read_yaml(file), file.string()};
}

Document parse_document(const std::string& text, const std::string& origin) {
  return {tree::parse_yaml(text, origin), origin};
}

// from_yaml's argument: an os.PathLike is a file; a str is a file when one
// of that name exists, else YAML text, and a single line that is no YAML
// mapping is taken for a mistyped path (Error(not_found) naming it).
Document document_of(py::handle source) {
  if (!py::isinstance<py::str>(source)) return read_document(path_of(source));
  const std::string text = source.cast<std::string>();
  const bool one_line = text.find('\n') == std::string::npos;
  if (one_line && text.size() < 4096) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(text, ec)) return read_document(text);
  }
  Document doc = parse_document(text, "<string>");
  if (one_line && !doc.value.is_object())
    throw Error(ErrorCode::not_found,
                fmt::format("no YAML file '{}' (and as YAML text it is a {}, not a mapping)", text,
                            doc.value.type_name()),
                text);
  return doc;
}

// The parameter space at `key`, else the document's (first) !pspace, else
// the document itself as a plain mapping holding dimensions.
tree::ParamSpace space_of(const Document& doc, const std::string& key) {
  const Value* node = tree::find_param_space(doc.value, key, doc.origin);
  return tree::ParamSpace::from_value(node ? *node : doc.value, doc.origin);
}

py::list dims_list(const std::vector<tree::ParamDim>& dims) {
  py::list out;
  for (const auto& d : dims) {
    py::list values;
    for (const auto& v : d.values)
      values.append(yaml_to_python(v));
    out.append(py::make_tuple(d.name, values));
  }
  return out;
}

std::shared_ptr<store::Group> group_of(py::handle where) {
  if (py::isinstance<store::Store>(where)) return where.cast<store::Store&>().root();
  if (py::isinstance<store::Group>(where)) return where.cast<std::shared_ptr<store::Group>>();
  throw Error(ErrorCode::invalid_argument,
              fmt::format("write_combined writes into a larder.Store or larder.Group, not {}",
                          py::str(py::type::of(where)).cast<std::string>()));
}

}  // namespace

void bind_pspace(py::module_& m) {
  py::class_<tree::Combined>(m, "Combined",
                             "A field gathered over a parameter space: values, dims, coords")
      .def_property_readonly(
          "values",
          [](const tree::Combined& c) {
            // A read-only view of the result, not a copy per access.
            return to_numpy(
                Array::adopt_read_only(c.values.dtype(), c.values.shape(), c.values.buffer()));
          },
          "The gathered array (read-only; .copy() it to change it)")
      .def_readonly("dims", &tree::Combined::dims)
      .def_property_readonly("coords",
                             [](const tree::Combined& c) {
                               py::dict out;
                               for (const auto& coord : c.coords)
                                 out[py::str(coord.dim)] = yaml_to_python(coord.values);
                               return out;
                             })
      .def(
          "write",
          [](const tree::Combined& c, py::handle where, const std::string& path) {
            auto group = group_of(where);
            tree::write_combined(*group, path, c);
          },
          py::arg("where"), py::arg("path"),
          "Stores the values at `path` with dims and coords__<dim> attributes "
          "(docs/formats/selection.md)");

  py::class_<Tagged>(m, "Tagged",
                     "A YAML node with one of paramspace's tags found outside a !pspace")
      .def(py::init([](std::string tag, py::object value) {
             // As make_tagged checks: a kept tag over a mapping.
             tree::make_tagged(tag, yaml_from_python(value));
             return Tagged{std::move(tag), std::move(value)};
           }),
           py::arg("tag"), py::arg("value"))
      .def_readonly("tag", &Tagged::tag)
      .def_readonly("value", &Tagged::value)
      .def("__eq__",
           [](const Tagged& a, py::object b) {
             if (!py::isinstance<Tagged>(b)) return false;
             const auto& t = b.cast<const Tagged&>();
             return a.tag == t.tag && a.value.equal(t.value);
           })
      .def("__repr__", [](const Tagged& t) {
        return fmt::format("Tagged('{}', {})", t.tag, py::repr(t.value).cast<std::string>());
      });

  py::class_<tree::ParamSpace>(m, "ParamSpace",
                               "A parameter sweep as paramspace defines it (!pspace / !pdim)")
      .def(py::init([](py::handle mapping) {
             return tree::ParamSpace::from_value(yaml_from_python(mapping), "<dict>");
           }),
           py::arg("mapping"),
           "From a mapping whose values may be larder.Tagged('!pdim', {...}) nodes")
      .def_static(
          "from_yaml",
          [](py::handle source, const std::string& key) {
            return space_of(document_of(source), key);
          },
          py::arg("source"), py::arg("key") = "",
          "From a YAML file (os.PathLike, or a str naming an existing file) or YAML text: the "
          "!pspace at `key` (a/b) when given, else the document's first !pspace, else the "
          "document as a plain mapping")
      .def_static(
          "from_file",
          [](py::handle path, const std::string& key) {
            return space_of(read_document(path_of(path)), key);
          },
          py::arg("path"), py::arg("key") = "", "From a YAML file (str or os.PathLike)")
      .def_static(
          "from_text",
          [](const std::string& text, const std::string& key, const std::string& origin) {
            return space_of(parse_document(text, origin), key);
          },
          py::arg("text"), py::arg("key") = "", py::arg("origin") = "<string>",
          "From YAML text; `origin` names it in errors")
      .def_property_readonly(
          "dims", [](const tree::ParamSpace& s) { return dims_list(s.dims()); },
          "[(name, values)] in iteration order, the last varying fastest")
      .def_property_readonly("coupled_dims",
                             [](const tree::ParamSpace& s) { return dims_list(s.coupled_dims()); })
      .def_property_readonly("dim_names",
                             [](const tree::ParamSpace& s) {
                               std::vector<std::string> names;
                               for (const auto& d : s.dims())
                                 names.push_back(d.name);
                               return names;
                             })
      .def_property_readonly("shape",
                             [](const tree::ParamSpace& s) {
                               py::list shape;
                               for (auto n : s.shape())
                                 shape.append(n);
                               return py::tuple(shape);
                             })
      .def_property_readonly("volume", &tree::ParamSpace::volume)
      .def_property_readonly("num_dims", [](const tree::ParamSpace& s) { return s.dims().size(); })
      .def_property_readonly("max_state_no", &tree::ParamSpace::max_state_no)
      .def_property_readonly(
          "default", [](const tree::ParamSpace& s) { return yaml_to_python(s.default_params()); })
      .def(
          "points",
          [](const tree::ParamSpace& s) {
            py::list out;
            for (const auto& p : s.points())
              out.append(py::make_tuple(p.state_no, p.state_name, yaml_to_python(s.params_of(p))));
            return out;
          },
          "[(state_no, state_name, params)] for every active point, in state order")
      .def(
          "coords",
          [](const tree::ParamSpace& s) {
            py::list out;
            for (const auto& p : s.points()) {
              py::dict coords;
              for (std::size_t i = 0; i < s.dims().size(); ++i)
                coords[py::str(s.dims()[i].name)] = yaml_to_python(p.coords[i]);
              out.append(py::make_tuple(p.state_no, coords));
            }
            return out;
          },
          "[(state_no, {dim: value})] for every active point")
      .def(
          "subspace",
          [](const tree::ParamSpace& s, py::object selection, py::kwargs kwargs) {
            py::dict sel;
            if (!selection.is_none()) sel = py::dict(selection);
            for (auto item : kwargs)
              sel[item.first] = item.second;
            return s.subspace(yaml_from_python(sel), "<subspace>");
          },
          py::arg("selection") = py::none(),
          "Only the selected values active: {dim: value | [values] | {'idx': [...]} | "
          "{'loc': [...]}} or dim=... keywords")
      .def(
          "combine",
          [](const tree::ParamSpace& s, py::function field_of, const std::string& field,
             const std::string& method, std::vector<std::string> dims) {
            auto get = [&](const tree::Point& p) -> std::optional<Array> {
              py::object got = field_of(p.state_no, yaml_to_python(s.params_of(p)));
              if (got.is_none()) return std::nullopt;
              return from_numpy(got);
            };
            return tree::combine(s, field, get, tree::combine_method(method), std::move(dims));
          },
          py::arg("field_of"), py::arg("field") = "field", py::arg("method") = "concat",
          py::arg("dims") = std::vector<std::string>{},
          "field_of(state_no, params) -> array or None, for every active point; gathered "
          "into one array with dims (sweep dims..., data dims...)")
      .def("state_name",
           [](const tree::ParamSpace& s, std::int64_t n) { return tree::state_name(s, n); })
      .def("to_yaml", [](const tree::ParamSpace& s) { return tree::to_yaml(s.to_value()); })
      .def("__len__", [](const tree::ParamSpace& s) { return s.volume(); })
      .def("__repr__", [](const tree::ParamSpace& s) {
        std::vector<std::string> dims;
        for (const auto& d : s.dims())
          dims.push_back(fmt::format("{}: {}", d.name, d.values.size()));
        return fmt::format("<larder.ParamSpace dims {{{}}} volume {}>", fmt::join(dims, ", "),
                           s.volume());
      });

  m.def(
      "parse_yaml",
      [](const std::string& text, const std::string& origin) {
        return yaml_to_python_from(tree::parse_yaml(text, origin), origin);
      },
      py::arg("text"), py::arg("origin") = "<string>",
      "YAML text as plain Python data, read as PyYAML's safe_load reads it");
  m.def(
      "read_yaml",
      [](py::handle path) {
        const auto doc = read_document(path_of(path));
        return yaml_to_python_from(doc.value, doc.origin);
      },
      py::arg("path"), "A YAML file (str or os.PathLike) as plain Python data");
  m.def(
      "to_yaml", [](py::handle data) { return tree::to_yaml(yaml_from_python(data)); },
      py::arg("data"), "Block-style YAML for plain data (ParamSpace and Tagged keep their tags)");
}

}  // namespace larder::python
