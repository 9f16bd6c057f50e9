// DirectoryGroup — what the Group of a directory driver (mmap, zarr) does
// the same way whatever the format: paths walked segment by segment from
// the group or the root, missing parents made on create, names checked,
// Error(not_found) naming the members that exist, Error(type_mismatch)
// for a dataset where a group is needed. A driver derives from it and says
// what a member is, how nodes are made, opened and removed. One thread at
// a time per object, like every Group.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "larder/store/group.h"
#include "larder/store/store.h"

namespace larder::store {

// What every node of an open directory store shares, whatever the format;
// a driver's own context derives from it and adds its format's state.
struct DirectoryContext {
  virtual ~DirectoryContext() = default;

  std::filesystem::path fs_path;
  std::string name;  // fs_path as text, for messages
  OpenMode mode = OpenMode::read;
  StoreOptions options;
  bool open = true;
  // Why the store refuses every change whatever its mode (a memmpy
  // directory); empty when it takes the changes its mode allows.
  std::string read_only_reason;

  // Error(invalid_argument) naming the store and `node_path` once closed.
  void check_open(const std::string& node_path) const;
  // check_open, then Error(unsupported) with read_only_reason, or
  // Error(invalid_argument) for a store opened read-only.
  void check_writable(const std::string& node_path) const;
  // check_writable when `writing`, else check_open.
  void check(const std::string& node_path, bool writing) const {
    writing ? check_writable(node_path) : check_open(node_path);
  }
  bool writable() const { return open && is_writable(mode) && read_only_reason.empty(); }
  // The directory of a node ("/" is the store's own).
  std::filesystem::path directory(const std::string& node_path) const;
};

// The members of the group at `group_path`, in name order: each entry of
// its directory that `member` names one (nullopt: not a member).
// Error(io) naming the group when the directory cannot be listed.
std::vector<MemberInfo> list_directory(
    const DirectoryContext& context, const std::string& group_path,
    const std::function<std::optional<MemberInfo>(const std::filesystem::directory_entry&)>&
        member);

class DirectoryGroup : public Group {
 public:
  const std::string& path() const final { return path_; }
  const std::filesystem::path& store_path() const final { return context_->fs_path; }
  // The directory's device and inode: a symbolic link can make a directory
  // its own descendant.
  std::optional<ObjectId> object_id() const final;
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
  DirectoryGroup(std::shared_ptr<const DirectoryContext> context, std::string path);

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

  void set_attributes(std::unique_ptr<Attributes> attrs) { attrs_ = std::move(attrs); }

 private:
  // Error unless the store is open (and, when `writing`, writable).
  void check(bool writing) const { context_->check(path_, writing); }
  // The full path of a new member at `path`, its parents made when missing.
  std::string new_member(std::string_view path, NodeKind kind);
  // Opens (or, when `create`, makes) the first `count` segments of `parts`;
  // returns the path of the last group.
  std::string walk(const std::vector<std::string>& parts, std::size_t count, bool create,
                   bool absolute);
  [[noreturn]] void not_found(const std::string& parent, const std::string& name);

  std::shared_ptr<const DirectoryContext> context_;
  std::string path_;
  std::unique_ptr<Attributes> attrs_;
};

}  // namespace larder::store
