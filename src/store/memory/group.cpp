// MemoryGroup: groups as maps of members by name, and the path walk every
// lookup goes through.
#include <fmt/format.h>

#include <mutex>

#include "../driver_common.h"
#include "driver.h"
#include "larder/core/error.h"

namespace larder::store::memory {
namespace {

class MemoryGroup final : public Group {
 public:
  MemoryGroup(Context context, std::shared_ptr<GroupData> data, std::string path)
      : context_(std::move(context)),
        data_(std::move(data)),
        path_(std::move(path)),
        attrs_(make_attributes(context_, data_, path_)) {}

  const std::string& path() const override { return path_; }
  const std::filesystem::path& store_path() const override { return context_->fs_path; }
  Attributes& attrs() override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    return *attrs_;
  }

  std::shared_ptr<Group> create_group(std::string_view path) override {
    std::unique_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    const NewMember m = new_member(path, "group");
    auto group = std::make_shared<GroupData>();
    m.parent->members.emplace(m.name, group);
    return make_group(context_, std::move(group), m.path);
  }

  std::shared_ptr<Group> require_group(std::string_view path) override {
    std::unique_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    const auto parts = split_path(path);
    auto [group, full] = walk(parts, parts.size(), true, path.starts_with('/'));
    return make_group(context_, std::move(group), std::move(full));
  }

  std::shared_ptr<Dataset> create_dataset(std::string_view path,
                                          const DatasetOptions& options) override {
    std::unique_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    const auto parts = split_path(path);
    if (parts.empty()) {
      throw Error(ErrorCode::invalid_argument, "empty dataset path", context_->name, path_);
    }
    // The options are checked (and the memory taken) before any parent
    // group is made: a refused dataset leaves nothing behind.
    std::string full = path.starts_with('/') ? "/" : path_;
    for (const auto& part : parts)
      full = join_path(full, part);
    auto array = new_array(*context_, full, options);
    const NewMember m = new_member(path, "dataset");
    m.parent->members.emplace(m.name, array);
    return make_dataset(context_, std::move(array), m.path);
  }

  std::shared_ptr<Node> open(std::string_view path) override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    const auto parts = split_path(path);
    const bool absolute = path.starts_with('/');
    if (parts.empty()) {
      auto [group, full] = walk(parts, 0, false, absolute);
      return make_group(context_, std::move(group), std::move(full));
    }
    auto [parent, parent_path] = walk(parts, parts.size() - 1, false, absolute);
    const auto it = parent->members.find(parts.back());
    if (it == parent->members.end()) throw not_found(*parent, parent_path, parts.back());
    const std::string full = join_path(parent_path, parts.back());
    if (const auto* group = std::get_if<std::shared_ptr<GroupData>>(&it->second))
      return make_group(context_, *group, full);
    return make_dataset(context_, std::get<std::shared_ptr<ArrayData>>(it->second), full);
  }

  bool contains(std::string_view path) override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    const auto parts = split_path(path);
    const GroupData* current = path.starts_with('/') ? context_->root.get() : data_.get();
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto it = current->members.find(parts[i]);
      if (it == current->members.end()) return false;
      if (i + 1 == parts.size()) return true;
      const auto* group = std::get_if<std::shared_ptr<GroupData>>(&it->second);
      if (!group) return false;
      current = group->get();
    }
    return true;
  }

  void remove(std::string_view path) override {
    std::unique_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    const auto parts = split_path(path);
    if (parts.empty()) {
      throw Error(ErrorCode::invalid_argument, "cannot remove a group from itself", context_->name,
                  path_);
    }
    auto [parent, parent_path] = walk(parts, parts.size() - 1, false, path.starts_with('/'));
    const auto it = parent->members.find(parts.back());
    if (it == parent->members.end()) throw not_found(*parent, parent_path, parts.back());
    release(it->second);
    parent->members.erase(it);
  }

  std::vector<MemberInfo> members() override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*data_, path_);
    std::vector<MemberInfo> out;
    out.reserve(data_->members.size());
    for (const auto& [name, member] : data_->members) {
      out.push_back({name, std::holds_alternative<std::shared_ptr<GroupData>>(member)
                               ? NodeKind::group
                               : NodeKind::dataset});
    }
    return out;
  }

 private:
  // Where a new member goes: its parent group (made, with its own parents,
  // when missing), its name and its full path. The caller holds the lock
  // exclusively.
  struct NewMember {
    std::shared_ptr<GroupData> parent;
    std::string name;
    std::string path;
  };

  NewMember new_member(std::string_view path, std::string_view kind) {
    const auto parts = split_path(path);
    if (parts.empty()) {
      throw Error(ErrorCode::invalid_argument, fmt::format("empty {} path", kind), context_->name,
                  path_);
    }
    auto [parent, parent_path] = walk(parts, parts.size() - 1, true, path.starts_with('/'));
    const std::string full = join_path(parent_path, parts.back());
    check_name(parts.back(), full);
    if (parent->members.contains(parts.back())) {
      throw Error(ErrorCode::invalid_argument, "a member with this name already exists",
                  context_->name, full);
    }
    return {std::move(parent), parts.back(), full};
  }

  // The group the first `count` segments of `parts` lead to, and its path;
  // missing groups are made when `create`, else Error(not_found).
  std::pair<std::shared_ptr<GroupData>, std::string> walk(const std::vector<std::string>& parts,
                                                          std::size_t count, bool create,
                                                          bool absolute) {
    std::shared_ptr<GroupData> current = absolute ? context_->root : data_;
    std::string current_path = absolute ? "/" : path_;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string next_path = join_path(current_path, parts[i]);
      auto it = current->members.find(parts[i]);
      if (it == current->members.end()) {
        if (!create) throw not_found(*current, current_path, parts[i]);
        check_name(parts[i], next_path);
        it = current->members.emplace(parts[i], std::make_shared<GroupData>()).first;
      }
      const auto* group = std::get_if<std::shared_ptr<GroupData>>(&it->second);
      if (!group) {
        throw Error(ErrorCode::type_mismatch, "this is a dataset, not a group", context_->name,
                    next_path);
      }
      current = *group;
      current_path = next_path;
    }
    return {std::move(current), std::move(current_path)};
  }

  // Names are what other drivers can store too.
  void check_name(const std::string& name, const std::string& full) const {
    if (name.find('\0') != std::string::npos) {
      throw Error(ErrorCode::invalid_argument, "a name cannot hold a NUL character", context_->name,
                  full);
    }
  }

  Error not_found(const GroupData& parent, const std::string& parent_path,
                  const std::string& name) const {
    std::vector<std::string> names;
    for (const auto& [member, value] : parent.members)
      names.push_back(member);
    return missing_member(parent_path, name, names, context_->name);
  }

  Context context_;
  std::shared_ptr<GroupData> data_;
  std::string path_;
  std::unique_ptr<Attributes> attrs_;
};

}  // namespace

std::shared_ptr<Group> make_group(Context context, std::shared_ptr<GroupData> data,
                                  std::string path) {
  return std::make_shared<MemoryGroup>(std::move(context), std::move(data), std::move(path));
}

}  // namespace larder::store::memory
