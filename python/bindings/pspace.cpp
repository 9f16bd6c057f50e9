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

bool is_space_tag(std::string_view tag) {
  return tag == "!pspace" || tag == "!pspace-unsorted";
}

}  // namespace

py::object yaml_to_python(const Value& value) {
  return json_to_python(value, [](const Value& node) -> py::object {
    const std::string_view tag = tree::tag_of(node);
    if (tag.empty()) return {};
    if (is_space_tag(tag)) return py::cast(tree::ParamSpace::from_value(node, "<yaml>"));
    return py::cast(Tagged{std::string(tag), yaml_to_python(node["value"])});
  });
}

Value yaml_from_python(py::handle object) {
  if (object.is_none()) return Value(nullptr);
  if (py::isinstance<py::bool_>(object)) return Value(object.cast<bool>());
  if (py::isinstance<py::int_>(object)) {
    if (object.cast<py::int_>() < py::int_(0)) return Value(object.cast<std::int64_t>());
    return Value(object.cast<std::uint64_t>());
  }
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

Value yaml_of(const std::string& path_or_text) {
  // A short single line naming an existing file is read; anything else is YAML text.
  if (path_or_text.find('\n') == std::string::npos && path_or_text.size() < 4096) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path_or_text, ec)) return tree::read_yaml(path_or_text);
  }
  return tree::parse_yaml(path_or_text, "<string>");
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
      .def_property_readonly("values",
                             [](const tree::Combined& c) { return to_numpy(c.values.clone()); })
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
             return Tagged{tag, value};
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
          [](const std::string& path_or_text, const std::string& key) {
            Value doc = yaml_of(path_or_text);
            const Value* node = &doc;
            if (!key.empty()) {
              for (const auto& part : store::split_path(key)) {
                if (!node->is_object() || !node->contains(part))
                  throw Error(ErrorCode::not_found,
                              fmt::format("no key '{}' on the way to '{}'", part, key));
                node = &(*node)[part];
              }
            }
            return tree::ParamSpace::from_value(*node, "<yaml>");
          },
          py::arg("path_or_text"), py::arg("key") = "",
          "From a YAML file or text holding a !pspace (at `key`, a/b, when given)")
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
              out.append(py::make_tuple(p.state_no, p.state_name, yaml_to_python(p.params)));
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
              py::object got = field_of(p.state_no, yaml_to_python(p.params));
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
        return yaml_to_python(tree::parse_yaml(text, origin));
      },
      py::arg("text"), py::arg("origin") = "<string>",
      "YAML text as plain Python data, read as PyYAML's safe_load reads it");
  m.def(
      "read_yaml",
      [](const std::filesystem::path& path) { return yaml_to_python(tree::read_yaml(path)); },
      py::arg("path"), "A YAML file as plain Python data");
  m.def(
      "to_yaml", [](py::handle data) { return tree::to_yaml(yaml_from_python(data)); },
      py::arg("data"), "Block-style YAML for plain data (ParamSpace and Tagged keep their tags)");
}

}  // namespace larder::python
