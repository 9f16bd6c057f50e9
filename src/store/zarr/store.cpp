// ZarrStore: opening, creating and closing a zarr v2 directory store, and
// the attributes (.zattrs) every node keeps.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "../file_io.h"
#include "../json_attributes.h"
#include "driver.h"
#include "larder/core/error.h"
#include "metadata.h"

namespace larder::store::zarr {
namespace {

const std::string kGroupDocument = dump_json({{"zarr_format", 2}});

class ZarrStore final : public Store {
 public:
  explicit ZarrStore(Context context)
      : context_(std::move(context)), root_(make_group(context_, "/")) {}
  ~ZarrStore() override { close(); }

  std::shared_ptr<Group> root() override {
    context_->check_open("/");
    return root_;
  }
  const std::filesystem::path& path() const override { return context_->fs_path; }
  std::string_view driver() const override { return "zarr"; }
  OpenMode mode() const override { return context_->mode; }
  bool is_open() const override { return context_->open; }
  // Every write is committed when it returns: nothing is left to flush.
  void flush() override { context_->check_open("/"); }
  void close() override {
    context_->open = false;
    root_.reset();
  }

 private:
  Context context_;
  std::shared_ptr<Group> root_;
};

bool is_there(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// The root's .zgroup must say zarr_format 2.
void check_root(const StoreContext& context) {
  const auto file = context.fs_path / kGroupFile;
  const nlohmann::json doc = parse_json(read_text(file, "/"), file.string());
  if (!doc.is_object() || !doc.contains("zarr_format")) {
    throw Error(
        ErrorCode::corrupt,
        fmt::format("{} is not a zarr group document (an object with zarr_format)", file.string()),
        context.name, "/");
  }
  if (doc["zarr_format"] != 2) {
    throw Error(ErrorCode::unsupported,
                fmt::format("{} says zarr_format {}: larder reads zarr v2 stores", file.string(),
                            doc["zarr_format"].dump()),
                context.name, "/");
  }
}

}  // namespace

void StoreContext::metadata_changing() {
  std::lock_guard lock(consolidated_mutex_);
  if (consolidated_checked_) return;
  std::error_code ec;
  std::filesystem::remove(fs_path / kConsolidatedFile, ec);
  if (ec) {
    throw Error(ErrorCode::io,
                fmt::format("cannot remove the consolidated metadata {} that this change would "
                            "make stale: {}",
                            (fs_path / kConsolidatedFile).string(), ec.message()),
                name);
  }
  consolidated_checked_ = true;
}

std::unique_ptr<Attributes> make_attributes(Context context, std::string path,
                                            std::function<void(bool writing)> check) {
  const auto file = context->directory(path) / kAttrsFile;
  AttributeDocument document{
      .load =
          [context, file, path] {
            std::error_code ec;
            if (!std::filesystem::exists(file, ec))
              return std::pair{nlohmann::json::object(), nlohmann::json::object()};
            nlohmann::json attrs;
            try {
              attrs = parse_json(read_text(file, path), file.string());
            } catch (const Error& e) {
              throw e.at(file.string(), path);
            }
            if (!attrs.is_object()) {
              throw Error(ErrorCode::corrupt, "not a JSON object of attributes", file.string(),
                          path);
            }
            return std::pair{std::move(attrs), nlohmann::json::object()};
          },
      .save =
          [context, file](const nlohmann::json& attrs, const nlohmann::json&) {
            context->metadata_changing();
            replace_file(file, dump_json(attrs));
          }};
  AttributeOwner owner{.file = context->name,
                       .path = path,
                       .check = std::move(check),
                       .arrays = ArrayAttributeForm::json_lists};
  return make_json_attributes(std::move(owner), std::move(document));
}

std::unique_ptr<Store> open_store(const std::filesystem::path& path, OpenMode mode,
                                  const StoreOptions& options) {
  const std::string name = path.string();
  const std::string& separator = options.zarr_dimension_separator;
  if (separator != "." && separator != "/") {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("zarr_dimension_separator '{}' is not '.' or '/'", separator), name);
  }
  auto context = std::make_shared<StoreContext>();
  context->fs_path = path;
  context->name = name;
  context->mode = mode;
  context->options = options;
  context->separator = separator[0];

  std::error_code ec;
  const bool present = is_there(path);
  const bool directory = present && std::filesystem::is_directory(path, ec);
  const bool empty = directory && std::filesystem::is_empty(path, ec);
  const bool is_group = directory && is_there(path / kGroupFile);
  const bool is_array = directory && is_there(path / kArrayFile);
  if ((mode == OpenMode::read || mode == OpenMode::read_write) && !present)
    throw Error(ErrorCode::not_found, "no such zarr store directory", name);
  if (mode == OpenMode::create_new && present)
    throw Error(ErrorCode::io, "the store exists and mode 'w-' does not overwrite", name);
  if (mode == OpenMode::truncate && present && !empty) {
    if (!is_group && !is_array) {
      throw Error(ErrorCode::invalid_argument,
                  "mode 'w' replaces only a zarr store or an empty directory; this is neither",
                  name);
    }
    std::filesystem::remove_all(path, ec);
    if (ec) throw Error(ErrorCode::io, fmt::format("cannot remove: {}", ec.message()), name);
  }
  const bool create = mode == OpenMode::truncate || mode == OpenMode::create_new ||
                      (mode == OpenMode::append && (!present || empty));
  if (create) {
    if (directory && is_there(path)) {
      replace_file(path / kGroupFile, kGroupDocument);  // an empty directory becomes the store
    } else {
      create_store_directory(path, kGroupFile, kGroupDocument);
    }
  } else if (is_array && !is_group) {
    throw Error(ErrorCode::unsupported,
                "this zarr store's root is an array (.zarray), not a group; larder opens stores "
                "whose root is a group (zarr.open_group), with arrays inside",
                name);
  } else if (!is_group) {
    throw Error(ErrorCode::corrupt,
                fmt::format("not a zarr v2 store (no {} in a directory)", kGroupFile), name);
  } else {
    check_root(*context);
  }
  return std::make_unique<ZarrStore>(std::move(context));
}

}  // namespace larder::store::zarr
