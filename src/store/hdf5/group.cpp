// Hdf5Group: groups, and the path walk every lookup goes through.
#include <fmt/format.h>

#include "../driver_common.h"
#include "driver.h"
#include "larder/core/error.h"

namespace larder::store::hdf5 {
namespace {

// larder's own conventions live here; listings do not show it.
constexpr const char* kPrivateGroup = ".larder";

class Hdf5Group final : public Group {
 public:
  Hdf5Group(Context context, Handle id, std::string path)
      : context_(std::move(context)),
        id_(std::move(id)),
        path_(std::move(path)),
        attrs_(make_attributes(context_, id_.get(), path_)) {}
  ~Hdf5Group() override {
    if (!context_->open) id_.release();
  }

  const std::string& path() const override { return path_; }
  const std::filesystem::path& store_path() const override { return context_->fs_path; }
  std::optional<ObjectId> object_id() const override {
    context_->check_open(path_);
    Hdf5Lock lock;
    H5O_info_t info;
    check(H5Oget_info2(id_.get(), &info, H5O_INFO_BASIC), "cannot inspect the group",
          context_->name, path_);
    return ObjectId{.file = info.fileno, .address = info.addr};
  }
  Attributes& attrs() override {
    context_->check_open(path_);
    return *attrs_;
  }

  std::shared_ptr<Group> create_group(std::string_view path) override {
    Hdf5Lock lock;
    const NewMember m = new_member(path, "group");
    return make_group(context_, new_group(m.parent.get(), m.name, m.path), m.path);
  }

  std::shared_ptr<Group> require_group(std::string_view path) override {
    context_->check_open(path_);
    const auto parts = split_path(path);
    Hdf5Lock lock;
    auto [group, full] =
        walk(parts, parts.size(), is_writable(context_->mode), path.starts_with('/'));
    return make_group(context_, std::move(group), full);
  }

  std::shared_ptr<Dataset> create_dataset(std::string_view path,
                                          const DatasetOptions& options) override {
    return create(path, options, nullptr);
  }

  std::shared_ptr<Dataset> create_dataset_from(std::string_view path, const DatasetOptions& options,
                                               ArrayView data) override {
    check_initial_data(*this, path, options, data);
    return create(path, options, &data);
  }

  std::shared_ptr<Node> open(std::string_view path) override {
    context_->check_open(path_);
    const auto parts = split_path(path);
    Hdf5Lock lock;
    if (parts.empty()) {
      auto [self, self_path] = origin(path.starts_with('/'));
      return make_group(context_, std::move(self), self_path);
    }
    auto [parent, parent_path] = walk(parts, parts.size() - 1, false, path.starts_with('/'));
    const std::string full = join_path(parent_path, parts.back());
    // An untrusted file's links are looked at before anything follows them;
    // otherwise the object is opened at once (one call, the cost of opening
    // many small datasets) and a failure explained afterwards.
    if (context_->options.untrusted) check_link(parent.get(), parts.back(), parent_path);
    const hid_t id = H5Oopen(parent.get(), parts.back().c_str(), H5P_DEFAULT);
    if (id < 0) {
      check_link(parent.get(), parts.back(), parent_path);
      check_id(id, "cannot open", context_->name, full);
    }
    // H5Oopen gives a group or dataset id, closed as such.
    const H5I_type_t type = H5Iget_type(id);
    if (type == H5I_GROUP) return make_group(context_, group_handle(id), full);
    if (type == H5I_DATASET) return make_dataset(context_, dataset_handle(id), full);
    Handle object = object_handle(id);
    throw Error(ErrorCode::unsupported, "this object is a named datatype, not a group or dataset",
                context_->name, full);
  }

