// larder.Codec and larder.codecs(): the codec registry from Python.
#include <fmt/format.h>

#include "bindings.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"

namespace larder::python {
namespace {

using codec::Codec;
using codec::CodecRegistry;
using codec::CodecSpec;

// Read-only bytes of any buffer-protocol object; the Python object must
// outlive the span (callers keep the py::buffer_info alive).
std::span<const std::byte> bytes_of(const py::buffer_info& info) {
  if (info.ndim > 1 && info.strides.back() != info.itemsize) {
    throw Error(ErrorCode::invalid_argument, "encode needs a contiguous buffer");
  }
  return {static_cast<const std::byte*>(info.ptr),
          static_cast<std::size_t>(info.size * info.itemsize)};
}

py::buffer_info request_contiguous(py::buffer& buffer) {
  py::buffer_info info = buffer.request();
  // Non-contiguous numpy input: hand numpy the copy it would make anyway.
  if (!PyBuffer_IsContiguous(info.view(), 'C')) {
    buffer = py::module_::import("numpy").attr("ascontiguousarray")(buffer);
    info = buffer.request();
  }
  return info;
}

py::object make_codec_object(const CodecSpec& spec) {
  return py::cast(std::shared_ptr<Codec>(codec::make_codec(spec)));
}

}  // namespace

CodecSpec spec_from_python(py::handle spec) {
  if (py::isinstance<py::str>(spec)) return CodecSpec::parse(spec.cast<std::string>());
  return CodecSpec::from_json(to_json(spec));
}

py::object to_python(const nlohmann::json& json) {
  return json_to_python(json, [](const nlohmann::json&) { return py::object(); });
}

// As json.dumps takes them (dicts, lists, tuples, str, int, float, bool,
// None; int keys become text), plus complex numbers as larder's [real,
// imag], numpy scalars as their Python values and bytes as a string of
// those bytes.
nlohmann::json to_json(py::handle object) {
  static const py::object complex_type = py::module_::import("builtins").attr("complex");
  static const py::object numpy_generic = py::module_::import("numpy").attr("generic");
  if (object.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(object)) return object.cast<bool>();
  if (py::isinstance<py::int_>(object)) return int_to_json<nlohmann::json>(object);
  if (py::isinstance<py::float_>(object)) return object.cast<double>();
  if (py::isinstance<py::str>(object)) return object.cast<std::string>();
  if (py::isinstance<py::bytes>(object)) return object.cast<std::string>();  // S fill values
  if (py::isinstance(object, complex_type))
    return nlohmann::json::array(
        {object.attr("real").cast<double>(), object.attr("imag").cast<double>()});
  if (py::isinstance(object, numpy_generic)) return to_json(object.attr("item")());
  if (py::isinstance<py::dict>(object)) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(object)) {
      std::string name;
      if (py::isinstance<py::str>(key)) {
        name = key.cast<std::string>();
      } else if (py::isinstance<py::int_>(key) && !py::isinstance<py::bool_>(key)) {
        name = py::str(key).cast<std::string>();
      } else {
        throw py::type_error("keys must be str or int, not " +
                             py::str(py::type::of(key).attr("__name__")).cast<std::string>());
      }
      out[name] = to_json(value);
    }
    return out;
  }
  if (py::isinstance<py::list>(object) || py::isinstance<py::tuple>(object)) {
    nlohmann::json out = nlohmann::json::array();
    for (py::handle item : object)
      out.push_back(to_json(item));
    return out;
  }
  throw py::type_error("Object of type " +
                       py::str(py::type::of(object).attr("__name__")).cast<std::string>() +
                       " is not JSON serializable");
}

