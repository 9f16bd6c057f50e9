// The HDF5 driver's internal entry points, shared by its source files.
#pragma once

#include <filesystem>
#include <memory>

#include "context.h"
#include "larder/store/store.h"

namespace larder::store::hdf5 {

std::unique_ptr<Store> open_store(const std::filesystem::path& path, OpenMode mode,
                                  const StoreOptions& options);

std::shared_ptr<Group> make_group(Context context, Handle id, std::string path);
std::shared_ptr<Dataset> make_dataset(Context context, Handle id, std::string path);
// With `data`, written before the one flush that commits the new dataset.
std::shared_ptr<Dataset> create_dataset(Context context, hid_t parent, const std::string& name,
                                        std::string path, const DatasetOptions& options,
                                        const ArrayView* data = nullptr);
// Before `path` (a dataset or a group) is removed: open datasets there stop
// using their side data, which goes too.
void remove_dataset_side_data(const Context& context, const std::string& path);
// Completes libhdf5's view of every open dataset's appends (before a flush or close).
void settle_datasets(const Context& context);

// Opens and walks `path` in a child process; Error(corrupt) naming the file
// if the HDF5 library crashes, hangs or fails on it.
void verify_in_child(const std::filesystem::path& path, const StoreOptions& options);

}  // namespace larder::store::hdf5
