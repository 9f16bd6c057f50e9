#include "larder/tree/loaders.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "../store/file_io.h"
#include "builtin_loaders.h"
#include "larder/core/error.h"
#include "larder/store/element_json.h"
#include "larder/store/hdf5_tree.h"
#include "larder/store/store.h"

namespace larder::tree {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t max_text_bytes = std::size_t{256} << 20;

std::string read_text(const fs::path& file) {
  return store::read_text(file, "", max_text_bytes);
}

template <class Leaf, class... Args>
std::shared_ptr<Node> with_filepath(const LoadRequest& request, Args&&... args) {
  auto leaf = std::make_shared<Leaf>(request.name, std::forward<Args>(args)...);
  leaf->attrs()["filepath"] = request.file.string();
  return leaf;
}

}  // namespace

bool loader_flag(const Value& options, std::string_view key, bool fallback) {
  const auto it = options.find(key);
  if (it == options.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("loader option '{}' must be true or false, not {}", key, it->dump()));
  }
  return it->get<bool>();
}

namespace {

struct Hdf5Walk {
  const LoadRequest& request;
  bool lazy;
  bool mapping;
  std::string map_attr;
  bool lower_case;
  store::WalkPath groups{};  // the libhdf5 walk's

  Value attributes_of(store::Node& node) {
    Value attrs = Value::object();
    for (const auto& name : node.attrs().names()) {
      if (name.rfind("larder.", 0) == 0) continue;
      attrs[name] = Value(node.attrs().get_json(name));
    }
    return attrs;
  }

  GroupClass class_of(const Value& attrs, const std::string& path) {
    if (!mapping) return GroupClass::ordered;
    const auto it = attrs.find(map_attr);
    if (it == attrs.end()) return GroupClass::ordered;
    if (!it->is_string()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("attribute '{}' is {}, not a string naming a group class", map_attr,
                              it->dump()),
                  request.file.string(), path);
    }
    // A value the map does not name leaves the group ordered, as dantro
    // does (it warns); a group map names the classes a file may ask for.
    const auto found = request.group_map.find(it->get<std::string>());
    if (found == request.group_map.end()) return GroupClass::ordered;
    return found->second;
  }

  // A dataset's strings as one value: the string of a scalar, else a list.
  static std::shared_ptr<Node> string_leaf(const std::string& name,
                                           std::vector<std::string> strings, bool scalar) {
    Value value = Value::array();
    for (auto& s : strings)
      value.push_back(std::move(s));
    return std::make_shared<ObjectLeaf>(name, scalar && !value.empty() ? value[0] : value);
  }

  // A variable-length dataset (h5py's vlen, PyTables' VLArray) as a list of
  // its sequences, each a list of items, as h5py gives an object array of
  // arrays.
  std::shared_ptr<Node> sequences_leaf(const std::string& name, store::Dataset& dataset,
                                       const Shape& item) {
    if (dataset.shape().rank() != 1) {
      throw Error(ErrorCode::unsupported,
                  "only 1-D variable-length datasets are loaded into a tree", request.file.string(),
                  dataset.path());
    }
    std::vector<std::int64_t> rows(static_cast<std::size_t>(dataset.shape()[0]));
    for (std::size_t i = 0; i < rows.size(); ++i)
      rows[i] = static_cast<std::int64_t>(i);
    const store::Sequences sequences = dataset.read_sequences(rows);
    const std::size_t row_bytes =
        sequences.values.dtype().item_size() * static_cast<std::size_t>(item.num_elements());
    Value list = Value::array();
    for (std::size_t i = 0; i + 1 < sequences.offsets.size(); ++i) {
      std::vector<std::int64_t> dims{sequences.offsets[i + 1] - sequences.offsets[i]};
      dims.insert(dims.end(), item.begin(), item.end());
      const ArrayView one(
          sequences.values.data() + static_cast<std::size_t>(sequences.offsets[i]) * row_bytes,
          sequences.values.dtype(), Shape(dims));
      list.push_back(Value(store::array_to_json(one)));
    }
    return std::make_shared<ObjectLeaf>(name, std::move(list));
  }

