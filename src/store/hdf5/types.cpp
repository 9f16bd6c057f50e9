#include "types.h"

#include <fmt/format.h>

#include <cstring>

#include "larder/core/error.h"

namespace larder::store::hdf5 {
namespace {

hid_t integer_type(const DType& d, bool big) {
  const bool is_signed = d.kind() == DTypeKind::int_;
  switch (d.item_size()) {
    case 1:
      return is_signed ? H5T_STD_I8LE : H5T_STD_U8LE;
    case 2:
      return is_signed ? (big ? H5T_STD_I16BE : H5T_STD_I16LE)
                       : (big ? H5T_STD_U16BE : H5T_STD_U16LE);
    case 4:
      return is_signed ? (big ? H5T_STD_I32BE : H5T_STD_I32LE)
                       : (big ? H5T_STD_U32BE : H5T_STD_U32LE);
    default:
      return is_signed ? (big ? H5T_STD_I64BE : H5T_STD_I64LE)
                       : (big ? H5T_STD_U64BE : H5T_STD_U64LE);
  }
}

Handle float_type(std::size_t size, bool big) {
  if (size == 2) {  // IEEE binary16, as h5py builds it
    Handle t = type_handle(H5Tcopy(big ? H5T_IEEE_F32BE : H5T_IEEE_F32LE));
    H5Tset_fields(t.get(), 15, 10, 5, 0, 10);
    H5Tset_size(t.get(), 2);
    H5Tset_ebias(t.get(), 15);
    return t;
  }
  return type_handle(H5Tcopy(size == 4 ? (big ? H5T_IEEE_F32BE : H5T_IEEE_F32LE)
                                       : (big ? H5T_IEEE_F64BE : H5T_IEEE_F64LE)));
}

Handle make_type(const DType& d, bool native) {
  const bool big = !native && d.byte_order() == ByteOrder::big;
  switch (d.kind()) {
    case DTypeKind::boolean: {
      Handle t = type_handle(H5Tenum_create(H5T_NATIVE_INT8));
      std::int8_t value = 0;
      H5Tenum_insert(t.get(), "FALSE", &value);
      value = 1;
      H5Tenum_insert(t.get(), "TRUE", &value);
      return t;
    }
    case DTypeKind::int_:
    case DTypeKind::uint:
      return type_handle(H5Tcopy(integer_type(d, big)));
    case DTypeKind::float_:
      return float_type(d.item_size(), big);
    case DTypeKind::complex: {
      const std::size_t half = d.item_size() / 2;
      Handle part = float_type(half, big);
      Handle t = type_handle(H5Tcreate(H5T_COMPOUND, d.item_size()));
      H5Tinsert(t.get(), "r", 0, part.get());
      H5Tinsert(t.get(), "i", half, part.get());
      return t;
    }
    case DTypeKind::string: {
      Handle t = type_handle(H5Tcopy(H5T_C_S1));
      H5Tset_size(t.get(), d.item_size());
      H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
      return t;
    }
    case DTypeKind::vstring: {
      Handle t = type_handle(H5Tcopy(H5T_C_S1));
      H5Tset_size(t.get(), H5T_VARIABLE);
      H5Tset_cset(t.get(), H5T_CSET_UTF8);
      return t;
    }
  }
  throw Error(ErrorCode::unsupported, fmt::format("no HDF5 type for dtype {}", d.name()));
}

bool is_h5py_bool(hid_t type) {
  if (H5Tget_nmembers(type) != 2) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    if (name == nullptr) return false;
    std::int8_t value = -1;
    H5Tget_member_value(type, i, &value);
    const bool ok = (std::strcmp(name, "FALSE") == 0 && value == 0) ||
                    (std::strcmp(name, "TRUE") == 0 && value == 1);
    H5free_memory(name);
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Handle type_for(const DType& dtype) {
  Hdf5Lock lock;
  return make_type(dtype, false);
}

Handle memory_type_for(const DType& dtype) {
  Hdf5Lock lock;
  return make_type(dtype.native(), true);
}

DType dtype_of(hid_t type, const std::string& file, const std::string& path) {
  Hdf5Lock lock;
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  const bool big = H5Tget_order(type) == H5T_ORDER_BE;
  auto with_order = [big](DType d) { return big ? d.big_endian() : d; };
  switch (cls) {
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      const std::string code = fmt::format("{}{}", is_signed ? 'i' : 'u', size);
      return with_order(DType::from_string(code));
    }
    case H5T_FLOAT:
      if (size == 2 || size == 4 || size == 8) {
        return with_order(DType::from_string(fmt::format("f{}", size)));
      }
      break;
    case H5T_ENUM: {
      if (is_h5py_bool(type)) return DType::boolean();
      Handle base = type_handle(H5Tget_super(type));
      return dtype_of(base.get(), file, path);
    }
    case H5T_COMPOUND: {
      if (H5Tget_nmembers(type) == 2 && H5Tget_member_class(type, 0) == H5T_FLOAT &&
          H5Tget_member_class(type, 1) == H5T_FLOAT) {
        Handle r = type_handle(H5Tget_member_type(type, 0));
        Handle i = type_handle(H5Tget_member_type(type, 1));
        if (H5Tequal(r.get(), i.get()) > 0 && H5Tget_member_offset(type, 1) == size / 2 &&
            (size == 8 || size == 16)) {
          return with_order(DType::from_string(fmt::format("c{}", size)));
        }
      }
      break;
    }
    case H5T_STRING:
      if (H5Tis_variable_str(type) > 0) return DType::vstring();
      return DType::string(size);
    default:
      break;
  }
  throw Error(ErrorCode::unsupported,
              fmt::format("HDF5 datatype of class {} and {} bytes has no larder dtype",
                          static_cast<int>(cls), size),
              file, path);
}

}  // namespace larder::store::hdf5
