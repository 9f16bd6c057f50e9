#include "larder/tree/node.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

#include "larder/core/error.h"
#include "larder/store/store.h"
#include "larder/tree/pspace.h"

namespace larder::tree {
namespace {

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string attrs_info(const Node& node) {
  return plural(node.attrs().size(), "attribute");
}

std::string joined(const std::vector<std::string>& names) {
  return names.empty() ? "(none)" : fmt::format("{}", fmt::join(names, ", "));
}

std::optional<std::int64_t> as_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

bool numbered(GroupClass cls) {
  return cls == GroupClass::time_series || cls == GroupClass::indexed;
}

}  // namespace

std::vector<std::string> split_tree_path(std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("tree path '{}' starts with '/': paths are relative to the group", path));
  }
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (!segment.empty() && segment != ".") segments.emplace_back(segment);
    start = end + 1;
  }
  return segments;
}

std::string Node::path() const {
  if (parent_ == nullptr) return "/" + name_;
  return parent_->path() + "/" + name_;
}

// -- group classes ------------------------------------------------------------

GroupClass group_class_from(std::string_view name) {
  if (const auto dot = name.rfind('.'); dot != std::string_view::npos) name = name.substr(dot + 1);
  for (GroupClass cls : {GroupClass::ordered, GroupClass::indexed, GroupClass::param_space,
                         GroupClass::param_space_state, GroupClass::time_series}) {
    if (group_class_name(cls) == name) return cls;
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown group class '{}'; known: OrderedDataGroup, IndexedDataGroup, "
                          "ParamSpaceGroup, ParamSpaceStateGroup, TimeSeriesGroup",
                          name));
}

std::string_view group_class_name(GroupClass cls) {
  switch (cls) {
    case GroupClass::ordered:
      return "OrderedDataGroup";
    case GroupClass::indexed:
      return "IndexedDataGroup";
    case GroupClass::param_space:
      return "ParamSpaceGroup";
    case GroupClass::param_space_state:
      return "ParamSpaceStateGroup";
    case GroupClass::time_series:
      return "TimeSeriesGroup";
  }
  return "OrderedDataGroup";
}

// -- Group ----------------------------------------------------------------------

std::string Group::info() const {
  return plural(size(), "member") + ", " + attrs_info(*this);
}

std::vector<std::string> Group::keys() const {
  std::vector<std::string> out;
  out.reserve(members_.size());
  for (const auto& member : members_)
    out.push_back(member->name());
  return out;
}

Node* Group::find(std::string_view path, bool throw_missing) const {
  const Node* node = this;
  for (const auto& segment : split_tree_path(path)) {
    if (segment == "..") {
      if (node->parent() == nullptr) {
        if (!throw_missing) return nullptr;
        throw Error(ErrorCode::not_found,
                    fmt::format("path '{}' goes above the root '{}'", path, node->path()));
      }
      node = node->parent();
      continue;
    }
    const auto* group = node->is_group() ? static_cast<const Group*>(node) : nullptr;
    const auto it = group ? group->index_.find(segment) : decltype(index_.end()){};
    if (group == nullptr || it == group->index_.end()) {
      if (!throw_missing) return nullptr;
      if (group == nullptr) {
        throw Error(ErrorCode::not_found,
                    fmt::format("no member '{}' of path '{}': '{}' is a {}, not a group", segment,
                                path, node->path(), node->class_name()));
      }
      throw Error(ErrorCode::not_found,
                  fmt::format("no member '{}' of path '{}' in {} '{}'; available keys: {}", segment,
                              path, group->class_name(), group->path(), joined(group->keys())));
    }
    node = group->members_[it->second].get();
  }
  return const_cast<Node*>(node);
}

Node& Group::at(std::string_view path) {
  return *find(path, true);
}
const Node& Group::at(std::string_view path) const {
  return *find(path, true);
}

std::shared_ptr<Node> Group::shared_at(std::string_view path) {
  return at(path).shared_from_this();
}

