// The data tree: groups of named members and the leaves that hold data, as
// dantro builds them from a directory of files.
//
// A Group owns its members (shared_ptr) in insertion order; a member knows its
// parent by a plain pointer that stays valid while the parent lives. Every node
// carries attributes as an ordered JSON object (`Value`). Group classes and
// leaf classes print under dantro's names (OrderedDataGroup,
// NumpyDataContainer, ...). Paths ("a/b/../c") are relative: "." is the group
// itself, ".." its parent, empty segments are ignored, a leading "/" is
// refused. A tree is used by one thread at a time, except that ArrayLeaf::data()
// may be called from several threads (a lazy leaf reads under a lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "larder/core/array.h"
#include "larder/tree/yaml.h"

namespace larder::tree {

class Group;

// Nodes are owned by shared_ptr (a root included), so a node hands out a
// shared pointer to itself (shared_from_this).
class Node : public std::enable_shared_from_this<Node> {
 public:
  explicit Node(std::string name) : name_(std::move(name)) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const noexcept { return name_; }
  Group* parent() const noexcept { return parent_; }
  // "/" joined names from the root ("/dm/simulations/12").
  std::string path() const;
  // An ordered JSON object.
  Value& attrs() noexcept { return attrs_; }
  const Value& attrs() const noexcept { return attrs_; }

  // dantro's class name ("OrderedDataGroup", "NumpyDataContainer", ...).
  virtual std::string class_name() const = 0;
  // What the tree printout shows after the class name: "3 members, 1 attribute",
  // "float64, shape (101,), 0 attributes".
  virtual std::string info() const = 0;
  virtual bool is_group() const noexcept { return false; }

 private:
  friend class Group;
  std::string name_;
  Group* parent_ = nullptr;
  Value attrs_ = Value::object();
};

// The group classes dantro knows by name (create_groups' `Cls`, group_map).
enum class GroupClass { ordered, indexed, param_space, param_space_state, time_series };
// GroupClass from "OrderedDataGroup", "ParamSpaceGroup", ... (the Python class
// names, with or without the dantro module prefix); Error(invalid_argument)
// naming the known ones.
GroupClass group_class_from(std::string_view name);
std::string_view group_class_name(GroupClass cls);

class Group : public Node {
 public:
  Group(std::string name, GroupClass cls) : Node(std::move(name)), class_(cls) {}

  GroupClass group_class() const noexcept { return class_; }
  std::string class_name() const override { return std::string(group_class_name(class_)); }
  std::string info() const override;
  bool is_group() const noexcept final { return true; }

  std::size_t size() const noexcept { return members_.size(); }
  bool empty() const noexcept { return members_.empty(); }
  // Members in insertion order (time series and indexed groups: in numeric order).
  const std::vector<std::shared_ptr<Node>>& members() const noexcept { return members_; }
  std::vector<std::string> keys() const;

  // The node at `path`; Error(not_found) naming the missing segment, the
  // group it was looked for in and the keys that exist there.
  Node& at(std::string_view path);
  const Node& at(std::string_view path) const;
  // at() as the shared pointer that owns the node ("" or ".." may name the
  // root); std::bad_weak_ptr when that node is not owned by a shared_ptr.
  std::shared_ptr<Node> shared_at(std::string_view path);
  Node& operator[](std::string_view path) { return at(path); }
  // at() as a group; Error(type_mismatch) for a leaf.
  Group& group(std::string_view path);
  bool contains(std::string_view path) const;

