// larder.Array, and the zero-copy crossings between larder::Array and numpy.
#include <fmt/format.h>

#include "bindings.h"
#include "larder/core/error.h"

namespace larder::python {
namespace {

std::vector<py::ssize_t> dims_of(const Shape& shape) {
  return {shape.begin(), shape.end()};
}

std::vector<py::ssize_t> strides_of(const Array& a) {
  const auto s = c_strides(a.shape(), a.dtype().item_size());
  return {s.begin(), s.end()};
}

// A numpy array over `a`'s memory whose base object is `owner`; read-only
// when `a` is (a view of a memory-mapped file).
py::array view_of(const Array& a, py::handle owner) {
  py::array view(to_numpy_dtype(a.dtype()), dims_of(a.shape()), strides_of(a), a.data(), owner);
  if (a.read_only()) view.attr("setflags")(py::arg("write") = false);
  return view;
}

}  // namespace

py::dtype to_numpy_dtype(const DType& dtype) {
  return py::dtype(dtype.numpy_str());
}

DType from_numpy_dtype(const py::dtype& dtype) {
  return DType::from_string(py::str(dtype.attr("str")).cast<std::string>());
}

py::array to_numpy(Array array) {
  // The capsule owns a share of the buffer: numpy keeps the memory alive.
  auto* share = new std::shared_ptr<std::byte>(array.buffer());
  py::capsule owner(share, [](void* p) { delete static_cast<std::shared_ptr<std::byte>*>(p); });
  return view_of(array, owner);
}

Array from_numpy(py::handle object) {
  py::array input = py::array::ensure(object);
  if (!input) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot make an array from a {}",
                            py::str(py::type::of(object).attr("__name__")).cast<std::string>()));
  }
  const DType dtype = from_numpy_dtype(input.dtype());
  if (!dtype.is_fixed_size()) {
    throw Error(ErrorCode::unsupported,
                "numpy object arrays have no flat layout; store strings as fixed-length 'S' bytes");
  }
  if (!(input.flags() & py::array::c_style)) {
    input = py::module_::import("numpy").attr("ascontiguousarray")(input);
  }
  std::vector<std::int64_t> dims(input.shape(), input.shape() + input.ndim());
  // The Array holds a reference to the numpy array; dropping it needs the GIL.
  PyObject* ref = input.inc_ref().ptr();
  std::shared_ptr<std::byte> data(static_cast<std::byte*>(const_cast<void*>(input.data())),
                                  [ref](std::byte*) {
                                    if (!Py_IsInitialized())
                                      return;  // interpreter gone: nothing left to release
                                    py::gil_scoped_acquire gil;
                                    Py_DECREF(ref);
                                  });
  return Array::adopt(dtype, Shape(std::move(dims)), std::move(data));
}

void bind_array(py::module_& m) {
  py::class_<Array>(m, "Array", R"(An N-D array owned by larder (C order, 64-byte aligned).

Array(data) wraps a C-contiguous numpy array without copying (other input
is copied into C order). numpy.asarray(array) is a view of larder's memory
that keeps it alive.)")
      .def(py::init([](py::handle data) { return from_numpy(data); }), py::arg("data"))
      .def_property_readonly("shape",
                             [](const Array& a) { return py::tuple(py::cast(dims_of(a.shape()))); })
      .def_property_readonly("dtype", [](const Array& a) { return to_numpy_dtype(a.dtype()); })
      .def_property_readonly("ndim", &Array::rank)
      .def_property_readonly("size", &Array::num_elements)
      .def_property_readonly("nbytes", &Array::nbytes)
      .def("__len__",
           [](const Array& a) {
             if (a.rank() == 0) throw py::type_error("len() of a 0-d larder.Array");
             return a.shape()[0];
           })
      .def(
          "__array__",
          [](py::object self, py::object dtype) -> py::object {
            py::array view = view_of(self.cast<const Array&>(), self);
            if (dtype.is_none()) return view;
            return view.attr("astype")(dtype);
          },
          py::arg("dtype") = py::none())
      .def("__getitem__",
           [](py::object self, py::object key) -> py::object {
             py::array view = view_of(self.cast<const Array&>(), self);
             return view[key];  // evaluated here, while `view` is alive
           })
      .def(
          "copy", [](const Array& a) { return a.clone(); }, "A copy with its own buffer.")
      .def("__repr__", [](const Array& a) {
        return fmt::format("larder.Array(shape={}, dtype={})", a.shape().to_string(),
                           a.dtype().name());
      });
}

}  // namespace larder::python
