// larder.read_npy, read_npz, read_csv: numpy's files and numeric CSV read by
// larder's own readers (the ones Data imports and the tree's loaders use),
// which never unpickle and check every size against the file.
#include "bindings.h"
#include "larder/store/csv.h"
#include "larder/store/npy.h"

namespace larder::python {

void bind_files(py::module_& m) {
  m.def(
      "read_npy",
      [](const std::string& path) {
        Array a = [&] {
          py::gil_scoped_release release;
          return store::read_npy(path);
        }();
        return to_numpy(std::move(a));
      },
      py::arg("path"),
      "Reads an .npy file (versions 1-3, C or Fortran order, either byte order) into a C-ordered, "
      "native-endian numpy array. Object arrays are refused, never unpickled.");
  m.def(
      "read_npz",
      [](const std::string& path) {
        auto members = [&] {
          py::gil_scoped_release release;
          return store::read_npz(path);
        }();
        py::dict out;
        for (auto& [name, a] : members)
          out[py::str(name)] = to_numpy(std::move(a));
        return out;
      },
      py::arg("path"),
      "Reads every member of an .npz (stored or deflated) into a dict of numpy arrays.");
  m.def(
      "read_csv",
      [](const std::string& path, char delimiter, bool header, bool text) {
        store::Table table = [&] {
          py::gil_scoped_release release;
          return store::read_csv(path, {.delimiter = delimiter, .header = header, .text = text});
        }();
        return table_to_python(std::move(table));
      },
      py::arg("path"), py::arg("delimiter") = ',', py::arg("header") = true,
      py::arg("text") = false,
      "Reads a CSV file into a dict of columns (bool, int64 or float64; empty cells NaN). A\n"
      "column that is not numeric is an error, or with text=True a numpy str array.");
}

py::dict table_to_python(store::Table table) {
  py::dict out;
  for (std::size_t i = 0; i < table.names.size(); ++i) {
    const bool text = table.columns[i].dtype().kind() == DTypeKind::string;
    py::object column = to_numpy(std::move(table.columns[i]));
    // Text columns hold UTF-8 bytes (S<n>): handed out as str (U<n>).
    if (text) column = py::module_::import("numpy").attr("char").attr("decode")(column, "utf-8");
    out[py::str(table.names[i])] = column;
  }
  return out;
}

}  // namespace larder::python
