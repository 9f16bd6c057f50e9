#include "directory_group.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "larder/core/error.h"

namespace larder::store {

DirectoryGroup::DirectoryGroup(std::string store_name, std::filesystem::path store_path,
                               std::string path)
    : store_name_(std::move(store_name)),
      store_path_(std::move(store_path)),
      path_(std::move(path)) {}

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
  return group_at(walk(parts, parts.size(), writable(), path.starts_with('/')));
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
  const std::string full = join(parent, parts.back());
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
    current = join(current, parts[i]);
  }
  return true;
}

void DirectoryGroup::remove(std::string_view path) {
  check(true);
  const auto parts = split_path(path);
  if (parts.empty()) {
    throw Error(ErrorCode::invalid_argument, "cannot remove a group from itself", store_name_,
                path_);
  }
  const std::string parent = walk(parts, parts.size() - 1, false, path.starts_with('/'));
  const auto kind = kind_of(parent, parts.back());
  if (!kind) not_found(parent, parts.back());
  remove_node(parent, parts.back(), *kind);
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
                store_name_, path_);
  }
  const std::string parent = walk(parts, parts.size() - 1, true, path.starts_with('/'));
  const std::string full = join(parent, parts.back());
  if (parts.back().find('\0') != std::string::npos) {
    throw Error(ErrorCode::invalid_argument, "a name cannot hold a NUL character", store_name_,
                full);
  }
  check_new_name(parent, parts.back(), full, kind);
  if (kind_of(parent, parts.back())) {
    throw Error(ErrorCode::invalid_argument, "a member with this name already exists", store_name_,
                full);
  }
  return full;
}

std::string DirectoryGroup::walk(const std::vector<std::string>& parts, std::size_t count,
                                 bool create, bool absolute) {
  std::string current = absolute ? "/" : path_;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string next = join(current, parts[i]);
    const auto kind = kind_of(current, parts[i]);
    if (!kind) {
      if (!create) not_found(current, parts[i]);
      check_new_name(current, parts[i], next, NodeKind::group);
      make_group_node(next);
    } else if (*kind != NodeKind::group) {
      throw Error(ErrorCode::type_mismatch, "this is a dataset, not a group", store_name_, next);
    }
    current = next;
  }
  return current;
}

void DirectoryGroup::not_found(const std::string& parent, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& m : list(parent))
    names.push_back(m.name);
  throw Error(ErrorCode::not_found,
              fmt::format("no member '{}' in group {} (members: {})", name, parent,
                          names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))),
              store_name_, join(parent, name));
}

}  // namespace larder::store