  bool contains(std::string_view path) override {
    context_->check_open(path_);
    const auto parts = split_path(path);
    if (parts.empty()) return true;
    Hdf5Lock lock;
    auto [start, start_path] = origin(path.starts_with('/'));
    hid_t current = start.get();
    Handle holder;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (H5Lexists(current, parts[i].c_str(), H5P_DEFAULT) <= 0) return false;
      // The target of a dangling soft link does not exist.
      if (H5Oexists_by_name(current, parts[i].c_str(), H5P_DEFAULT) <= 0) return false;
      if (i + 1 == parts.size()) return true;
      H5O_info_t info;
      if (H5Oget_info_by_name2(current, parts[i].c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
          info.type != H5O_TYPE_GROUP) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
      holder = group_handle(H5Gopen2(current, parts[i].c_str(), H5P_DEFAULT));
      current = holder.get();
    }
    return true;
  }

  void remove(std::string_view path) override {
    context_->check_writable(path_);
    const auto parts = split_path(path);
    if (parts.empty()) {
      throw Error(ErrorCode::invalid_argument, "cannot remove a group from itself", context_->name,
                  path_);
    }
    Hdf5Lock lock;
    auto [parent, parent_path] = walk(parts, parts.size() - 1, false, path.starts_with('/'));
    const std::string full = join_path(parent_path, parts.back());
    if (H5Lexists(parent.get(), parts.back().c_str(), H5P_DEFAULT) <= 0)
      not_found(parent.get(), parent_path, parts.back());
    remove_dataset_side_data(context_, full);
    check(H5Ldelete(parent.get(), parts.back().c_str(), H5P_DEFAULT), "cannot remove",
          context_->name, full);
    check(H5Fflush(context_->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context_->name, full);
  }

  std::vector<MemberInfo> members() override {
    context_->check_open(path_);
    Hdf5Lock lock;
    return list(id_.get(), path_);
  }

 private:
  // Where a new member goes: its parent (made with its own parents when
  // missing), its name and its full path. The caller holds the lock.
  struct NewMember {
    Handle parent;
    std::string name;
    std::string path;
  };

  NewMember new_member(std::string_view path, std::string_view kind) {
    context_->check_writable(path_);
    const auto parts = split_path(path);
    if (parts.empty()) {
      throw Error(ErrorCode::invalid_argument, fmt::format("empty {} path", kind), context_->name,
                  path_);
    }
    auto [parent, parent_path] = walk(parts, parts.size() - 1, true, path.starts_with('/'));
    const std::string full = join_path(parent_path, parts.back());
    if (H5Lexists(parent.get(), parts.back().c_str(), H5P_DEFAULT) > 0) {
      throw Error(ErrorCode::invalid_argument, "a member with this name already exists",
                  context_->name, full);
    }
    return {std::move(parent), parts.back(), full};
  }

  // Opens (or, when `create`, makes) the first `count` segments of `parts`
  // below this group; returns the last group and its full path.
  std::pair<Handle, std::string> walk(const std::vector<std::string>& parts, std::size_t count,
                                      bool create, bool absolute) {
    auto [current, current_path] = origin(absolute);
    for (std::size_t i = 0; i < count; ++i) {
      const std::string next_path = join_path(current_path, parts[i]);
      if (H5Lexists(current.get(), parts[i].c_str(), H5P_DEFAULT) <= 0) {
        if (!create) not_found(current.get(), current_path, parts[i]);
        current = new_group(current.get(), parts[i], next_path);
      } else {
        check_link(current.get(), parts[i], current_path);
        H5O_info_t info;
        check(H5Oget_info_by_name2(current.get(), parts[i].c_str(), &info, H5O_INFO_BASIC,
                                   H5P_DEFAULT),
              "cannot inspect", context_->name, next_path);
        if (info.type != H5O_TYPE_GROUP) {
          throw Error(ErrorCode::type_mismatch, "this is a dataset, not a group", context_->name,
                      next_path);
        }
        current = group_handle(check_id(H5Gopen2(current.get(), parts[i].c_str(), H5P_DEFAULT),
                                        "cannot open group", context_->name, next_path));
      }
      current_path = next_path;
    }
    return {std::move(current), current_path};
  }

  // Where a path starts: "/a" at the file's root, "a" at this group.
  std::pair<Handle, std::string> origin(bool absolute) {
    if (!absolute) return {reopen_self(), path_};
    return {group_handle(check_id(H5Gopen2(context_->file.get(), "/", H5P_DEFAULT),
                                  "cannot open the root group", context_->name, "/")),
            "/"};
  }

  Handle reopen_self() {
    return group_handle(check_id(H5Gopen2(id_.get(), ".", H5P_DEFAULT), "cannot open group",
                                 context_->name, path_));
  }

  std::shared_ptr<Dataset> create(std::string_view path, const DatasetOptions& options,
                                  const ArrayView* data) {
    Hdf5Lock lock;
    const NewMember m = new_member(path, "dataset");
    return hdf5::create_dataset(context_, m.parent.get(), m.name, m.path, options, data);
  }

  Handle new_group(hid_t parent, const std::string& name, const std::string& full) {
    return group_handle(
        check_id(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 "cannot create group", context_->name, full));
  }

  // External links point into other files: followed only when asked.
  void check_link(hid_t parent, const std::string& name, const std::string& parent_path) {
    H5L_info_t info;
    if (H5Lget_info(parent, name.c_str(), &info, H5P_DEFAULT) < 0) {
      not_found(parent, parent_path, name);
    }
    if (info.type == H5L_TYPE_EXTERNAL && context_->options.untrusted &&
        !context_->options.follow_external) {
      throw Error(ErrorCode::unsupported,
                  "an external link into another file; opened as untrusted, it is not followed "
                  "(set follow_external to follow it)",
                  context_->name, join_path(parent_path, name));
    }
    if (H5Oexists_by_name(parent, name.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      throw Error(ErrorCode::not_found, "a link whose target does not exist", context_->name,
                  join_path(parent_path, name));
    }
  }

  [[noreturn]] void not_found(hid_t parent, const std::string& parent_path,
                              const std::string& name) {
    std::vector<std::string> names;
    for (const auto& m : list(parent, parent_path))
      names.push_back(m.name);
    throw missing_member(parent_path, name, names, context_->name);
  }

  std::vector<MemberInfo> list(hid_t group, const std::string& group_path) {
    struct Walk {
      hid_t group;
      bool at_root;
      bool skip_external;
      std::vector<MemberInfo> members;
    } walk{group,
           group_path == "/",
           context_->options.untrusted && !context_->options.follow_external,
           {}};
    hsize_t index = 0;
    check(H5Literate(
              group, H5_INDEX_NAME, H5_ITER_INC, &index,
              [](hid_t g, const char* name, const H5L_info_t* link, void* data) -> herr_t {
                auto* w = static_cast<Walk*>(data);
                if (w->at_root && std::string_view(name) == kPrivateGroup) return 0;
                if (w->skip_external && link->type == H5L_TYPE_EXTERNAL) return 0;
                H5O_info_t info;
                // Dangling links and unreachable external files are not members.
                if (H5Oget_info_by_name2(g, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
                  H5Eclear2(H5E_DEFAULT);
                  return 0;
                }
                if (info.type == H5O_TYPE_GROUP) w->members.push_back({name, NodeKind::group});
                if (info.type == H5O_TYPE_DATASET) w->members.push_back({name, NodeKind::dataset});
                return 0;
              },
              &walk),
          "cannot list members", context_->name, group_path);
    return walk.members;
  }

  Context context_;
  Handle id_;
  std::string path_;
  std::unique_ptr<Attributes> attrs_;
};

}  // namespace

std::shared_ptr<Group> make_group(Context context, Handle id, std::string path) {
  return std::make_shared<Hdf5Group>(std::move(context), std::move(id), std::move(path));
}

}  // namespace larder::store::hdf5
