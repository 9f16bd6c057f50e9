// Attributes of HDF5 groups and datasets, stored as h5py stores them.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "context.h"
#include "larder/core/error.h"
#include "types.h"

namespace larder::store::hdf5 {
namespace {

// Names of attributes whose string value is JSON text.
constexpr const char* kJsonList = "larder.json";

// The driver's own bookkeeping: not a user attribute, so never listed, read,
// written or copied.
bool is_private(std::string_view name) {
  return name == kJsonList;
}

void refuse_private(std::string_view name, const std::string& file, const std::string& path) {
  if (is_private(name)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("attribute '{}' is reserved for larder's HDF5 driver", name), file,
                path);
  }
}

class Hdf5Attributes final : public Attributes {
 public:
  Hdf5Attributes(Context context, hid_t id, std::string path)
      : context_(std::move(context)), id_(id), path_(std::move(path)) {}

  std::vector<std::string> names() const override {
    context_->check_open(path_);
    Hdf5Lock lock;
    std::vector<std::string> out;
    hsize_t index = 0;
    check(H5Aiterate2(
              id_, H5_INDEX_NAME, H5_ITER_INC, &index,
              [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
                if (!is_private(name)) {
                  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
                }
                return 0;
              },
              &out),
          "cannot list attributes", context_->name, path_);
    return out;
  }

  bool contains(std::string_view name) const override {
    context_->check_open(path_);
    Hdf5Lock lock;
    const std::string n(name);
    return !is_private(n) && H5Aexists(id_, n.c_str()) > 0;
  }

  AttributeValue get(std::string_view name) const override {
    context_->check_open(path_);
    Hdf5Lock lock;
    const std::string n(name);
    if (is_private(n) || H5Aexists(id_, n.c_str()) <= 0) {
      throw missing(name, context_->name, path_);
    }
    Handle attr = attribute_handle(check_id(H5Aopen(id_, n.c_str(), H5P_DEFAULT),
                                            fmt::format("cannot open attribute '{}'", n),
                                            context_->name, path_));
    Handle type = type_handle(H5Aget_type(attr.get()));
    Handle space = space_handle(H5Aget_space(attr.get()));
    const DType dtype = dtype_of(type.get(), context_->name, path_ + "@" + n);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    std::vector<std::int64_t> shape(dims.begin(), dims.end());

    if (dtype.kind() == DTypeKind::string || dtype.kind() == DTypeKind::vstring) {
      auto strings = read_strings(attr.get(), type.get(), space.get(), dtype);
      if (rank == 0) {
        std::string text = strings.empty() ? std::string() : strings[0];
        if (is_json(n)) return parse_json(n, text);
        return nlohmann::json(std::move(text));
      }
      return nlohmann::json(std::move(strings));
    }
    Array values = Array::empty(dtype.native(), Shape(shape));
    Handle memory = memory_type_for(dtype);
    check(H5Aread(attr.get(), memory.get(), values.data()),
          fmt::format("cannot read attribute '{}'", n), context_->name, path_);
    if (rank == 0 && dtype.kind() != DTypeKind::complex && dtype.item_size() != 2) {
      return scalar_json(values);
    }
    return values;
  }