void bind_codec(py::module_& m) {
  py::class_<Codec, std::shared_ptr<Codec>>(m, "Codec", R"(A chunk codec from larder's registry.

Codec("blosc-lz4", level=5, shuffle="byte", typesize=4) or Codec.from_spec(
"zstd:3") / Codec.from_spec({"id": "zstd", "level": 3}). encode() and
decode() release the GIL; one Codec may serve many threads.)")
      .def(py::init([](const std::string& id, int level, const std::string& shuffle, int typesize,
                       std::size_t block_size, const std::string& format) {
             nlohmann::json j = {{"id", id},
                                 {"level", level},
                                 {"shuffle", shuffle},
                                 {"typesize", typesize},
                                 {"block_size", block_size},
                                 {"format", format}};
             return std::shared_ptr<Codec>(codec::make_codec(CodecSpec::from_json(j)));
           }),
           py::arg("id"), py::arg("level") = -1, py::arg("shuffle") = "byte",
           py::arg("typesize") = 1, py::arg("block_size") = 0, py::arg("format") = "")
      .def_static(
          "from_spec", [](py::handle spec) { return make_codec_object(spec_from_python(spec)); },
          py::arg("spec"), "A codec from its spec: a dict, JSON text or 'id[:level[:shuffle]]'.")
      .def_static(
          "from_numcodecs",
          [](py::handle config, int typesize) {
            const nlohmann::json j = config.is_none() ? nlohmann::json() : to_json(config);
            return make_codec_object(CodecRegistry::builtin().spec_from_numcodecs(j, typesize));
          },
          py::arg("config"), py::arg("typesize") = 1,
          "The codec that reads chunks written with a numcodecs compressor config.")
      .def_static(
          "from_hdf5",
          [](unsigned filter_id, std::vector<unsigned> cd_values) {
            return make_codec_object(CodecRegistry::builtin().spec_from_hdf5(filter_id, cd_values));
          },
          py::arg("filter_id"), py::arg("cd_values") = std::vector<unsigned>{},
          "The codec that reads chunks stored under an HDF5 filter.")
      .def_property_readonly("id", [](const Codec& c) { return c.spec().id; })
      .def_property_readonly("spec", [](const Codec& c) { return to_python(c.spec().to_json()); })
      .def(
          "encode",
          [](const Codec& c, py::buffer data) {
            py::buffer_info info = request_contiguous(data);
            const auto in = bytes_of(info);
            std::vector<std::byte> out(c.max_encoded_size(in.size()));
            std::size_t n;
            {
              py::gil_scoped_release release;
              n = c.encode_into(in, out);
            }
            return py::bytes(reinterpret_cast<const char*>(out.data()), n);
          },
          py::arg("data"), "Encodes one chunk; returns bytes.")
      .def(
          "decode",
          [](const Codec& c, py::buffer data, py::object size, py::object dtype, py::object shape) {
            py::buffer_info info = request_contiguous(data);
            const auto in = bytes_of(info);
            DType element =
                dtype.is_none() ? DType::uint8() : from_numpy_dtype(py::dtype::from_args(dtype));
            std::optional<std::size_t> nbytes;
            if (!size.is_none()) nbytes = size.cast<std::size_t>();
            if (!shape.is_none()) {
              const Shape s(shape.cast<std::vector<std::int64_t>>());
              nbytes = static_cast<std::size_t>(s.num_elements()) * element.item_size();
            }
            if (!nbytes) nbytes = c.decoded_size(in);
            if (!nbytes) {
              throw Error(
                  ErrorCode::invalid_argument,
                  fmt::format("{} chunks do not record their decoded size: pass size= or shape=",
                              c.spec().id));
            }
            if (*nbytes % element.item_size() != 0) {
              throw Error(ErrorCode::invalid_argument,
                          fmt::format("{} decoded bytes are not a whole number of {} elements",
                                      *nbytes, element.name()));
            }
            Shape result = shape.is_none()
                               ? Shape{static_cast<std::int64_t>(*nbytes / element.item_size())}
                               : Shape(shape.cast<std::vector<std::int64_t>>());
            Array out = Array::empty(element, std::move(result));
            {
              py::gil_scoped_release release;
              c.decode(in, out.bytes());
            }
            return to_numpy(std::move(out));
          },
          py::arg("data"), py::arg("size") = py::none(), py::arg("dtype") = py::none(),
          py::arg("shape") = py::none(),
          "Decodes one chunk into a new numpy array (uint8 unless dtype/shape are given).")
      .def(
          "hdf5_filter",
          [](const Codec& c, std::size_t chunk_bytes) {
            const auto f = c.hdf5_filter(chunk_bytes);
            return py::make_tuple(f.id, f.name, py::tuple(py::cast(f.cd_values)));
          },
          py::arg("chunk_bytes") = 0,
          "(filter id, name, cd_values) of the HDF5 filter that reads these chunks.")
      .def(
          "numcodecs_config", [](const Codec& c) { return to_python(c.numcodecs_config()); },
          "The numcodecs compressor config (zarr's 'compressor') that reads these chunks.")
      .def("__repr__",
           [](const Codec& c) { return fmt::format("larder.Codec('{}')", c.spec().to_string()); });

  m.def(
      "codecs",
      []() {
        py::list out;
        for (const auto& info : CodecRegistry::builtin().list()) {
          py::dict d;
          d["id"] = info.id;
          d["description"] = info.description;
          d["hdf5_filter"] = info.hdf5_filter_id;
          d["numcodecs"] = info.numcodecs_id;
          out.append(d);
        }
        return out;
      },
      "The codecs larder knows: id, description, HDF5 filter id, numcodecs id.");

  m.def(
      "xxh3_64",
      [](py::buffer data) {
        py::buffer_info info = request_contiguous(data);
        return xxh3_64(bytes_of(info));
      },
      py::arg("data"), "xxh3 64-bit hash of a buffer's bytes.");
  m.def(
      "xxh3_128",
      [](py::buffer data) {
        py::buffer_info info = request_contiguous(data);
        return xxh3_128(bytes_of(info)).hex();
      },
      py::arg("data"), "xxh3 128-bit hash of a buffer's bytes, as 32 hex digits.");
}

}  // namespace larder::python
