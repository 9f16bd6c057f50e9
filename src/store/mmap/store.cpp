// MmapStore: opening, creating and closing a memory-mapped directory store,
// or a memmpy directory (read-only).
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../file_io.h"
#include "driver.h"
#include "larder/core/error.h"

namespace larder::store::mmap {
namespace {

class MmapStore final : public Store {
 public:
  explicit MmapStore(Context context)
      : context_(std::move(context)), root_(make_group(context_, "/")) {}
  ~MmapStore() override {
    try {
      close();
    } catch (...) {
      // Appends are committed in the commit files already; only sidecars
      // lag, and the next open reads past them.
    }
  }

  std::shared_ptr<Group> root() override {
    context_->check_open("/");
    return root_;
  }
  const std::filesystem::path& path() const override { return context_->fs_path; }
  std::string_view driver() const override { return context_->memmpy ? "memmpy" : "mmap"; }
  OpenMode mode() const override { return context_->mode; }
  bool is_open() const override { return context_->open; }
  // Every write is committed when it returns; flushing writes the sidecars
  // of arrays appended to since theirs was written.
  void flush() override {
    context_->check_open("/");
    save_sidecars(context_, false);
  }
  void close() override {
    if (!context_->open) return;
    context_->open = false;
    root_.reset();
    save_sidecars(context_, true);
  }

 private:
  Context context_;
  std::shared_ptr<Group> root_;
};

const std::string kRootDocument = nlohmann::json{{"format", "larder-mmap"},
                                                 {"version", 1},
                                                 {"kind", "group"},
                                                 {"attrs", nlohmann::json::object()},
                                                 {"array_attrs", nlohmann::json::object()}}
                                      .dump(1) +
                                  "\n";

void open_memmpy(StoreContext& context) {
  const auto file = context.fs_path / kMemmpyFile;
  nlohmann::json doc = nlohmann::json::parse(read_text(file, "/"), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() ||
      !doc.value("arrays", nlohmann::json()).is_object()) {
    throw Error(ErrorCode::corrupt,
                fmt::format("{} is not memmpy metadata (a JSON object with an \"arrays\" object)",
                            file.string()),
                context.name);
  }
  context.memmpy = true;
  context.read_only_reason =
      "a memmpy directory is read-only in larder (copy it into a .lmm store to change it)";
  context.memmpy_arrays = std::move(doc["arrays"]);
}

}  // namespace

std::unique_ptr<Attributes> make_attributes(Context context, std::string path,
                                            AttributeDocument document) {
  AttributeOwner owner{.file = context->name, .path = path, .check = {}};
  owner.check = [context = std::move(context), path = std::move(path)](bool writing) {
    context->check(path, writing);
  };
  return make_json_attributes(std::move(owner), std::move(document));
}

std::unique_ptr<Store> open_store(const std::filesystem::path& path, OpenMode mode,
                                  const StoreOptions& options) {
  const std::string name = path.string();
  std::error_code ec;
  const bool present = std::filesystem::exists(path, ec);
  auto context = std::make_shared<StoreContext>();
  context->fs_path = path;
  context->name = name;
  context->mode = mode;
  context->options = options;

  const bool is_memmpy = present && std::filesystem::exists(path / kMemmpyFile, ec) &&
                         !std::filesystem::exists(path / kGroupFile, ec);
  if (is_memmpy || options.driver == "memmpy") {
    if (!present) throw Error(ErrorCode::not_found, "no such memmpy directory", name);
    if (mode != OpenMode::read) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("a memmpy directory opens read-only in larder (mode 'r', not '{}')",
                              to_string(mode)),
                  name);
    }
    open_memmpy(*context);
    return std::make_unique<MmapStore>(std::move(context));
  }

  if ((mode == OpenMode::read || mode == OpenMode::read_write) && !present)
    throw Error(ErrorCode::not_found, "no such store directory", name);
  if (mode == OpenMode::create_new && present)
    throw Error(ErrorCode::io, "the store exists and mode 'w-' does not overwrite", name);
  const bool is_store = present && std::filesystem::is_directory(path, ec) &&
                        std::filesystem::exists(path / kGroupFile, ec);
  if (mode == OpenMode::truncate && present) {
    const bool empty_dir =
        std::filesystem::is_directory(path, ec) && std::filesystem::is_empty(path, ec);
    if (!is_store && !empty_dir) {
      throw Error(ErrorCode::invalid_argument,
                  "mode 'w' replaces only a larder mmap store or an empty directory; this is "
                  "neither",
                  name);
    }
    std::filesystem::remove_all(path, ec);
    if (ec) throw Error(ErrorCode::io, fmt::format("cannot remove: {}", ec.message()), name);
  }
  const bool create = mode == OpenMode::truncate || mode == OpenMode::create_new ||
                      (mode == OpenMode::append && !present);
  if (create) {
    create_store_directory(path, kGroupFile, kRootDocument);
  } else if (!is_store) {
    throw Error(ErrorCode::corrupt,
                fmt::format("not a larder mmap store (no {} in a directory)", kGroupFile), name);
  }
  auto store = std::make_unique<MmapStore>(std::move(context));
  store->root()->attrs().names();  // a root document that does not parse fails the open
  return store;
}

}  // namespace larder::store::mmap