Group& Group::group(std::string_view path) {
  Node& node = at(path);
  if (!node.is_group()) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("'{}' is a {}, not a group", node.path(), node.class_name()));
  }
  return static_cast<Group&>(node);
}

bool Group::contains(std::string_view path) const {
  try {
    return find(path, false) != nullptr;
  } catch (const Error&) {
    return false;  // a malformed path names nothing
  }
}

void Group::check_member_name(std::string_view name, std::optional<GroupClass> cls) const {
  const GroupClass into = cls.value_or(class_);
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("member name '{}' in '{}' is empty, '.', '..' or holds '/'", name, path()));
  }
  if (into == GroupClass::param_space && !as_integer(name)) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("member '{}' of ParamSpaceGroup '{}' is not a state number", name, path()));
  }
  if (numbered(into) && !as_integer(name)) {
    throw Error(ErrorCode::invalid_argument, fmt::format("member '{}' of {} '{}' is not an integer",
                                                         name, group_class_name(into), path()));
  }
}

Node& Group::add(std::shared_ptr<Node> node, bool overwrite) {
  const std::string& name = node->name();
  check_member_name(name);
  if (const auto it = index_.find(name); it != index_.end()) {
    if (!overwrite) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("'{}' already exists in '{}'", name, path()));
    }
    members_[it->second]->parent_ = nullptr;
    node->parent_ = this;
    members_[it->second] = std::move(node);
    return *members_[it->second];
  }
  std::size_t position = members_.size();
  if (numbered(class_)) {
    // Keep numeric order so times() and printing follow time, not load order.
    const std::int64_t key = *as_integer(name);
    const auto it = std::find_if(members_.begin(), members_.end(), [&](const auto& member) {
      return *as_integer(member->name()) > key;
    });
    position = static_cast<std::size_t>(it - members_.begin());
    for (auto& [other, i] : index_)
      if (i >= position) ++i;
  }
  node->parent_ = this;
  members_.insert(members_.begin() + static_cast<std::ptrdiff_t>(position), std::move(node));
  index_.emplace(name, position);
  return *members_[position];
}

void Group::remove(std::string_view name) {
  const auto it = index_.find(std::string(name));
  if (it == index_.end()) {
    throw Error(ErrorCode::not_found, fmt::format("no member '{}' in '{}'; available keys: {}",
                                                  name, path(), joined(keys())));
  }
  const std::size_t position = it->second;
  members_[position]->parent_ = nullptr;
  members_.erase(members_.begin() + static_cast<std::ptrdiff_t>(position));
  index_.erase(it);
  for (auto& [other, i] : index_)
    if (i > position) --i;
}

void Group::set_group_class(GroupClass cls) {
  const GroupClass old = class_;
  class_ = cls;
  auto members = std::move(members_);
  index_.clear();
  members_.clear();
  try {
    for (auto& member : members)
      add(member);
  } catch (...) {
    class_ = old;
    members_ = std::move(members);
    index_.clear();
    for (std::size_t i = 0; i < members_.size(); ++i)
      index_.emplace(members_[i]->name(), i);
    throw;
  }
}

GroupClass Group::member_group_class() const noexcept {
  return class_ == GroupClass::param_space ? GroupClass::param_space_state : GroupClass::ordered;
}

Group& Group::require_group(std::string_view path, std::optional<GroupClass> cls) {
  const auto segments = split_tree_path(path);
  Group* group = this;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& segment = segments[i];
    const bool last = i + 1 == segments.size();
    if (segment == "..") {
      if (group->parent() == nullptr) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("path '{}' goes above the root '{}'", path, group->path()));
      }
      group = group->parent();
      continue;
    }
    if (const auto it = group->index_.find(segment); it != group->index_.end()) {
      Node& node = *group->members_[it->second];
      if (!node.is_group()) {
        throw Error(ErrorCode::type_mismatch, fmt::format("cannot create group '{}': '{}' is a {}",
                                                          path, node.path(), node.class_name()));
      }
      group = static_cast<Group*>(&node);
      continue;
    }
    const GroupClass new_class = last && cls ? *cls : group->member_group_class();
    group = static_cast<Group*>(&group->add(std::make_shared<Group>(segment, new_class)));
  }
  return *group;
}

