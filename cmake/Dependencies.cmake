# Every third-party library larder builds against; all come from Debian's
# packages (scripts/install-deps). Nothing is vendored or downloaded.
find_package(PkgConfig REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(TBB CONFIG REQUIRED)
find_package(ZLIB REQUIRED)
pkg_check_modules(BLOSC REQUIRED IMPORTED_TARGET blosc)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(TIFF REQUIRED IMPORTED_TARGET libtiff-4)
pkg_check_modules(KISSFFT REQUIRED IMPORTED_TARGET kissfft-float)
find_package(CLI11 CONFIG REQUIRED)

if(LARDER_PYTHON)
  # Debian's interpreter: the one that has numpy, h5py and zarr.
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python the package is built for")
  find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
  find_package(pybind11 CONFIG REQUIRED)
endif()

if(LARDER_TESTS)
  find_package(GTest REQUIRED)
endif()

pkg_check_modules(HDF5 REQUIRED IMPORTED_TARGET hdf5-serial)
