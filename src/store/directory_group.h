// DirectoryGroup — what the Group of a directory driver (mmap, zarr) does
// the same way whatever the format: paths walked segment by segment from
// the group or the root, missing parents made on create, names checked,
// Error(not_found) naming the members that exist, Error(type_mismatch)
// for a dataset where a group is needed. A driver derives from it and says
// what a member is, how nodes are made, opened and removed. One thread at
// a time per object, like every Group.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "larder/store/group.h"

namespace larder::store {

class DirectoryGroup : public Group {
 public:
  const std::string& path() const final { return path_; }
  const std::filesystem::path& store_path() const final { return store_path_; }
  Attributes& attrs() final;

  std::shared_ptr<Group> create_group(std::string_view path) final;
  std::shared_ptr<Group> require_group(std::string_view path) final;
  std::shared_ptr<Dataset> create_dataset(std::string_view path,
                                          const DatasetOptions& options) final;
  std::shared_ptr<Node> open(std::string_view path) final;
  bool contains(std::string_view path) final;
  void remove(std::string_view path) final;
  std::vector<MemberInfo> members() final;

 protected:
  // `store_name` names the store in messages.
  DirectoryGroup(std::string store_name, std::filesystem::path store_path, std::string path);

  // Error unless the store is open (and, when `writing`, writable).
  virtual void check(bool writing) const = 0;
  // Whether require_group may make the groups it does not find.
  virtual bool writable() const = 0;
  // The kind of member `name` of the group at `group_path`, if it is one.
  virtual std::optional<NodeKind> kind_of(const std::string& group_path,
                                          const std::string& name) = 0;
  // The members of the group at `group_path`, in name order.
  virtual std::vector<MemberInfo> list(const std::string& group_path) = 0;
  // Error(invalid_argument) for a name this format cannot give the new
  // member at `full` (beyond it being taken, which is checked here).
  virtual void check_new_name(const std::string& parent, const std::string& name,
                              const std::string& full, NodeKind kind) = 0;
  virtual void make_group_node(const std::string& full) = 0;
  virtual std::shared_ptr<Group> group_at(const std::string& full) = 0;
  virtual std::shared_ptr<Dataset> open_dataset_at(const std::string& full) = 0;
  virtual std::shared_ptr<Dataset> create_dataset_at(const std::string& full,
                                                     const DatasetOptions& options) = 0;
  // Removes the member `name` (of `kind`) of the group at `parent`.
  virtual void remove_node(const std::string& parent, const std::string& name, NodeKind kind) = 0;

  const std::string& store_name() const { return store_name_; }
  void set_attributes(std::unique_ptr<Attributes> attrs) { attrs_ = std::move(attrs); }

  static std::string join(const std::string& base, const std::string& name) {
    return base == "/" ? "/" + name : base + "/" + name;
  }

 private:
  // The full path of a new member at `path`, its parents made when missing.
  std::string new_member(std::string_view path, NodeKind kind);
  // Opens (or, when `create`, makes) the first `count` segments of `parts`;
  // returns the path of the last group.
  std::string walk(const std::vector<std::string>& parts, std::size_t count, bool create,
                   bool absolute);
  [[noreturn]] void not_found(const std::string& parent, const std::string& name);

  std::string store_name_;
  std::filesystem::path store_path_;
  std::string path_;
  std::unique_ptr<Attributes> attrs_;
};

}  // namespace larder::store
