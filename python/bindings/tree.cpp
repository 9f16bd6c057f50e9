// The data tree in Python: DataManager, tree groups and leaves, select, and
// loaders written in Python (larder.register_loader). Tree objects keep the
// tree's root alive; loads and selects run without the GIL, which Python
// loaders take back while they run.
#include <fmt/format.h>
#include <pybind11/functional.h>

#include <filesystem>

#include "bindings.h"
#include "larder/tree/data_manager.h"
#include "larder/tree/loaders.h"
#include "larder/tree/print.h"
#include "larder/tree/select.h"

namespace larder::python {
namespace {

using tree::Value;

// A tree node seen from Python: the node and the root that keeps its parents alive.
struct TreeRef {
  std::shared_ptr<tree::Group> root;
  std::shared_ptr<tree::Node> node;
};

struct PyGroup : TreeRef {};
struct PyArrayLeaf : TreeRef {};

tree::Group& group_of(const TreeRef& ref) {
  return static_cast<tree::Group&>(*ref.node);
}

py::object wrap(const std::shared_ptr<tree::Group>& root, std::shared_ptr<tree::Node> node) {
  if (node->is_group()) return py::cast(PyGroup{{root, std::move(node)}});
  if (dynamic_cast<tree::ArrayLeaf*>(node.get()))
    return py::cast(PyArrayLeaf{{root, std::move(node)}});
  if (auto* m = dynamic_cast<tree::MappingLeaf*>(node.get())) return yaml_to_python(m->value());
  if (auto* o = dynamic_cast<tree::ObjectLeaf*>(node.get())) return yaml_to_python(o->value());
  if (auto* s = dynamic_cast<tree::StringLeaf*>(node.get())) return py::str(s->text());
  if (auto* p = dynamic_cast<tree::PathLeaf*>(node.get()))
    return py::module_::import("pathlib").attr("Path")(p->fs_path().string());
  return py::none();
}

// The member name of an int key. A ParamSpaceGroup names its states by
// zero-padded numbers of one width: the width of a member's name, so the
// parameter space is parsed only when the key names no member.
std::string key_of(tree::Group& group, py::handle key) {
  if (py::isinstance<py::int_>(key) && !py::isinstance<py::bool_>(key)) {
    const auto number = key.cast<std::int64_t>();
    std::string bare = std::to_string(number);
    if (group.group_class() != tree::GroupClass::param_space) return bare;
    if (!group.empty()) {
      const std::size_t width = group.members().front()->name().size();
      std::string padded = number < 0 ? bare : fmt::format("{:0{}d}", number, width);
      if (group.contains(padded)) return padded;
      if (group.contains(bare)) return bare;
    }
    return tree::state_name(tree::param_space_of(group), number);
  }
  return key.cast<std::string>();
}

py::object get_item(const TreeRef& ref, py::handle key) {
  auto& group = group_of(ref);
  return wrap(ref.root, group.shared_at(key_of(group, key)));
}

bool contains(const TreeRef& ref, py::handle key) {
  if (!py::isinstance<py::str>(key) && !py::isinstance<py::int_>(key)) return false;
  auto& group = group_of(ref);
  try {
    return group.contains(key_of(group, key));
  } catch (const Error&) {
    return false;
  }
}

py::object combined_to_python(tree::Combined combined) {
  py::dict coords;
  for (const auto& c : combined.coords)
    coords[py::str(c.dim)] = yaml_to_python(c.values);
  py::tuple dims(combined.dims.size());
  for (std::size_t i = 0; i < combined.dims.size(); ++i)
    dims[i] = py::str(combined.dims[i]);
  return py::module_::import("larder.tree")
      .attr("Selection")(to_numpy(std::move(combined.values)), dims, coords);
}

py::object select_py(const TreeRef& ref, py::object field, py::object fields, py::object subspace,
                     const std::string& method) {
  auto& group = group_of(ref);
  tree::SelectOptions options{.subspace = yaml_from_python(subspace),
                              .method = tree::combine_method(method)};
  std::vector<tree::FieldSpec> wanted;
  const bool single = !field.is_none();
  if (single == !fields.is_none()) {
    throw Error(ErrorCode::invalid_argument, "select takes exactly one of field= and fields=");
  }
  // A path ("data/x" or ["data", "x"]), or {"path": ..., "dims": [...]}.
  const auto spec_of = [](std::string name, py::handle f) {
    const auto path_of = [](py::handle p) {
      if (py::isinstance<py::list>(p) || py::isinstance<py::tuple>(p)) {
        std::string path;
        for (auto s : p)
          path += (path.empty() ? "" : "/") + s.cast<std::string>();
        return path;
      }
      return p.cast<std::string>();
    };
    tree::FieldSpec spec{.name = std::move(name)};
    if (!py::isinstance<py::dict>(f)) {
      spec.path = path_of(f);
      return spec;
    }
    for (auto [key, value] : f.cast<py::dict>()) {
      const auto k = key.cast<std::string>();
      if (k == "path") {
        spec.path = path_of(value);
      } else if (k == "dims") {
        spec.dims = value.cast<std::vector<std::string>>();
      } else {
        throw Error(ErrorCode::unsupported,
                    fmt::format("field spec key '{}' is not supported (keys: path, dims)", k));
      }
    }
    if (spec.path.empty()) {
      throw Error(ErrorCode::invalid_argument, "a field spec needs a 'path'");
    }
    return spec;
  };
  if (single) {
    wanted.push_back(spec_of("", field));
  } else {
    for (auto item : fields.cast<py::dict>())
      wanted.push_back(spec_of(item.first.cast<std::string>(), item.second));
  }
  std::vector<std::pair<std::string, tree::Combined>> results;
  {
    py::gil_scoped_release release;
    results = tree::select_fields(group, wanted, options);
  }
  if (single) return combined_to_python(std::move(results[0].second));
  py::dict out;
  for (auto& [name, combined] : results)
    out[py::str(name)] = combined_to_python(std::move(combined));
  return out;
}

// A node from what a Python loader returned.
std::shared_ptr<tree::Node> node_from_python(py::handle result, const std::string& name) {
  if (py::isinstance<py::str>(result))
    return std::make_shared<tree::StringLeaf>(name, result.cast<std::string>());
  if (py::isinstance<py::dict>(result))
    return std::make_shared<tree::MappingLeaf>(name, yaml_from_python(result));
  if (py::isinstance<py::array>(result) || py::hasattr(result, "__array_interface__")) {
    const Array wrapped = from_numpy(result);
    return std::make_shared<tree::ArrayLeaf>(name, Array::copy_of(wrapped.view()));
  }
  return std::make_shared<tree::ObjectLeaf>(name, yaml_from_python(result));
}

void register_loader(const std::string& name, py::function function) {
  // Held for the life of the process: the registry outlives the interpreter's
  // objects, and a Python object must not be released without the GIL.
  auto* held = new py::function(std::move(function));
  tree::LoaderRegistry::global().add(
      name, {[held](const tree::LoadRequest& request) {
               py::gil_scoped_acquire gil;
               try {
                 py::object result = (*held)(request.file.string());
                 auto node = node_from_python(result, request.name);
                 node->attrs()["filepath"] = request.file.string();
                 return node;
               } catch (py::error_already_set& e) {
                 throw Error(ErrorCode::invalid_argument,
                             std::string("Python loader failed: ") + e.what(),
                             request.file.string());
               }
             },
             {"*"}});
}

tree::DataManagerOptions dm_options(py::object load_cfg, py::object out_dir,
                                    py::object create_groups, py::object group_map,
                                    const std::string& name, const std::string& timefstr,
                                    bool exist_ok) {
  tree::DataManagerOptions o;
  o.name = name;
  o.load_cfg = yaml_from_python(load_cfg);
  if (out_dir.is_none() || (py::isinstance<py::bool_>(out_dir) && !out_dir.cast<bool>())) {
    o.out_dir = std::nullopt;
  } else if (!py::isinstance<py::bool_>(out_dir)) {
    o.out_dir = yaml_from_python(out_dir).get<std::string>();
  }
  o.timefstr = timefstr;
  o.out_dir_exist_ok = exist_ok;
  if (!create_groups.is_none()) {
    for (auto spec : create_groups) {
      if (py::isinstance<py::str>(spec)) {
        o.create_groups.push_back({spec.cast<std::string>(), tree::GroupClass::ordered});
        continue;
      }
      auto d = spec.cast<py::dict>();
      tree::GroupSpec g{d["path"].cast<std::string>(), tree::GroupClass::ordered};
      if (d.contains("Cls")) g.cls = tree::group_class_from(d["Cls"].cast<std::string>());
      o.create_groups.push_back(std::move(g));
    }
  }
  if (!group_map.is_none()) {
    o.group_map.clear();  // the map given replaces the default
    for (auto item : group_map.cast<py::dict>())
      o.group_map[item.first.cast<std::string>()] =
          tree::group_class_from(item.second.cast<std::string>());
  }
  return o;
}

}  // namespace

void bind_tree(py::module_& m) {
  using tree::DataManager;

  // pybind11 casts `self` to the bound class only, so each lambda takes it.
  const auto common = [](auto& cls) {
    using T = typename std::decay_t<decltype(cls)>::type;
    cls.def_property_readonly("name", [](const T& r) { return r.node->name(); })
        .def_property_readonly("path", [](const T& r) { return r.node->path(); })
        .def_property_readonly("classname", [](const T& r) { return r.node->class_name(); })
        .def_property_readonly("attrs", [](const T& r) { return yaml_to_python(r.node->attrs()); })
        .def("__repr__", [](const T& r) {
          return "<" + r.node->class_name() + " '" + r.node->path() + "', " + r.node->info() + ">";
        });
  };

  py::class_<PyGroup> group(m, "TreeGroup", "A group of the data tree (see larder.DataManager)");
  common(group);
  group.def("__getitem__", [](const PyGroup& g, py::handle key) { return get_item(g, key); })
      .def("__contains__", [](const PyGroup& g, py::handle key) { return contains(g, key); })
      .def("__len__", [](const PyGroup& g) { return group_of(g).size(); })
      .def("__iter__", [](const PyGroup& g) { return py::iter(py::cast(group_of(g).keys())); })
      .def("keys", [](const PyGroup& g) { return group_of(g).keys(); })
      .def("values",
           [](const PyGroup& g) {
             py::list out;
             for (const auto& member : group_of(g).members())
               out.append(wrap(g.root, member));
             return out;
           })
      .def("items",
           [](const PyGroup& g) {
             py::list out;
             for (const auto& member : group_of(g).members())
               out.append(py::make_tuple(member->name(), wrap(g.root, member)));
             return out;
           })
      .def_property_readonly("tree", [](const PyGroup& g) { return tree::tree_text(group_of(g)); })
      .def_property_readonly(
          "tree_condensed", [](const PyGroup& g) { return tree::condensed_tree_text(group_of(g)); })
      .def_property_readonly("times", [](const PyGroup& g) { return group_of(g).times(); })
      .def_property_readonly(
          "pspace", [](const PyGroup& g) { return py::cast(tree::param_space_of(group_of(g))); })
      .def(
          "select",
          [](const PyGroup& g, py::object field, py::object fields, py::object subspace,
             const std::string& method) { return select_py(g, field, fields, subspace, method); },
          py::kw_only(), py::arg("field") = py::none(), py::arg("fields") = py::none(),
          py::arg("subspace") = py::none(), py::arg("method") = "concat",
          "Gathers a field of every state into one N-D array (a larder.tree.Selection); "
          "fields={'a': 'data/x', ...} gives a dict of them");

  py::class_<PyArrayLeaf> array_leaf(m, "TreeArray", "An array leaf of the data tree");
  common(array_leaf);
  array_leaf
      .def_property_readonly(
          "data",
          [](const PyArrayLeaf& a) {
            const auto& leaf = static_cast<const tree::ArrayLeaf&>(*a.node);
            const Array* data = nullptr;
            {
              py::gil_scoped_release release;
              data = &leaf.data();
            }
            // A read-only view sharing the leaf's buffer: no copy.
            return to_numpy(Array::adopt_read_only(data->dtype(), data->shape(), data->buffer()));
          })
      .def_property_readonly(
          "shape",
          [](const PyArrayLeaf& a) {
            const auto s = static_cast<const tree::ArrayLeaf&>(*a.node).shape();
            return py::tuple(py::cast(std::vector<std::int64_t>(s.begin(), s.end())));
          })
      .def_property_readonly("dtype", [](const PyArrayLeaf& a) {
        return to_numpy_dtype(static_cast<const tree::ArrayLeaf&>(*a.node).dtype());
      });

  py::class_<DataManager, std::shared_ptr<DataManager>>(m, "DataManager", R"doc(
A data directory loaded into a tree from a dantro load config.

DataManager(data_dir, load_cfg=None, out_dir="_output/{timestamp:}", create_groups=None,
group_map=None, name="", timefstr="%y%m%d-%H%M%S", exist_ok=False); out_dir=False writes nothing;
group_map=None is {"time_series": "TimeSeriesGroup"} (the CLI's too), a dict replaces it.)doc")
      .def(py::init([](const std::string& data_dir, py::object load_cfg, py::object out_dir,
                       py::object create_groups, py::object group_map, const std::string& name,
                       const std::string& timefstr, bool exist_ok) {
             return std::make_shared<DataManager>(
                 data_dir,
                 dm_options(load_cfg, out_dir, create_groups, group_map, name, timefstr, exist_ok));
           }),
           py::arg("data_dir"), py::kw_only(), py::arg("load_cfg") = py::none(),
           py::arg("out_dir") = py::str("_output/{timestamp:}"),
           py::arg("create_groups") = py::none(), py::arg("group_map") = py::none(),
           py::arg("name") = "", py::arg("timefstr") = "%y%m%d-%H%M%S", py::arg("exist_ok") = false)
      .def(
          "_load_from_cfg",
          [](DataManager& dm, py::object load_cfg, py::object update,
             const std::string& exists_action) {
            const Value cfg = yaml_from_python(load_cfg);
            const Value upd = yaml_from_python(update);
            const auto action = tree::exists_action_from(exists_action);
            py::gil_scoped_release release;
            dm.load_from_cfg(cfg, upd, action);
          },
          py::arg("load_cfg") = py::none(), py::arg("update_load_cfg") = py::none(),
          py::arg("exists_action") = "raise")
      .def(
          "_load",
          [](DataManager& dm, const std::string& entry, py::dict params,
             const std::string& exists_action) {
            const Value cfg = yaml_from_python(params);
            const auto action = tree::exists_action_from(exists_action);
            py::gil_scoped_release release;
            dm.load(entry, cfg, action);
          },
          py::arg("entry_name"), py::arg("params"), py::arg("exists_action") = "raise")
      .def_property_readonly("_root",
                             [](DataManager& dm) {
                               return PyGroup{{dm.shared_root(), dm.shared_root()}};
                             })
      .def_property_readonly("tree", &DataManager::tree)
      .def_property_readonly("tree_condensed", &DataManager::tree_condensed)
      .def_property_readonly("name", &DataManager::name)
      .def_property_readonly("data_dir",
                             [](const DataManager& dm) { return dm.data_dir().string(); })
      .def_property_readonly("out_dir",
                             [](const DataManager& dm) -> py::object {
                               if (dm.out_dir().empty()) return py::none();
                               return py::str(dm.out_dir().string());
                             })
      .def_property_readonly("warnings", &DataManager::warnings);

  m.def("register_loader", &register_loader, py::arg("name"), py::arg("function"),
        "Registers a loader for load configs: function(path) -> numpy array, dict, str or "
        "any JSON-like value");
  m.def("loaders", [] { return tree::LoaderRegistry::global().names(); });
}

}  // namespace larder::python