std::vector<std::int64_t> Group::times() const {
  std::vector<std::int64_t> out;
  out.reserve(members_.size());
  for (const auto& member : members_) {
    const auto time = as_integer(member->name());
    if (!time) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("member '{}' of '{}' is not a time", member->name(), path()));
    }
    out.push_back(*time);
  }
  return out;
}

// -- leaves ---------------------------------------------------------------------

ArrayLeaf::ArrayLeaf(std::string name, Array data)
    : Node(std::move(name)), dtype_(data.dtype()), shape_(data.shape()), data_(std::move(data)) {}

ArrayLeaf::ArrayLeaf(std::string name, std::filesystem::path file, std::string dataset, DType dtype,
                     Shape shape)
    : Node(std::move(name)),
      dtype_(dtype),
      shape_(std::move(shape)),
      file_(std::move(file)),
      dataset_(std::move(dataset)) {}

std::string ArrayLeaf::class_name() const {
  // dantro's time series groups hold labelled (xarray) containers.
  const bool labelled = parent() != nullptr && parent()->group_class() == GroupClass::time_series;
  return labelled ? "XrDataContainer" : "NumpyDataContainer";
}

std::string ArrayLeaf::info() const {
  if (class_name() == "NumpyDataContainer") {
    return fmt::format("{}, shape {}, {}", dtype_.name(), shape_.to_string(), attrs_info(*this));
  }
  std::string dims;
  const auto names = attrs().find("dims");
  for (std::size_t axis = 0; axis < shape_.rank(); ++axis) {
    std::string dim = fmt::format("dim_{}", axis);
    if (names != attrs().end() && names->is_array() && axis < names->size() &&
        (*names)[axis].is_string()) {
      dim = (*names)[axis].get<std::string>();
    }
    dims += fmt::format("{}{}: {}", axis == 0 ? "" : ", ", dim, shape_[axis]);
  }
  return fmt::format("{}, ({}), {}", dtype_.name(), dims, attrs_info(*this));
}

bool ArrayLeaf::loaded() const {
  std::lock_guard lock(mutex_);
  return data_.has_value();
}

const Array& ArrayLeaf::data() const {
  std::lock_guard lock(mutex_);
  if (!data_) {
    auto store = store::Store::open(file_, "r");
    data_ = store->root()->open_dataset(dataset_)->read();
  }
  return *data_;
}

Array ArrayLeaf::read() const {
  {
    std::lock_guard lock(mutex_);
    if (data_) return Array::adopt_read_only(data_->dtype(), data_->shape(), data_->buffer());
  }
  auto store = store::Store::open(file_, "r");
  return store->root()->open_dataset(dataset_)->read();
}

std::string MappingLeaf::info() const {
  return attrs_info(*this);
}

const Value& MappingLeaf::at(std::string_view path) const {
  const Value* value = &value_;
  for (const auto& key : split_tree_path(path)) {
    if (!value->is_object() || !value->contains(key)) {
      std::vector<std::string> keys;
      if (value->is_object())
        for (const auto& item : value->items())
          keys.push_back(item.key());
      throw Error(ErrorCode::not_found,
                  fmt::format("no key '{}' of '{}' in mapping '{}'; available keys: {}", key, path,
                              this->path(), joined(keys)));
    }
    value = &(*value)[key];
  }
  return *value;
}

std::string StringLeaf::info() const {
  return "str stored, " + attrs_info(*this);
}

std::string PathLeaf::info() const {
  return fs_path_.string() + ", " + attrs_info(*this);
}

std::string ObjectLeaf::info() const {
  const char* kind = value_.is_object() ? "mapping" : value_.is_array() ? "list" : "scalar";
  if (is_param_space(value_)) kind = "ParamSpace";
  return fmt::format("{} stored, {}", kind, attrs_info(*this));
}

}  // namespace larder::tree
