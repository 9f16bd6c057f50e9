#include "directory_group.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "driver_common.h"
#include "larder/core/error.h"

namespace larder::store {

void DirectoryContext::check_open(const std::string& node_path) const {
  if (!open) throw Error(ErrorCode::invalid_argument, "the store is closed", name, node_path);
}

void DirectoryContext::check_writable(const std::string& node_path) const {
  check_open(node_path);
  if (!read_only_reason.empty()) {
    throw Error(ErrorCode::unsupported, read_only_reason, name, node_path);
  }
  if (!is_writable(mode)) {
    throw Error(ErrorCode::invalid_argument, "the store is open read-only", name, node_path);
  }
}

std::filesystem::path DirectoryContext::directory(const std::string& node_path) const {
  return node_path == "/" ? fs_path : fs_path / node_path.substr(1);
}

std::vector<MemberInfo> list_directory(
    const DirectoryContext& context, const std::string& group_path,
    const std::function<std::optional<MemberInfo>(const std::filesystem::directory_entry&)>&
        member) {
  std::error_code ec;
  std::filesystem::directory_iterator it(context.directory(group_path), ec);
  if (ec) {
    throw Error(ErrorCode::io, fmt::format("cannot list the group's directory: {}", ec.message()),
                context.name, group_path);
  }
  std::vector<MemberInfo> out;
  for (const auto& entry : it) {
    if (auto m = member(entry)) out.push_back(std::move(*m));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

DirectoryGroup::DirectoryGroup(std::shared_ptr<const DirectoryContext> context, std::string path)
    : context_(std::move(context)), path_(std::move(path)) {}

Attributes& DirectoryGroup::attrs() {
  check(false);
  return *attrs_;
}

std::shared_ptr<Group> DirectoryGroup::create_group(std::string_view path) {
  const std::string full = new_member(path, NodeKind::group);
  make_group_node(full);
  return group_at(full);
}

std::shared_ptr<Group> DirectoryGroup::require_group(std::string_view path) {
  check(false);
  const auto parts = split_path(path);
  return group_at(walk(parts, parts.size(), context_->writable(), path.starts_with('/')));
}

std::shared_ptr<Dataset> DirectoryGroup::create_dataset(std::string_view path,
                                                        const DatasetOptions& options) {
  return create_dataset_at(new_member(path, NodeKind::dataset), options);
}

std::shared_ptr<Node> DirectoryGroup::open(std::string_view path) {
  check(false);
  const auto parts = split_path(path);
  const bool absolute = path.starts_with('/');
  if (parts.empty()) return group_at(absolute ? "/" : path_);
  const std::string parent = walk(parts, parts.size() - 1, false, absolute);
  const auto kind = kind_of(parent, parts.back());
  if (!kind) not_found(parent, parts.back());
  const std::string full = join_path(parent, parts.back());
  if (*kind == NodeKind::group) return group_at(full);
  return open_dataset_at(full);
}

bool DirectoryGroup::contains(std::string_view path) {
  check(false);
  const auto parts = split_path(path);
  std::string current = path.starts_with('/') ? "/" : path_;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto kind = kind_of(current, parts[i]);
    if (!kind) return false;
    if (i + 1 == parts.size()) return true;
    if (*kind != NodeKind::group) return false;
    current = join_path(current, parts[i]);
  }
  return true;
}

void DirectoryGroup::remove(std::string_view path) {
  check(true);
  const auto parts = split_path(path);
  if (parts.empty()) {
    throw Error(ErrorCode::invalid_argument, "cannot remove a group from itself", context_->name,
                path_);
  }
  const std::string parent = walk(parts, parts.size() - 1, false, path.starts_with('/'));
  const auto kind = kind_of(parent, parts.back());
  if (!kind) not_found(parent, parts.back());
  remove_node(parent, parts.back(), *kind);
}

std::optional<ObjectId> DirectoryGroup::object_id() const {
  struct stat st {};
  if (::stat(context_->directory(path_).c_str(), &st) != 0) return std::nullopt;
  return ObjectId{.file = static_cast<std::uint64_t>(st.st_dev),
                  .address = static_cast<std::uint64_t>(st.st_ino)};
}

std::vector<MemberInfo> DirectoryGroup::members() {
  check(false);
  return list(path_);
}

std::string DirectoryGroup::new_member(std::string_view path, NodeKind kind) {
  check(true);
  const auto parts = split_path(path);
  if (parts.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("empty {} path", kind == NodeKind::group ? "group" : "dataset"),
                context_->name, path_);
  }
  const std::string parent = walk(parts, parts.size() - 1, true, path.starts_with('/'));
  const std::string full = join_path(parent, parts.back());
  if (parts.back().find('\0') != std::string::npos) {
    throw Error(ErrorCode::invalid_argument, "a name cannot hold a NUL character", context_->name,
                full);
  }
  check_new_name(parent, parts.back(), full, kind);
  if (kind_of(parent, parts.back())) {
    throw Error(ErrorCode::invalid_argument, "a member with this name already exists",
                context_->name, full);
  }
  return full;
}

std::string DirectoryGroup::walk(const std::vector<std::string>& parts, std::size_t count,
                                 bool create, bool absolute) {
  std::string current = absolute ? "/" : path_;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string next = join_path(current, parts[i]);
    const auto kind = kind_of(current, parts[i]);
    if (!kind) {
      if (!create) not_found(current, parts[i]);
      check_new_name(current, parts[i], next, NodeKind::group);
      make_group_node(next);
    } else if (*kind != NodeKind::group) {
      throw Error(ErrorCode::type_mismatch, "this is a dataset, not a group", context_->name, next);
    }
    current = next;
  }
  return current;
}

void DirectoryGroup::not_found(const std::string& parent, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& m : list(parent))
    names.push_back(m.name);
  throw missing_member(parent, name, names, context_->name);
}

}  // namespace larder::store
