// DType <-> HDF5 datatypes, with h5py's conventions so either side reads
// the other's files: bool is an int8 enum {FALSE, TRUE}, complex a compound
// {r, i}, float16 an IEEE half built from float fields, "S<n>" a NULL-padded
// fixed string, vstring a variable-length UTF-8 string.
#pragma once

#include "handle.h"
#include "larder/core/dtype.h"

namespace larder::store::hdf5 {

// The datatype larder writes for `dtype` (little-endian unless it says big).
Handle type_for(const DType& dtype);
// The in-memory (native) datatype reads and writes convert through.
Handle memory_type_for(const DType& dtype);
// The DType of a stored datatype; Error(unsupported) naming the file, the
// path and the HDF5 class for the ones larder does not read.
DType dtype_of(hid_t type, const std::string& file, const std::string& path);

}  // namespace larder::store::hdf5
