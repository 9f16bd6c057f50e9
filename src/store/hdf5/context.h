// What every node of one open HDF5 file shares: the file handle, its path
// for messages, the options it was opened with, and whether it is still open.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>

#include "../file_io.h"
#include "handle.h"
#include "larder/store/store.h"

namespace larder::store::hdf5 {

struct FileContext {
  Handle file;
  std::filesystem::path fs_path;
  std::string name;  // fs_path as text, for messages
  StoreOptions options;
  OpenMode mode = OpenMode::read;
  bool open = true;
  // The open datasets, by path: one object per dataset, so that appends
  // through any handle share their state; flush and close settle them.
  std::unordered_map<std::string, std::weak_ptr<Dataset>> datasets;
  // Files datasets read with pread, opened once per store (its own file,
  // and those external links lead to), by name; kept until the store
  // closes, so that opening, reading and dropping datasets one after
  // another does not open the file each time.
  std::unordered_map<std::string, std::shared_ptr<ReadOnlyFile>> data_files;

  // Error(invalid_argument) once the store is closed.
  void check_open(const std::string& node_path) const;
  // Error(invalid_argument) for a store opened read-only.
  void check_writable(const std::string& node_path) const;
};

using Context = std::shared_ptr<FileContext>;

// Attributes of the object `id` (a group or dataset of `context`'s file).
std::unique_ptr<Attributes> make_attributes(Context context, hid_t id, std::string path);

}  // namespace larder::store::hdf5
