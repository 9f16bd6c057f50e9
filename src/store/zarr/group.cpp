// ZarrGroup: groups as directories holding .zgroup, arrays as directories
// holding .zarray (the path walk is DirectoryGroup's). Members are the
// subdirectories that are nodes; names starting with '.' are zarr's (and
// larder's temporaries), never members.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "../directory_group.h"
#include "../driver_common.h"
#include "../file_io.h"
#include "driver.h"
#include "larder/core/error.h"
#include "metadata.h"

namespace larder::store::zarr {
namespace {

// The kind of the node in directory `dir`, if it is one.
std::optional<NodeKind> node_kind(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  if (std::filesystem::exists(dir / kArrayFile, ec)) return NodeKind::dataset;
  if (std::filesystem::exists(dir / kGroupFile, ec)) return NodeKind::group;
  return std::nullopt;
}

std::optional<NodeKind> kind_of(const Context& context, const std::string& group_path,
                                const std::string& name) {
  if (name.starts_with('.')) return std::nullopt;
  return node_kind(context->directory(group_path) / name);
}

std::vector<MemberInfo> list(const Context& context, const std::string& group_path) {
  return list_directory(
      *context, group_path,
      [](const std::filesystem::directory_entry& entry) -> std::optional<MemberInfo> {
        const std::string name = entry.path().filename().string();
        if (name.starts_with('.')) return std::nullopt;
        const auto kind = node_kind(entry.path());
        if (!kind) return std::nullopt;
        return MemberInfo{name, *kind};
      });
}

// Makes the directory of a new node; one left behind without metadata (a
// writer killed between the two steps) is taken over if it is empty.
void make_node_directory(const Context& context, const std::string& path) {
  const auto dir = context->directory(path);
  std::error_code ec;
  std::filesystem::create_directory(dir, ec);
  if (ec) {
    throw Error(ErrorCode::io, fmt::format("cannot create the directory: {}", ec.message()),
                context->name, path);
  }
  if (!std::filesystem::is_empty(dir, ec)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} exists and holds files, but is no zarr group or array: larder "
                            "does not build a node over them",
                            dir.string()),
                context->name, path);
  }
}

void make_group_directory(const Context& context, const std::string& path) {
  make_node_directory(context, path);
  context->metadata_changing();
  replace_file(context->directory(path) / kGroupFile, dump_json({{"zarr_format", 2}}));
}

class ZarrGroup final : public DirectoryGroup {
 public:
  ZarrGroup(Context context, std::string path)
      : DirectoryGroup(context, path), context_(std::move(context)) {
    set_attributes(
        make_attributes(context_, this->path(),
                        [c = context_, p = this->path()](bool writing) { c->check(p, writing); }));
  }

 private:
  std::optional<NodeKind> kind_of(const std::string& group_path, const std::string& name) override {
    return zarr::kind_of(context_, group_path, name);
  }
  std::vector<MemberInfo> list(const std::string& group_path) override {
    return zarr::list(context_, group_path);
  }

  void check_new_name(const std::string&, const std::string& name, const std::string& full,
                      NodeKind) override {
    if (name.starts_with('.')) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("'{}' cannot name a zarr node: names starting with '.' are zarr's "
                              "own (.zarray, .zgroup, .zattrs)",
                              name),
                  context_->name, full);
    }
  }

  void make_group_node(const std::string& full) override { make_group_directory(context_, full); }
  std::shared_ptr<Group> group_at(const std::string& full) override {
    return make_group(context_, full);
  }
  std::shared_ptr<Dataset> open_dataset_at(const std::string& full) override {
    return zarr::open_dataset(context_, full);
  }
  std::shared_ptr<Dataset> create_dataset_at(const std::string& full,
                                             const DatasetOptions& options) override {
    make_node_directory(context_, full);
    try {
      return zarr::create_dataset(context_, full, options);
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove(context_->directory(full), ec);  // empty: nothing was written
      throw;
    }
  }

  // The node's directory is first renamed to a hidden name, so that a
  // writer killed while deleting it leaves no half node behind.
  void remove_node(const std::string& parent, const std::string& name, NodeKind) override {
    const std::string full = join_path(parent, name);
    forget_arrays(context_, full);
    context_->metadata_changing();
    static std::atomic<unsigned> counter{0};
    const auto dir = context_->directory(full);
    const auto hidden = context_->directory(parent) /
                        fmt::format(".{}.removing-{}-{}", name, ::getpid(), counter++);
    if (::rename(dir.c_str(), hidden.c_str()) != 0) {
      throw Error(ErrorCode::io, fmt::format("cannot remove: {}", std::strerror(errno)),
                  context_->name, full);
    }
    std::error_code ec;
    std::filesystem::remove_all(hidden, ec);
    if (ec) {
      throw Error(ErrorCode::io,
                  fmt::format("removed, but {} is left behind: {}", hidden.string(), ec.message()),
                  context_->name, full);
    }
  }

  Context context_;
};

}  // namespace

std::shared_ptr<Group> make_group(Context context, std::string path) {
  return std::make_shared<ZarrGroup>(std::move(context), std::move(path));
}

}  // namespace larder::store::zarr