  // From libhdf5, through the HDF5 driver.
  void fill(store::Group& source, Group& target) {
    for (const auto& member : source.members()) {
      const std::string name = lower_case ? lowered(member.name) : member.name;
      if (member.kind == store::NodeKind::group) {
        auto child = source.open_group(member.name);
        if (!groups.enter(*child)) {
          throw Error(ErrorCode::unsupported,
                      "a hard link back to a group it is inside of: a data tree cannot hold "
                      "this cycle",
                      request.file.string(), child->path());
        }
        Value attrs = attributes_of(*child);
        auto group = std::make_shared<Group>(name, class_of(attrs, child->path()));
        group->attrs() = std::move(attrs);
        fill(*child, static_cast<Group&>(target.add(group)));
        groups.leave();
        continue;
      }
      auto dataset = source.open_dataset(member.name);
      std::shared_ptr<Node> leaf;
      const DType dtype = dataset->dtype();
      if (dtype.kind() == DTypeKind::vstring || dtype.kind() == DTypeKind::string) {
        leaf = string_leaf(name, dataset->read_strings(Selection()), dataset->shape().rank() == 0);
      } else if (const auto item = dataset->sequence_item_shape()) {
        leaf = sequences_leaf(name, *dataset, *item);
      } else if (lazy) {
        leaf = std::make_shared<ArrayLeaf>(name, request.file, dataset->path(), dtype,
                                           dataset->shape());
      } else {
        leaf = std::make_shared<ArrayLeaf>(name, dataset->read());
      }
      leaf->attrs() = attributes_of(*dataset);
      target.add(std::move(leaf));
    }
  }

  Value attributes_of(const store::Hdf5TreeNode& node) {
    Value attrs = Value::object();
    for (const auto& [name, value] : node.attrs) {
      if (name.rfind("larder.", 0) != 0) attrs[name] = Value(value);
    }
    return attrs;
  }

  // From larder's own reading of the file (store/hdf5_tree.h): the same
  // tree, without libhdf5's global lock.
  void fill(store::Hdf5TreeNode& source, Group& target, const std::string& path) {
    for (auto& member : source.members) {
      const std::string name = lower_case ? lowered(member.name) : member.name;
      const std::string member_path = store::join_path(path, member.name);
      Value attrs = attributes_of(member);
      if (member.kind == store::NodeKind::group) {
        auto group = std::make_shared<Group>(name, class_of(attrs, member_path));
        group->attrs() = std::move(attrs);
        fill(member, static_cast<Group&>(target.add(group)), member_path);
        continue;
      }
      std::shared_ptr<Node> leaf;
      if (member.dtype.kind() == DTypeKind::vstring || member.dtype.kind() == DTypeKind::string) {
        leaf = string_leaf(name, std::move(member.strings), member.shape.rank() == 0);
      } else if (lazy) {
        leaf = std::make_shared<ArrayLeaf>(name, request.file, member_path, member.dtype,
                                           member.shape);
      } else {
        leaf = std::make_shared<ArrayLeaf>(name, std::move(*member.data));
      }
      leaf->attrs() = std::move(attrs);
      target.add(std::move(leaf));
    }
  }
};