  // Adds `node` as a direct member; Error(invalid_argument) when the name is
  // taken (unless `overwrite`), empty, or holds "/".
  Node& add(std::shared_ptr<Node> node, bool overwrite = false);
  // The checks add() makes of a new member's name, for a group of class `cls`
  // (this group's when nullopt); throws what add() would.
  void check_member_name(std::string_view name, std::optional<GroupClass> cls = std::nullopt) const;
  // Removes the direct member `name`; Error(not_found) when missing.
  void remove(std::string_view name);
  // The group at `path`, created with its missing parents; intermediate
  // groups get the class a member of their parent gets by default
  // (ParamSpaceGroup -> ParamSpaceStateGroup, else OrderedDataGroup), the
  // last one `cls` when given. Error(type_mismatch) when a leaf is in the way.
  Group& require_group(std::string_view path, std::optional<GroupClass> cls = std::nullopt);
  // Makes this group one of class `cls`; Error(invalid_argument) when a
  // member's name does not fit it (ParamSpaceGroup, TimeSeriesGroup: numbers).
  void set_group_class(GroupClass cls);
  // The class of a new group created inside this one.
  GroupClass member_group_class() const noexcept;

  // Time series groups: the member names as times, in order.
  std::vector<std::int64_t> times() const;

 private:
  // The node at `path`; nullptr when missing and not `throw_missing`.
  Node* find(std::string_view path, bool throw_missing) const;

  GroupClass class_;
  std::vector<std::shared_ptr<Node>> members_;
  std::unordered_map<std::string, std::size_t> index_;
};

// A numeric array: held in memory, or (lazy) read from its HDF5 file on the
// first data() and kept. A lazy leaf opens the file only while reading, so a
// tree of thousands of lazy leaves keeps no file open.
class ArrayLeaf : public Node {
 public:
  ArrayLeaf(std::string name, Array data);
  // Lazy: `dataset` inside the store at `file`, of the dtype and shape given.
  ArrayLeaf(std::string name, std::filesystem::path file, std::string dataset, DType dtype,
            Shape shape);

  std::string class_name() const override;
  std::string info() const override;
  const DType& dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  bool loaded() const;
  // The data; a lazy leaf reads it on the first call and keeps it.
  const Array& data() const;
  // The data without keeping it: the kept array (shared, read-only) when
  // loaded, else a fresh read the leaf does not store (for one-off passes
  // over many leaves).
  Array read() const;
  // The file a lazy leaf reads (empty for one built in memory).
  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  DType dtype_;
  Shape shape_;
  std::filesystem::path file_;
  std::string dataset_;
  mutable std::mutex mutex_;
  mutable std::optional<Array> data_;
};

// A mapping (YAML, JSON): dantro's MutableMappingContainer.
class MappingLeaf : public Node {
 public:
  MappingLeaf(std::string name, Value value) : Node(std::move(name)), value_(std::move(value)) {}
  std::string class_name() const override { return "MutableMappingContainer"; }
  std::string info() const override;
  const Value& value() const noexcept { return value_; }
  // value() at a "/"-separated key path; Error(not_found) listing the keys.
  const Value& at(std::string_view path) const;

 private:
  Value value_;
};

// Text: dantro's StringContainer.
class StringLeaf : public Node {
 public:
  StringLeaf(std::string name, std::string text) : Node(std::move(name)), text_(std::move(text)) {}
  std::string class_name() const override { return "StringContainer"; }
  std::string info() const override;
  const std::string& text() const noexcept { return text_; }

 private:
  std::string text_;
};

// A file system path: dantro's PathContainer.
class PathLeaf : public Node {
 public:
  PathLeaf(std::string name, std::filesystem::path path)
      : Node(std::move(name)), fs_path_(std::move(path)) {}
  std::string class_name() const override { return "PathContainer"; }
  std::string info() const override;
  const std::filesystem::path& fs_path() const noexcept { return fs_path_; }

 private:
  std::filesystem::path fs_path_;
};

// Any loaded object (yaml_to_object): dantro's ObjectContainer. A `!pspace`
// document stays its tagged Value; ParamSpace::from_value reads it.
class ObjectLeaf : public Node {
 public:
  ObjectLeaf(std::string name, Value value) : Node(std::move(name)), value_(std::move(value)) {}
  std::string class_name() const override { return "ObjectContainer"; }
  std::string info() const override;
  const Value& value() const noexcept { return value_; }

 private:
  Value value_;
};

// Splits a tree path into segments, dropping empty ones and "."; Error
// (invalid_argument) for a leading "/".
std::vector<std::string> split_tree_path(std::string_view path);

}  // namespace larder::tree
