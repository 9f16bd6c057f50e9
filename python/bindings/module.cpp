// The larder._larder extension module: the engine's concepts, bound one file each.
#include "bindings.h"
#include "larder/core/version.h"

PYBIND11_MODULE(_larder, m) {
  namespace lp = larder::python;
  m.doc() = "larder's C++ engine; import the `larder` package rather than this module";
  m.attr("__version__") = std::string(larder::version());
  lp::bind_errors(m);
  lp::bind_array(m);
  lp::bind_codec(m);
  lp::bind_store(m);
  lp::bind_ragged(m);
  lp::bind_copy(m);
  lp::bind_collection(m);
  lp::bind_loader(m);
  lp::bind_expr(m);
  lp::bind_trace(m);
  lp::bind_files(m);
  lp::bind_pspace(m);
  lp::bind_tree(m);
}
