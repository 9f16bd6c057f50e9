// MemoryStore: a store that lives in RAM for as long as its Store object.
// Every open that may write makes a fresh, empty store; close() (or the
// destructor) lets go of everything in it.
#include <fmt/format.h>

#include <mutex>

#include "driver.h"
#include "larder/core/error.h"

namespace larder::store::memory {
namespace {

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(Context context)
      : context_(std::move(context)), root_(make_group(context_, context_->root, "/")) {}
  ~MemoryStore() override { close(); }

  std::shared_ptr<Group> root() override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*context_->root, "/");
    return root_;
  }
  const std::filesystem::path& path() const override { return context_->fs_path; }
  std::string_view driver() const override { return "memory"; }
  OpenMode mode() const override { return context_->mode; }
  bool is_open() const override { return context_->open; }
  // Nothing is anywhere but here: a flush has nothing to do.
  void flush() override {
    std::shared_lock lock(context_->mutex);
    context_->check_usable(*context_->root, "/");
  }
  void close() override {
    std::unique_lock lock(context_->mutex);
    if (!context_->open) return;
    context_->open = false;
    release(context_->root);
    root_.reset();
  }

 private:
  Context context_;
  std::shared_ptr<Group> root_;
};

}  // namespace

void StoreContext::check_usable(const NodeData& node, const std::string& node_path) const {
  if (!open) throw Error(ErrorCode::invalid_argument, "the store is closed", name, node_path);
  if (node.removed) {
    throw Error(ErrorCode::not_found, "this node was removed from the store", name, node_path);
  }
}

void release(const Member& member) {
  if (const auto* group = std::get_if<std::shared_ptr<GroupData>>(&member)) {
    for (const auto& [name, child] : (*group)->members)
      release(child);
    (*group)->members.clear();
    (*group)->attrs.clear();
    (*group)->removed = true;
    return;
  }
  ArrayData& array = *std::get<std::shared_ptr<ArrayData>>(member);
  array.bytes = {};
  array.strings = {};
  array.attrs.clear();
  array.removed = true;
}

std::unique_ptr<Store> open_store(const std::filesystem::path& path, OpenMode mode,
                                  const StoreOptions&) {
  if (mode == OpenMode::read) {
    // A memory store exists only inside the Store object that made it:
    // there is never one to open for reading, as with a file that is missing.
    throw Error(ErrorCode::not_found,
                "a memory store exists only inside the Store object that made it, so there is "
                "none to open read-only (mode 'r'); open it with 'w' or 'a' for a new one",
                path.string());
  }
  auto context = std::make_shared<StoreContext>();
  context->fs_path = path;
  context->name = path.string();
  context->mode = mode;
  return std::make_unique<MemoryStore>(std::move(context));
}

}  // namespace larder::store::memory
