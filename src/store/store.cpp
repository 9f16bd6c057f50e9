#include "larder/store/store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "hdf5/driver.h"
#include "larder/core/error.h"
#include "memory/driver.h"
#include "mmap/driver.h"
#include "zarr/driver.h"

namespace larder::store {

std::string Store::driver_for(const std::filesystem::path& path, const StoreOptions& options) {
  if (!options.driver.empty()) return options.driver;
  if (path == ":memory:") return "memory";
  std::string suffix = path.extension().string();
  std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (suffix == ".h5" || suffix == ".hdf5" || suffix == ".he5" || suffix == ".nc") return "hdf5";
  if (suffix == ".lmm") return "mmap";
  if (suffix == ".zarr") return "zarr";
  // A directory written by memmpy (or a .lmm store under another name).
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (std::filesystem::exists(path / mmap::kMemmpyFile, ec)) return "memmpy";
    if (std::filesystem::exists(path / mmap::kGroupFile, ec)) return "mmap";
    if (std::filesystem::exists(path / zarr::kGroupFile, ec) ||
        std::filesystem::exists(path / zarr::kArrayFile, ec))
      return "zarr";
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("cannot tell the store format from the suffix '{}'; name it with "
                          "driver= (known: hdf5, mmap, memmpy, memory, zarr)",
                          suffix),
              path.string());
}

std::unique_ptr<Store> Store::open(const std::filesystem::path& path, OpenMode mode,
                                   const StoreOptions& options) {
  const std::string driver = driver_for(path, options);
  if (driver == "hdf5") return hdf5::open_store(path, mode, options);
  if (driver == "mmap" || driver == "memmpy") return mmap::open_store(path, mode, options);
  if (driver == "memory") return memory::open_store(path, mode, options);
  if (driver == "zarr") return zarr::open_store(path, mode, options);
  throw Error(ErrorCode::not_found,
              fmt::format("no store driver '{}' (known: hdf5, mmap, memmpy, memory, zarr)", driver),
              path.string());
}

std::unique_ptr<Store> Store::memory(std::string_view name) {
  return open(std::filesystem::path(name), OpenMode::truncate, {.driver = "memory"});
}

}  // namespace larder::store