  void set(std::string_view name, const nlohmann::json& value) override {
    Hdf5Lock lock;  // held from the removal to the write
    const std::string n = replace(name);
    if (value.is_boolean())
      return write_scalar(n, DType::boolean(), std::int8_t{value.get<bool>()});
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > INT64_MAX) {
      return write_scalar(n, DType::uint64(), value.get<std::uint64_t>());
    }
    if (value.is_number_integer())
      return write_scalar(n, DType::int64(), value.get<std::int64_t>());
    if (value.is_number_float()) return write_scalar(n, DType::float64(), value.get<double>());
    if (value.is_string()) return write_strings(n, {value.get<std::string>()}, true);
    if (value.is_array() && !value.empty()) {
      if (std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_string(); })) {
        return write_strings(n, value.get<std::vector<std::string>>(), false);
      }
      if (std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_number(); })) {
        const bool integers = std::all_of(value.begin(), value.end(),
                                          [](const auto& v) { return v.is_number_integer(); });
        if (integers) return write_vector(n, value.get<std::vector<std::int64_t>>());
        return write_vector(n, value.get<std::vector<double>>());
      }
    }
    // Objects, mixed or nested lists, null: JSON text, marked as such.
    write_strings(n, {value.dump()}, true);
    set_json_marker(n, true);
  }

  void set(std::string_view name, ArrayView value) override {
    Hdf5Lock lock;  // held from the removal to the write
    const std::string n = replace(name);
    const Array packed = Array::copy_of(value);
    std::vector<hsize_t> dims(packed.shape().begin(), packed.shape().end());
    Handle space = space_handle(
        dims.empty() ? H5Screate(H5S_SCALAR)
                     : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    Handle file_type = type_for(packed.dtype());
    Handle memory = type_for(packed.dtype());  // the bytes are as the dtype says
    Handle attr = attribute_handle(
        check_id(H5Acreate2(id_, n.c_str(), file_type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 fmt::format("cannot create attribute '{}'", n), context_->name, path_));
    check(H5Awrite(attr.get(), memory.get(), packed.data()),
          fmt::format("cannot write attribute '{}'", n), context_->name, path_);
  }

  void remove(std::string_view name) override {
    context_->check_writable(path_);
    const std::string n(name);
    refuse_private(n, context_->name, path_);
    Hdf5Lock lock;
    if (H5Aexists(id_, n.c_str()) <= 0) {
      throw Error(ErrorCode::not_found, fmt::format("no attribute '{}' to remove", name),
                  context_->name, path_);
    }
    remove_if_present(n);
    set_json_marker(n, false);
  }

 private:
  bool is_json(const std::string& name) const {
    if (H5Aexists(id_, kJsonList) <= 0) return false;
    const auto marked = read_marker();
    return marked.count(name) > 0;
  }

  std::set<std::string> read_marker() const {
    std::set<std::string> out;
    if (H5Aexists(id_, kJsonList) <= 0) return out;
    Handle attr = attribute_handle(H5Aopen(id_, kJsonList, H5P_DEFAULT));
    Handle type = type_handle(H5Aget_type(attr.get()));
    Handle space = space_handle(H5Aget_space(attr.get()));
    const DType dtype = dtype_of(type.get(), context_->name, path_);
    for (auto& s : read_strings(attr.get(), type.get(), space.get(), dtype))
      out.insert(s);
    return out;
  }

  void set_json_marker(const std::string& name, bool marked) {
    auto names = read_marker();
    const bool present = names.count(name) > 0;
    if (present == marked) return;
    if (marked) {
      names.insert(name);
    } else {
      names.erase(name);
    }
    remove_if_present(kJsonList);
    if (!names.empty()) write_strings(kJsonList, {names.begin(), names.end()}, false);
  }

  nlohmann::json parse_json(const std::string& name, const std::string& text) const {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw Error(
          ErrorCode::corrupt,
          fmt::format("attribute '{}' is marked as JSON but does not parse: {}", name, e.what()),
          context_->name, path_);
    }
  }

  std::vector<std::string> read_strings(hid_t attr, hid_t type, hid_t space,
                                        const DType& dtype) const {
    const auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
    std::vector<std::string> out;
    out.reserve(count);
    if (dtype.kind() == DTypeKind::vstring) {
      std::vector<char*> pointers(count, nullptr);
      Handle memory = type_handle(H5Tcopy(H5T_C_S1));
      H5Tset_size(memory.get(), H5T_VARIABLE);
      H5Tset_cset(memory.get(), H5Tget_cset(type));
      check(H5Aread(attr, memory.get(), pointers.data()), "cannot read string attribute",
            context_->name, path_);
      for (char* p : pointers)
        out.emplace_back(p == nullptr ? "" : p);
      H5Dvlen_reclaim(memory.get(), space, H5P_DEFAULT, pointers.data());
      return out;
    }
    const std::size_t width = dtype.item_size();
    std::vector<char> buffer(count * width);
    Handle memory = type_handle(H5Tcopy(type));
    check(H5Aread(attr, memory.get(), buffer.data()), "cannot read string attribute",
          context_->name, path_);
    for (std::size_t i = 0; i < count; ++i) {
      std::string s(buffer.data() + i * width, width);
      s.resize(std::min(s.find('\0'), s.size()));
      out.push_back(std::move(s));
    }
    return out;
  }

  static nlohmann::json scalar_json(const Array& value) {
    const std::byte* p = value.data();
    auto load = [p]<class T>(T) {
      T v;
      std::memcpy(&v, p, sizeof(T));
      return v;
    };
    const DType& d = value.dtype();
    switch (d.kind()) {
      case DTypeKind::boolean:
        return load(std::uint8_t{}) != 0;
      case DTypeKind::int_:
        if (d.item_size() == 1) return load(std::int8_t{});
        if (d.item_size() == 2) return load(std::int16_t{});
        if (d.item_size() == 4) return load(std::int32_t{});
        return load(std::int64_t{});
      case DTypeKind::uint:
        if (d.item_size() == 1) return load(std::uint8_t{});
        if (d.item_size() == 2) return load(std::uint16_t{});
        if (d.item_size() == 4) return load(std::uint32_t{});
        return load(std::uint64_t{});
      case DTypeKind::float_:
        return d.item_size() == 4 ? static_cast<double>(load(float{})) : load(double{});
      default:
        return nullptr;
    }
  }

  template <class T>
  void write_scalar(const std::string& name, const DType& dtype, T value) {
    Handle space = space_handle(H5Screate(H5S_SCALAR));
    Handle type = type_for(dtype);
    Handle attr = attribute_handle(
        check_id(H5Acreate2(id_, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 fmt::format("cannot create attribute '{}'", name), context_->name, path_));
    check(H5Awrite(attr.get(), type.get(), &value),
          fmt::format("cannot write attribute '{}'", name), context_->name, path_);
  }

  template <class T>
  void write_vector(const std::string& name, const std::vector<T>& values) {
    const hsize_t n = values.size();
    Handle space = space_handle(H5Screate_simple(1, &n, nullptr));
    Handle type = type_for(larder::dtype_of<T>());
    Handle attr = attribute_handle(
        check_id(H5Acreate2(id_, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 fmt::format("cannot create attribute '{}'", name), context_->name, path_));
    check(H5Awrite(attr.get(), type.get(), values.data()),
          fmt::format("cannot write attribute '{}'", name), context_->name, path_);
  }

  void write_strings(const std::string& name, const std::vector<std::string>& values, bool scalar) {
    const hsize_t n = values.size();
    Handle space = space_handle(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
    Handle type = type_for(DType::vstring());
    std::vector<const char*> pointers;
    for (const auto& v : values)
      pointers.push_back(v.c_str());
    Handle attr = attribute_handle(
        check_id(H5Acreate2(id_, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 fmt::format("cannot create attribute '{}'", name), context_->name, path_));
    check(H5Awrite(attr.get(), type.get(), pointers.data()),
          fmt::format("cannot write attribute '{}'", name), context_->name, path_);
  }

  // Before set() writes attribute `name`: checks it may be written and
  // removes what it held, JSON marker included.
  std::string replace(std::string_view name) {
    context_->check_writable(path_);
    const std::string n(name);
    refuse_private(n, context_->name, path_);
    Hdf5Lock lock;
    remove_if_present(n);
    set_json_marker(n, false);
    return n;
  }

  void remove_if_present(const std::string& name) {
    if (H5Aexists(id_, name.c_str()) > 0) {
      check(H5Adelete(id_, name.c_str()), fmt::format("cannot delete attribute '{}'", name),
            context_->name, path_);
    }
  }

  Context context_;
  hid_t id_;  // owned by the node these attributes belong to
  std::string path_;
};

}  // namespace

void FileContext::check_open(const std::string& node_path) const {
  if (!open) {
    throw Error(ErrorCode::invalid_argument, "the store is closed", name, node_path);
  }
}

void FileContext::check_writable(const std::string& node_path) const {
  check_open(node_path);
  if (!is_writable(mode)) {
    throw Error(ErrorCode::invalid_argument, "the store is open read-only (mode 'r')", name,
                node_path);
  }
}

std::unique_ptr<Attributes> make_attributes(Context context, hid_t id, std::string path) {
  return std::make_unique<Hdf5Attributes>(std::move(context), id, std::move(path));
}

}  // namespace larder::store::hdf5
