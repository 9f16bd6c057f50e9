// RAII for HDF5 identifiers, the lock every HDF5 call is made under, and the
// conversion of HDF5's error stack into larder::Error.
//
// libhdf5 (Debian's thread-safe build) serializes all calls behind its own
// global lock; larder takes Hdf5Lock around each group of calls so that the
// expensive work — codecs, gathering — runs outside it, on the TBB pool.
// This header is private to src/store/hdf5: hid_t never leaves it.
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

#include "larder/store/store.h"

namespace larder::store::hdf5 {

// Held around every sequence of HDF5 calls: the lock store::Hdf5Turn takes
// (re-entrant). Taking it also switches HDF5's automatic error printing off
// for the calling thread (the library never prints).
using Hdf5Lock = Hdf5Turn;

// In a child made by fork() while the lock was held: the child's single
// thread has a new identity, so the inherited lock is re-made unlocked.
void reset_lock_in_child();

// An owned hid_t, closed with the function that matches its kind.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      close_ = other.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const noexcept { return id_; }
  explicit operator bool() const noexcept { return id_ >= 0; }
  void reset() noexcept;
  // Forgets the id without closing it (its file already closed it).
  void release() noexcept { id_ = H5I_INVALID_HID; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// The innermost messages of the current HDF5 error stack, "; "-joined.
std::string error_stack();

// Throw Error(io) (or `code`) naming `what`, the file and the HDF5 stack
// when `id` / `status` signal failure; return the value otherwise.
hid_t check_id(hid_t id, const std::string& what, const std::string& file = {},
               const std::string& path = {});
herr_t check(herr_t status, const std::string& what, const std::string& file = {},
             const std::string& path = {});

inline Handle file_handle(hid_t id) {
  return {id, H5Fclose};
}
inline Handle group_handle(hid_t id) {
  return {id, H5Gclose};
}
inline Handle dataset_handle(hid_t id) {
  return {id, H5Dclose};
}
inline Handle space_handle(hid_t id) {
  return {id, H5Sclose};
}
inline Handle type_handle(hid_t id) {
  return {id, H5Tclose};
}
inline Handle plist_handle(hid_t id) {
  return {id, H5Pclose};
}
inline Handle attribute_handle(hid_t id) {
  return {id, H5Aclose};
}
inline Handle object_handle(hid_t id) {
  return {id, H5Oclose};
}

}  // namespace larder::store::hdf5
