#include "handle.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "larder/core/error.h"

namespace larder::store::hdf5 {
namespace {

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

// HDF5's error printing is per thread in the thread-safe build.
void silence_this_thread() {
  thread_local bool silenced = false;
  if (!silenced) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    silenced = true;
  }
}

herr_t collect(unsigned, const H5E_error2_t* entry, void* data) {
  auto* messages = static_cast<std::vector<std::string>*>(data);
  if (entry->desc != nullptr && entry->desc[0] != '\0') {
    std::string text(entry->desc);
    std::replace(text.begin(), text.end(), '\n', ' ');  // errors are one line
    messages->push_back(std::move(text));
  }
  return 0;
}

}  // namespace

void reset_lock_in_child() {
  new (&hdf5_mutex()) std::recursive_mutex();
}

void Handle::reset() noexcept {
  if (id_ >= 0 && close_ != nullptr) {
    Hdf5Lock lock;
    close_(id_);
  }
  id_ = H5I_INVALID_HID;
}

std::string error_stack() {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &messages);  // innermost first
  H5Eclear2(H5E_DEFAULT);
  // The innermost (first) entries say what actually went wrong.
  if (messages.size() > 3) messages.resize(3);
  return fmt::format("{}", fmt::join(messages, "; "));
}

hid_t check_id(hid_t id, const std::string& what, const std::string& file,
               const std::string& path) {
  if (id < 0) {
    const std::string stack = error_stack();
    throw Error(ErrorCode::io, stack.empty() ? what : fmt::format("{} ({})", what, stack), file,
                path);
  }
  return id;
}

herr_t check(herr_t status, const std::string& what, const std::string& file,
             const std::string& path) {
  if (status < 0) {
    const std::string stack = error_stack();
    throw Error(ErrorCode::io, stack.empty() ? what : fmt::format("{} ({})", what, stack), file,
                path);
  }
  return status;
}

}  // namespace larder::store::hdf5

namespace larder::store {

Hdf5Turn::Hdf5Turn() {
  hdf5::hdf5_mutex().lock();
  hdf5::silence_this_thread();
}

Hdf5Turn::~Hdf5Turn() {
  hdf5::hdf5_mutex().unlock();
}

}  // namespace larder::store
