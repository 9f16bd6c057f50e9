// The store drivers the conformance and copy suites run against, each with
// where a fresh store goes and what it can do. A new driver is one entry in
// drivers(); a capability it lacks turns the tests that need it into checks
// that it refuses cleanly.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "larder/store/store.h"

namespace larder::testing {

struct Capabilities {
  bool compression = false;       // codecs other than "none"
  bool chunks = false;            // chunks() reports the chunk shape given at creation
  bool vstring = false;           // variable-length strings
  bool fixed_strings = true;      // S<n> byte strings
  bool array_attributes = true;   // Array attribute values come back as Arrays
  bool persistent = false;        // closing and reopening keeps everything
  bool complex = true;            // complex64 / complex128
  bool float16 = true;            // IEEE binary16
  bool big_endian = true;         // dtypes such as ">i4", kept as given
  bool always_resizable = false;  // every array grows and resizes on any axis (zarr)
  bool large_chunks = false;      // chunks may exceed the array's shape (zarr)
  bool shuffle_filter = false;    // HDF5's shuffle filter before a codec
};

struct Driver {
  std::string name;  // the test name suffix
  // Where a fresh store goes, given a fresh directory.
  std::function<std::filesystem::path(const std::filesystem::path& dir)> where;
  store::StoreOptions options;
  Capabilities can;
};

// gtest names a driver by its name, not its bytes.
inline void PrintTo(const Driver& driver, std::ostream* out) {
  *out << driver.name;
}

inline std::function<std::filesystem::path(const std::filesystem::path&)> in_dir(std::string name) {
  return [name](const std::filesystem::path& dir) { return dir / name; };
}

inline std::vector<Driver> drivers() {
  return {
      {.name = "hdf5",
       .where = in_dir("store.h5"),
       .options = {},
       .can = {.compression = true,
               .chunks = true,
               .vstring = true,
               .persistent = true,
               .shuffle_filter = true}},
      {.name = "hdf5_in_memory",
       .where = in_dir("store.h5"),
       .options = {.in_memory = true},
       .can = {.compression = true, .chunks = true, .vstring = true, .shuffle_filter = true}},
      {.name = "mmap", .where = in_dir("store.lmm"), .options = {}, .can = {.persistent = true}},
      {.name = "zarr",
       .where = in_dir("store.zarr"),
       .options = {},
       .can = {.compression = true,
               .chunks = true,
               .array_attributes = false,  // stored as JSON lists, as zarr-python does
               .persistent = true,
               .always_resizable = true,
               .large_chunks = true}},
      {.name = "memory",
       .where = [](const std::filesystem::path&) { return std::filesystem::path(":memory:"); },
       .options = {},
       .can = {.chunks = true, .vstring = true}},
  };
}

}  // namespace larder::testing
