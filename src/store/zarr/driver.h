// The zarr v2 driver's internal entry points, shared by its source files
// (docs/formats/zarr.md). A store is a directory holding .zgroup; a group a
// subdirectory holding .zgroup; an array a subdirectory holding .zarray and
// its chunk files; attributes live in .zattrs beside either. Every node of
// one open store shares its StoreContext; StoreContext is thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "../array_registry.h"
#include "../directory_group.h"
#include "larder/store/store.h"

namespace larder::store::zarr {

constexpr const char* kGroupFile = ".zgroup";
constexpr const char* kArrayFile = ".zarray";
constexpr const char* kAttrsFile = ".zattrs";
constexpr const char* kConsolidatedFile = ".zmetadata";

struct ArrayState;

// What every node of one open store shares.
struct StoreContext : DirectoryContext {
  char separator = '.';  // of the chunk keys of arrays created here
  ArrayRegistry<ArrayState> arrays;

  // Called before any metadata file changes: removes the consolidated
  // metadata (.zmetadata) at the root, which would go stale (once per open).
  void metadata_changing();

 private:
  std::mutex consolidated_mutex_;
  bool consolidated_checked_ = false;
};

using Context = std::shared_ptr<StoreContext>;

std::unique_ptr<Store> open_store(const std::filesystem::path& path, OpenMode mode,
                                  const StoreOptions& options);

std::shared_ptr<Group> make_group(Context context, std::string path);
// An existing array; Error(corrupt) naming .zarray for bad metadata,
// Error(unsupported) for zarr features larder does not read.
std::shared_ptr<Dataset> open_dataset(Context context, const std::string& path);
// A new array in the existing, empty directory of `path`.
std::shared_ptr<Dataset> create_dataset(Context context, const std::string& path,
                                        const DatasetOptions& options);
// Before an array (or a group holding arrays) is removed: open Dataset
// objects there stop working.
void forget_arrays(const Context& context, const std::string& path);

// The attributes of the node at `path` (its .zattrs), checked by `check`
// (writing or not) before each call.
std::unique_ptr<Attributes> make_attributes(Context context, std::string path,
                                            std::function<void(bool writing)> check);

}  // namespace larder::store::zarr
