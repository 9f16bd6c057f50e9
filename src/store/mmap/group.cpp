// MmapGroup: groups as directories holding larder.json, arrays as sidecars
// beside their data files (the path walk is DirectoryGroup's). In a memmpy directory the root is
// the only group and holds one array per memmpy name.
#include <fmt/format.h>

#include <optional>

#include "../directory_group.h"
#include "../driver_common.h"
#include "../file_io.h"
#include "driver.h"
#include "larder/core/error.h"

namespace larder::store::mmap {
namespace {

nlohmann::json group_document(const std::filesystem::path& file, const Context& context,
                              const std::string& path) {
  nlohmann::json doc = nlohmann::json::parse(read_text(file, path), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("kind", "") != "group" ||
      !doc.value("attrs", nlohmann::json::object()).is_object() ||
      !doc.value("array_attrs", nlohmann::json::object()).is_object()) {
    throw Error(ErrorCode::corrupt,
                fmt::format("{} is not a larder group document (JSON object with kind \"group\")",
                            file.string()),
                context->name, path);
  }
  return doc;
}

// The kind of member `name` of the group at `group_path`, if there is one.
std::optional<NodeKind> kind_of(const Context& context, const std::string& group_path,
                                const std::string& name) {
  if (context->memmpy) {
    if (group_path == "/" && context->memmpy_arrays.contains(name)) return NodeKind::dataset;
    return std::nullopt;
  }
  const auto dir = context->directory(group_path);
  std::error_code ec;
  if (std::filesystem::is_directory(dir / name, ec) &&
      std::filesystem::exists(dir / name / kGroupFile, ec))
    return NodeKind::group;
  if (name != "larder" && std::filesystem::is_regular_file(dir / (name + ".json"), ec))
    return NodeKind::dataset;
  return std::nullopt;
}

std::vector<MemberInfo> list(const Context& context, const std::string& group_path) {
  if (context->memmpy) {
    std::vector<MemberInfo> out;
    if (group_path != "/") return out;
    for (const auto& [name, entry] : context->memmpy_arrays.items()) {
      // Names a path cannot reach are left out (see docs/formats/mmap.md).
      if (!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..")
        out.push_back({name, NodeKind::dataset});
    }
    return out;
  }
  return list_directory(
      *context, group_path,
      [](const std::filesystem::directory_entry& entry) -> std::optional<MemberInfo> {
        std::error_code ec;
        const std::string file = entry.path().filename().string();
        if (entry.is_directory(ec) && std::filesystem::exists(entry.path() / kGroupFile, ec))
          return MemberInfo{file, NodeKind::group};
        if (file.size() > 5 && file.ends_with(".json") && file != kGroupFile &&
            entry.is_regular_file(ec))
          return MemberInfo{file.substr(0, file.size() - 5), NodeKind::dataset};
        return std::nullopt;
      });
}

// Makes the directory and group document of a new group.
void make_group_directory(const Context& context, const std::string& path) {
  const auto dir = context->directory(path);
  std::error_code ec;
  std::filesystem::create_directory(dir, ec);
  if (ec) {
    throw Error(ErrorCode::io, fmt::format("cannot create the directory: {}", ec.message()),
                context->name, path);
  }
  replace_file(dir / kGroupFile, nlohmann::json{{"format", "larder-mmap"},
                                                {"version", 1},
                                                {"kind", "group"},
                                                {"attrs", nlohmann::json::object()},
                                                {"array_attrs", nlohmann::json::object()}}
                                         .dump(1) +
                                     "\n");
}

AttributeDocument group_attributes(const Context& context, const std::string& path) {
  if (context->memmpy) {
    return {[] {
              return std::pair{nlohmann::json::object(), nlohmann::json::object()};
            },
            [](const nlohmann::json&, const nlohmann::json&) {}};
  }
  const auto file = context->directory(path) / kGroupFile;
  return {[context, file, path] {
            const nlohmann::json doc = group_document(file, context, path);
            return std::pair{doc.value("attrs", nlohmann::json::object()),
                             doc.value("array_attrs", nlohmann::json::object())};
          },
          [context, file, path](const nlohmann::json& attrs, const nlohmann::json& arrays) {
            nlohmann::json doc = group_document(file, context, path);
            doc["attrs"] = attrs;
            doc["array_attrs"] = arrays;
            replace_file(file, doc.dump(1) + "\n");
          }};
}

class MmapGroup final : public DirectoryGroup {
 public:
  MmapGroup(Context context, std::string path)
      : DirectoryGroup(context, path), context_(std::move(context)) {
    set_attributes(
        make_attributes(context_, this->path(), group_attributes(context_, this->path())));
  }

 private:
  std::optional<NodeKind> kind_of(const std::string& group_path, const std::string& name) override {
    return mmap::kind_of(context_, group_path, name);
  }
  std::vector<MemberInfo> list(const std::string& group_path) override {
    return mmap::list(context_, group_path);
  }

  void check_new_name(const std::string& parent, const std::string& name, const std::string& full,
                      NodeKind kind) override {
    if (kind == NodeKind::dataset && name == "larder") {
      throw Error(ErrorCode::invalid_argument,
                  "an mmap array cannot be named 'larder' (its sidecar would be the group's "
                  "larder.json)",
                  context_->name, full);
    }
    // A group and an array cannot share a name: either's files block the other.
    std::error_code ec;
    const auto dir = context_->directory(parent);
    if (std::filesystem::exists(dir / (name + ".json"), ec) ||
        std::filesystem::exists(dir / name / kGroupFile, ec)) {
      throw Error(ErrorCode::invalid_argument, "a member with this name already exists",
                  context_->name, full);
    }
  }

  void make_group_node(const std::string& full) override { make_group_directory(context_, full); }
  std::shared_ptr<Group> group_at(const std::string& full) override {
    return make_group(context_, full);
  }
  std::shared_ptr<Dataset> open_dataset_at(const std::string& full) override {
    return mmap::open_dataset(context_, full);
  }
  std::shared_ptr<Dataset> create_dataset_at(const std::string& full,
                                             const DatasetOptions& options) override {
    return mmap::create_dataset(context_, full, options);
  }

  void remove_node(const std::string& parent, const std::string& name, NodeKind kind) override {
    const std::string full = join_path(parent, name);
    forget_arrays(context_, full);
    const auto dir = context_->directory(parent);
    std::error_code ec;
    if (kind == NodeKind::group) {
      std::filesystem::remove_all(dir / name, ec);
    } else {
      // The sidecar first: without it the array is gone, whatever is left.
      std::filesystem::remove(dir / (name + ".json"), ec);
      for (const char* suffix : {".bin", ".commit", ".sums"}) {
        if (!ec) std::filesystem::remove(dir / (name + suffix), ec);
      }
    }
    if (ec) {
      throw Error(ErrorCode::io, fmt::format("cannot remove: {}", ec.message()), context_->name,
                  full);
    }
  }

  Context context_;
};

}  // namespace

std::shared_ptr<Group> make_group(Context context, std::string path) {
  return std::make_shared<MmapGroup>(std::move(context), std::move(path));
}

}  // namespace larder::store::mmap
