// MmapGroup: groups as directories, and the path walk every lookup goes
// through. In a memmpy directory the root is the only group and holds one
// array per memmpy name.
#include <fmt/format.h>

#include <optional>

#include "../driver_common.h"
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
  std::vector<MemberInfo> out;
  if (context->memmpy) {
    if (group_path != "/") return out;
    for (const auto& [name, entry] : context->memmpy_arrays.items()) {
      // Names a path cannot reach are left out (see docs/formats/mmap.md).
      if (!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..")
        out.push_back({name, NodeKind::dataset});
    }
    return out;
  }
  std::error_code ec;
  std::filesystem::directory_iterator it(context->directory(group_path), ec);
  if (ec) {
    throw Error(ErrorCode::io, fmt::format("cannot list the group's directory: {}", ec.message()),
                context->name, group_path);
  }
  for (const auto& entry : it) {
    const std::string file = entry.path().filename().string();
    if (entry.is_directory(ec) && std::filesystem::exists(entry.path() / kGroupFile, ec)) {
      out.push_back({file, NodeKind::group});
    } else if (file.size() > 5 && file.ends_with(".json") && file != kGroupFile &&
               entry.is_regular_file(ec)) {
      out.push_back({file.substr(0, file.size() - 5), NodeKind::dataset});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
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

class MmapGroup final : public Group {
 public:
  MmapGroup(Context context, std::string path)
      : context_(std::move(context)),
        path_(std::move(path)),
        attrs_(make_attributes(context_, path_, group_attributes(context_, path_))) {}

  const std::string& path() const override { return path_; }
  const std::filesystem::path& store_path() const override { return context_->fs_path; }
  Attributes& attrs() override {
    context_->check_open(path_);
    return *attrs_;
  }

  std::shared_ptr<Group> create_group(std::string_view path) override {
    const std::string full = new_member(path, "group");
    make_group_directory(context_, full);
    return make_group(context_, full);
  }

  std::shared_ptr<Group> require_group(std::string_view path) override {
    context_->check_open(path_);
    const auto parts = split_path(path);
    const std::string full =
        walk(parts, parts.size(), is_writable(context_->mode), path.starts_with('/'));
    return make_group(context_, full);
  }

  std::shared_ptr<Dataset> create_dataset(std::string_view path,
                                          const DatasetOptions& options) override {
    const std::string full = new_member(path, "dataset");
    if (split_path(path).back() == "larder") {
      throw Error(ErrorCode::invalid_argument,
                  "an mmap array cannot be named 'larder' (its sidecar would be the group's "
                  "larder.json)",
                  context_->name, full);
    }
    return mmap::create_dataset(context_, full, options);
  }

  std::shared_ptr<Node> open(std::string_view path) override {
    context_->check_open(path_);
    const auto parts = split_path(path);
    const bool absolute = path.starts_with('/');
    if (parts.empty()) return make_group(context_, absolute ? "/" : path_);
    const std::string parent = walk(parts, parts.size() - 1, false, absolute);
    const std::string full = join_path(parent, parts.back());
    const auto kind = kind_of(context_, parent, parts.back());
    if (!kind) not_found(parent, parts.back());
    if (*kind == NodeKind::group) return make_group(context_, full);
    return mmap::open_dataset(context_, full);
  }

  bool contains(std::string_view path) override {
    context_->check_open(path_);
    const auto parts = split_path(path);
    std::string current = path.starts_with('/') ? "/" : path_;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto kind = kind_of(context_, current, parts[i]);
      if (!kind) return false;
      if (i + 1 == parts.size()) return true;
      if (*kind != NodeKind::group) return false;
      current = join_path(current, parts[i]);
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
    const std::string parent = walk(parts, parts.size() - 1, false, path.starts_with('/'));
    const std::string full = join_path(parent, parts.back());
    const auto kind = kind_of(context_, parent, parts.back());
    if (!kind) not_found(parent, parts.back());
    forget_arrays(context_, full);
    const auto dir = context_->directory(parent);
    std::error_code ec;
    if (*kind == NodeKind::group) {
      std::filesystem::remove_all(dir / parts.back(), ec);
    } else {
      // The sidecar first: without it the array is gone, whatever is left.
      std::filesystem::remove(dir / (parts.back() + ".json"), ec);
      for (const char* suffix : {".bin", ".commit", ".sums"}) {
        if (!ec) std::filesystem::remove(dir / (parts.back() + suffix), ec);
      }
    }
    if (ec) {
      throw Error(ErrorCode::io, fmt::format("cannot remove: {}", ec.message()), context_->name,
                  full);
    }
  }

  std::vector<MemberInfo> members() override {
    context_->check_open(path_);
    return list(context_, path_);
  }

 private:
  // The full path of a new member at `path`, its parents made when missing.
  std::string new_member(std::string_view path, std::string_view kind) {
    context_->check_writable(path_);
    const auto parts = split_path(path);
    if (parts.empty()) {
      throw Error(ErrorCode::invalid_argument, fmt::format("empty {} path", kind), context_->name,
                  path_);
    }
    const std::string parent = walk(parts, parts.size() - 1, true, path.starts_with('/'));
    const std::string full = join_path(parent, parts.back());
    if (parts.back().find('\0') != std::string::npos) {
      throw Error(ErrorCode::invalid_argument, "a name cannot hold a NUL character", context_->name,
                  full);
    }
    std::error_code ec;
    const auto dir = context_->directory(parent);
    if (kind_of(context_, parent, parts.back()) ||
        std::filesystem::exists(dir / (parts.back() + ".json"), ec) ||
        std::filesystem::exists(dir / parts.back() / kGroupFile, ec)) {
      throw Error(ErrorCode::invalid_argument, "a member with this name already exists",
                  context_->name, full);
    }
    return full;
  }

  // Opens (or, when `create`, makes) the first `count` segments of `parts`;
  // returns the path of the last group.
  std::string walk(const std::vector<std::string>& parts, std::size_t count, bool create,
                   bool absolute) {
    std::string current = absolute ? "/" : path_;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string next = join_path(current, parts[i]);
      const auto kind = kind_of(context_, current, parts[i]);
      if (!kind) {
        if (!create) not_found(current, parts[i]);
        make_group_directory(context_, next);
      } else if (*kind != NodeKind::group) {
        throw Error(ErrorCode::type_mismatch, "this is a dataset, not a group", context_->name,
                    next);
      }
      current = next;
    }
    return current;
  }

  [[noreturn]] void not_found(const std::string& parent, const std::string& name) {
    std::vector<std::string> names;
    for (const auto& m : list(context_, parent))
      names.push_back(m.name);
    throw missing_member(parent, name, names, context_->name);
  }

  Context context_;
  std::string path_;
  std::unique_ptr<Attributes> attrs_;
};

}  // namespace

std::shared_ptr<Group> make_group(Context context, std::string path) {
  return std::make_shared<MmapGroup>(std::move(context), std::move(path));
}

}  // namespace larder::store::mmap