void add_builtin_loaders(LoaderRegistry& registry) {
  const std::vector<std::string> hdf5_options{"enable_mapping", "map_from_attr", "lower_case_keys",
                                              "load_as_proxy"};
  registry.add("hdf5", {[](const LoadRequest& r) {
                          return load_hdf5(r, loader_flag(r.options, "load_as_proxy", false));
                        },
                        hdf5_options});
  registry.add("hdf5_proxy",
               {[](const LoadRequest& r) { return load_hdf5(r, true); }, hdf5_options});
  const LoaderSpec yaml{
      [](const LoadRequest& r) { return with_filepath<MappingLeaf>(r, read_yaml(r.file)); }};
  registry.add("yaml", yaml);
  registry.add("yml", yaml);
  const LoaderSpec object{
      [](const LoadRequest& r) { return with_filepath<ObjectLeaf>(r, read_yaml(r.file)); }};
  registry.add("yaml_to_object", object);
  registry.add("yml_to_object", object);
  registry.add("json", {[](const LoadRequest& r) {
                 const std::string text = read_text(r.file);
                 Value value = Value::parse(text, nullptr, false);
                 if (value.is_discarded()) {
                   throw Error(ErrorCode::corrupt, "not valid JSON", r.file.string());
                 }
                 return with_filepath<MappingLeaf>(r, std::move(value));
               }});
  const LoaderSpec text{
      [](const LoadRequest& r) { return with_filepath<StringLeaf>(r, read_text(r.file)); }};
  registry.add("text", text);
  registry.add("plain_text", text);
  add_array_file_loaders(registry);
  registry.add("fspath", {[](const LoadRequest& r) {
                 return std::static_pointer_cast<Node>(std::make_shared<PathLeaf>(r.name, r.file));
               }});
}

}  // namespace

std::shared_ptr<Node> load_hdf5(const LoadRequest& request, bool lazy) {
  std::string map_attr = "content";
  if (const auto it = request.options.find("map_from_attr");
      it != request.options.end() && !it->is_null()) {
    if (!it->is_string()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("loader option 'map_from_attr' must be an attribute name (a "
                              "string), not {}",
                              it->dump()),
                  request.file.string());
    }
    map_attr = it->get<std::string>();
  }
  Hdf5Walk walk{request, lazy, loader_flag(request.options, "enable_mapping", false),
                std::move(map_attr), loader_flag(request.options, "lower_case_keys", false)};
  if (auto tree = store::read_hdf5_tree(request.file, {.numbers = !lazy})) {
    Value attrs = walk.attributes_of(*tree);
    auto group = std::make_shared<Group>(request.name, walk.class_of(attrs, "/"));
    group->attrs() = std::move(attrs);
    walk.fill(*tree, *group, "/");
    return group;
  }
  // A file larder does not read itself: through libhdf5.
  // Nearly every step of the walk is a libhdf5 call: parallel loads take
  // turns file by file (declared first: the store closes under it too).
  const store::Hdf5Turn turn;
  auto store = store::Store::open(request.file, "r");
  auto root = store->root();
  walk.groups.enter(*root);
  Value attrs = walk.attributes_of(*root);
  auto group = std::make_shared<Group>(request.name, walk.class_of(attrs, "/"));
  group->attrs() = std::move(attrs);
  walk.fill(*root, *group);
  return group;
}

LoaderRegistry& LoaderRegistry::global() {
  static LoaderRegistry registry;
  static const bool filled = (add_builtin_loaders(registry), true);
  static_cast<void>(filled);
  return registry;
}

void LoaderRegistry::add(const std::string& name, LoaderSpec spec) {
  if (name.empty() || !spec.load) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a loader needs a name and a function (got '{}')", name));
  }
  std::lock_guard lock(mutex_);
  loaders_[name] = std::make_shared<const LoaderSpec>(std::move(spec));
}

std::shared_ptr<const LoaderSpec> LoaderRegistry::get(std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto it = loaders_.find(name);
  if (it == loaders_.end()) {
    // (a loop: clang 14's concepts reject views::keys of this map)
    std::vector<std::string_view> names;
    for (const auto& entry : loaders_)
      names.push_back(entry.first);
    throw Error(ErrorCode::not_found,
                fmt::format("no loader '{}'; available: {}", name, fmt::join(names, ", ")));
  }
  return it->second;
}

bool LoaderRegistry::contains(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return loaders_.find(name) != loaders_.end();
}

std::vector<std::string> LoaderRegistry::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, spec] : loaders_)
    out.push_back(key);
  return out;
}

}  // namespace larder::tree
