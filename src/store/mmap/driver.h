// The memory-mapped driver's internal entry points, shared by its source
// files (docs/formats/mmap.md). A store is a directory; a group a
// subdirectory holding larder.json; an array NAME.bin + NAME.json, and when
// extendable NAME.commit + NAME.sums. The same code opens memmpy
// directories read-only.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "../array_registry.h"
#include "../directory_group.h"
#include "../json_attributes.h"
#include "larder/store/store.h"

namespace larder::store::mmap {

constexpr const char* kGroupFile = "larder.json";
constexpr const char* kMemmpyFile = "metadata_memmpy.json";

struct ArrayState;

// What every node of one open store shares.
struct StoreContext : DirectoryContext {
  bool memmpy = false;
  nlohmann::json memmpy_arrays;  // metadata_memmpy.json's "arrays"
  ArrayRegistry<ArrayState> arrays;
  // Arrays with commits their sidecar does not record yet, kept alive
  // until save_sidecars() writes it. Taken after an ArrayState's mutex,
  // never before it.
  std::mutex unsaved_mutex;
  std::map<std::string, std::shared_ptr<ArrayState>> unsaved;
};

using Context = std::shared_ptr<StoreContext>;

std::unique_ptr<Store> open_store(const std::filesystem::path& path, OpenMode mode,
                                  const StoreOptions& options);

std::shared_ptr<Group> make_group(Context context, std::string path);
// An existing array; Error(corrupt) naming the file for a bad sidecar or a
// data file too short for it.
std::shared_ptr<Dataset> open_dataset(Context context, const std::string& path);
std::shared_ptr<Dataset> create_dataset(Context context, const std::string& path,
                                        const DatasetOptions& options);
// Before an array (or a group holding arrays) is removed: open Dataset
// objects there stop working.
void forget_arrays(const Context& context, const std::string& path);
// Writes the sidecar of every array whose appends it does not record yet
// (on flush and close). Tries them all, then rethrows the first Error;
// those that failed are tried again at the next call unless `closing`.
void save_sidecars(const Context& context, bool closing);

// Attributes of the node at `path`, kept in `document` (see
// json_attributes.h): array values as {dtype, shape, hex}.
std::unique_ptr<Attributes> make_attributes(Context context, std::string path,
                                            AttributeDocument document);

}  // namespace larder::store::mmap
