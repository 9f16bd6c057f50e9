// larder.copy(): groups and datasets from one store into another, whatever
// the drivers of the two (this is how a memory store is saved to a file).
#include <fmt/format.h>

#include "bindings.h"
#include "larder/store/copy.h"
#include "larder/store/store.h"

namespace larder::python {
namespace {

using store::Group;
using store::Store;

std::shared_ptr<Group> group_of(py::handle object, const char* role) {
  if (py::isinstance<Store>(object)) return object.cast<Store&>().root();
  if (py::isinstance<Group>(object)) return object.cast<std::shared_ptr<Group>>();
  throw py::type_error(
      fmt::format("the copy {} must be a larder.Store or larder.Group, not {}", role,
                  py::str(py::type::of(object).attr("__name__")).cast<std::string>()));
}

}  // namespace

void bind_copy(py::module_& m) {
  m.def(
      "copy",
      [](py::handle source, py::handle target, const std::string& source_path,
         py::object target_path, py::object codec, std::size_t block_bytes) {
        auto from = group_of(source, "source");
        auto to = group_of(target, "target");
        store::CopyOptions options{.block_bytes = block_bytes};
        if (!codec.is_none()) options.codec = spec_from_python(codec);
        const std::string into = target_path.is_none() ? from->open(source_path)->name()
                                                       : target_path.cast<std::string>();
        py::gil_scoped_release release;
        store::copy(*from, source_path, *to, into, options);
      },
      py::arg("source"), py::arg("target"), py::arg("source_path") = "",
      py::arg("target_path") = py::none(), py::arg("codec") = py::none(),
      py::arg("block_bytes") = std::size_t{64} << 20,
      R"(Copies a group or dataset, with everything below it, between stores of any drivers.

source and target are Stores or Groups; source_path is below source ("": the
source itself). target_path defaults to the copied node's own name; "" or "/"
puts a group's members and attributes into target itself (so copying a whole
store needs no paths). codec re-encodes every dataset ('zstd:3', a dict);
without it each keeps its own, or none where the target stores no compression.
Data moves in blocks of block_bytes; the GIL is released. A copy that fails
leaves nothing of itself behind.)");
}

}  // namespace larder::python
