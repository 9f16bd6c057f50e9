// Data — the input store of a trace: data_XXXX.h5 in a working folder, a
// plain HDF5 file (h5py opens it) of named arrays and tables imported from
// RAM or from files, with a default dataset for slicing.
//
// Data::create draws a fresh four-digit code that no data_XXXX.h5 or
// trace_XXXX in the folder holds and claims the file exclusively. The
// object owns the open file; one thread at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/array.h"
#include "larder/core/selection.h"
#include "larder/store/csv.h"
#include "larder/store/dataset.h"
#include "larder/store/group.h"
#include "larder/store/table.h"
#include "larder/trace/tiff.h"

namespace larder::store {
class Store;
}

namespace larder::trace {

struct DataEntry {
  std::string name;
  std::string kind;                // "array" or "table"
  DType dtype = DType::float64();  // arrays; unused for tables
  Shape shape;                     // (rows, columns) for a table
};

class Data {
 public:
  static std::unique_ptr<Data> create(const std::filesystem::path& working_folder);
  // Error(not_found) naming the file when the folder has no data_<code>.h5.
  static std::unique_ptr<Data> link(const std::filesystem::path& working_folder,
                                    std::string_view code);
  ~Data();
  Data(const Data&) = delete;
  Data& operator=(const Data&) = delete;

  const std::filesystem::path& file() const;
  const std::string& code() const;

  // Imports; each replaces a dataset of the same name. Names are
  // identifiers (see check_variable_name).
  void from_array(std::string_view name, ArrayView values);
  // Named numeric columns, stored as a table (docs/formats/table.md).
  void from_table(std::string_view name, const store::Table& table);
  // An .npy file (numpy's own format, any numeric or bool dtype).
  void load_npy(std::string_view name, const std::filesystem::path& file);
  // Every member of an .npz, each as an array named prefix + member name;
  // returns the names. Error(invalid_argument) naming a member whose name
  // is no identifier, before anything is written.
  std::vector<std::string> load_npz(const std::filesystem::path& file,
                                    std::string_view prefix = "");
  // A numeric CSV file as a table.
  void load_csv(std::string_view name, const std::filesystem::path& file,
                const store::CsvOptions& options = {});
  // A TIFF stack — a multi-page file, or a folder of slices in natural
  // order — as a (Z, Y, X) array written slice by slice (trace/tiff.h);
  // returns the files read, in order.
  std::vector<std::filesystem::path> load_tiff(std::string_view name,
                                               const std::filesystem::path& file_or_folder,
                                               const TiffOptions& options = {});
  // A JSON file: a list of numbers or nested lists (rectangular) -> array
  // (bool, int64 when every value is an integer, else float64); an object
  // of equal-length lists of numbers -> a table with those columns.
  void load_json(std::string_view name, const std::filesystem::path& file);

  // The dataset d[...] reads; Error(not_found) listing the names.
  void use(std::string_view name);
  const std::string& used() const;  // "" until use()
  // A selection of the dataset in use; Error(invalid_argument) when none is.
  Array read(const Selection& selection = {});
  // An array; Error(type_mismatch) for a table.
  std::shared_ptr<store::Dataset> dataset(std::string_view name);
  store::Table table(std::string_view name);
  bool contains(std::string_view name);
  std::vector<DataEntry> info();
  store::Group& root();
  // Closes the file; later calls raise Error(invalid_argument).
  void close();

 private:
  Data() = default;
  // Error(not_found) listing the names when `name` is missing.
  store::NodeKind dataset_or_table(std::string_view name);
  std::filesystem::path file_;
  std::string code_;
  std::string used_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace larder::trace
