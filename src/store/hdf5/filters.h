// larder's own implementations of the HDF5 filters its codecs write and read
// — lzf 32000, blosc 32001, lz4 32004, bitshuffle 32008, zstd 32015 — so
// H5Dread / H5Dwrite run them without an HDF5 plugin path.
//
// Each filter is a thin C callback over the codec layer: the codec comes from
// the filter's cd_values (CodecRegistry::spec_from_hdf5), so the bytes are
// the codecs' bytes, the ones larder also writes with direct chunk I/O.
// register_filters() is idempotent and thread-safe; it replaces whatever was
// registered under these ids before (a plugin h5py loaded, say), so from then
// on larder's implementation serves them in this process. No exception leaves
// a filter callback: a failure goes onto HDF5's error stack and HDF5 sees a
// failed filter.
#pragma once

namespace larder::store::hdf5 {

// Throws Error(io) when libhdf5 refuses a registration (then a later call
// tries again).
void register_filters();

}  // namespace larder::store::hdf5
