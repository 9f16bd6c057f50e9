// Store — an open file or directory of groups and datasets.
//
// Store::open picks the driver from options.driver or from the path
// (.h5, .hdf5 -> "hdf5"; .lmm -> "mmap"; .zarr, or a directory holding
// .zgroup -> "zarr"; a directory holding metadata_memmpy.json -> "memmpy",
// read-only; ":memory:" -> "memory", a store held in RAM whose path is only
// a name). The store owns the underlying file (or memory): close() (or
// destruction) flushes and releases it, after which its nodes raise
// Error(invalid_argument). Opening a missing file for reading, an existing
// one with "w-", or a file that is not of the driver's format raises Error
// naming the file; nothing on disk changes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "larder/store/group.h"
#include "larder/store/open_mode.h"

namespace larder::store {

struct StoreOptions {
  std::string driver{};  // "": from the suffix
  // Bytes of decoded chunks kept per dataset for reads (the read window).
  std::size_t chunk_cache_bytes = std::size_t{64} << 20;
  // Keep the whole file in memory (HDF5 core driver); with write_back, the
  // image is written to the path on close.
  bool in_memory = false;
  bool write_back = false;
  // A file of unknown origin: opened first in a child process that walks
  // it, so a file that crashes or hangs the HDF5 library is reported, not
  // fatal; external links and external storage are not followed. An mmap
  // store checks every block checksum of an array when opening it.
  bool untrusted = false;
  bool follow_external = false;
  // Chunk keys of the arrays the zarr driver creates: "." ("0.0", zarr's
  // default) or "/" ("0/0", nested directories). Arrays that exist keep
  // the separator their .zarray names.
  std::string zarr_dimension_separator = ".";
};

class Store {
 public:
  static std::unique_ptr<Store> open(const std::filesystem::path& path, OpenMode mode,
                                     const StoreOptions& options = {});
  static std::unique_ptr<Store> open(const std::filesystem::path& path, std::string_view mode,
                                     const StoreOptions& options = {}) {
    return open(path, parse_open_mode(mode), options);
  }
  // A new, empty store in RAM (driver "memory"): it lives as long as the
  // returned object; copy() saves what it holds into a file.
  static std::unique_ptr<Store> memory(std::string_view name = ":memory:");
  // The driver Store::open would use for `path`: options.driver, else what
  // the path says; Error(invalid_argument) when it says nothing.
  static std::string driver_for(const std::filesystem::path& path,
                                const StoreOptions& options = {});

  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  virtual std::shared_ptr<Group> root() = 0;
  virtual const std::filesystem::path& path() const = 0;
  virtual std::string_view driver() const = 0;
  virtual OpenMode mode() const = 0;
  virtual void flush() = 0;
  virtual void close() = 0;
  virtual bool is_open() const = 0;
};

// Holds libhdf5's lock for its lifetime (re-entrant). libhdf5 is not
// thread-safe, so every call into an HDF5 store takes this lock; threads
// that each walk a file then hand it back and forth call by call, and each
// contended handoff costs a context switch (loading 1,000 small files on
// two threads was 25% slower than on one). A walk made under one Hdf5Turn
// takes the lock once: threads take turns file by file. Other drivers do
// not need it.
class Hdf5Turn {
 public:
  Hdf5Turn();
  ~Hdf5Turn();
  Hdf5Turn(const Hdf5Turn&) = delete;
  Hdf5Turn& operator=(const Hdf5Turn&) = delete;
};

}  // namespace larder::store
