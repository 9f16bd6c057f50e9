// larder::Error -> larder.errors.* : the one place C++ errors become Python ones.
#include <array>

#include "bindings.h"
#include "larder/core/error.h"

namespace larder::python {
namespace {

constexpr std::size_t kCodes = 7;  // ErrorCode values, in declaration order

// The Python classes, looked up once. Deliberately leaked references: they
// must outlive every call, and destroying them after the interpreter is gone
// would crash at exit.
std::array<PyObject*, kCodes>& classes() {
  static std::array<PyObject*, kCodes> table{};
  return table;
}

void raise(const Error& e) {
  const auto index = static_cast<std::size_t>(e.code());
  PyObject* cls = index < kCodes ? classes()[index] : PyExc_RuntimeError;
  py::object instance;
  try {
    instance = py::handle(cls)(e.message(), py::arg("file") = e.file(), py::arg("path") = e.path());
  } catch (py::error_already_set& failure) {
    failure.restore();
    return;
  }
  PyErr_SetObject(cls, instance.ptr());
}

}  // namespace

void bind_errors(py::module_& m) {
  py::tuple by_code = py::module_::import("larder.errors").attr("BY_CODE");
  if (by_code.size() != kCodes) {
    throw std::runtime_error("larder.errors.BY_CODE does not match larder::ErrorCode");
  }
  for (std::size_t i = 0; i < kCodes; ++i)
    classes()[i] = py::object(by_code[i]).release().ptr();

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      raise(e);
    }
  });

  // Raises the error a code names: lets the Python tests check the mapping.
  m.def("_raise",
        [](int code, const std::string& message, const std::string& file, const std::string& path) {
          throw Error(static_cast<ErrorCode>(code), message, file, path);
        });
}

}  // namespace larder::python
