// The filter callbacks and their set_local companions. Decoding, the output
// size comes from the stored frame (Codec::decoded_size), or for lzf, whose
// stream has no header, from cd_values[2] as h5py's filter keeps it there.
// Encoding, an optional filter whose output would be larger than the chunk
// fails on purpose, as h5py's lzf and hdf5-blosc do (they encode into a
// buffer of the chunk's size): HDF5 then stores the chunk unfiltered and sets
// its filter-mask bit. Output of the chunk's size is kept, so a transform
// that keeps the size (bitshuffle without compression) always applies.
//
// The callbacks run inside libhdf5, which already holds its own lock, so they
// never take Hdf5Lock (another thread holding it may be waiting for libhdf5).
#include "filters.h"

#include <fmt/format.h>
#include <hdf5.h>

#include <algorithm>
#include <array>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "handle.h"
#include "larder/codec/codec.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"

namespace larder::store::hdf5 {
namespace {

using codec::Codec;
using codec::CodecRegistry;

constexpr H5Z_filter_t kLzf = 32000;
constexpr H5Z_filter_t kBlosc = 32001;
constexpr H5Z_filter_t kLz4 = 32004;
constexpr H5Z_filter_t kBitshuffle = 32008;
constexpr H5Z_filter_t kZstd = 32015;

// Enough for every filter here; set_local refuses longer lists.
constexpr std::size_t kMaxCdValues = 32;
// HDF5 1.10 chunks hold less than 4 GiB: a frame that declares more lies.
constexpr std::size_t kMaxChunkBytes = std::numeric_limits<std::uint32_t>::max();
// blosc shuffles items of at most this size; hdf5-blosc reads larger ones as 1.
constexpr std::size_t kBloscMaxTypesize = 255;

void push_error(const char* function, const char* message) noexcept {
  H5Epush2(H5E_DEFAULT, __FILE__, function, __LINE__, H5E_ERR_CLS, H5E_PLINE, H5E_CALLBACK, "%s",
           message);
}

struct Hdf5Free {
  void operator()(void* p) const noexcept { H5free_memory(p); }
};
using Hdf5Buffer = std::unique_ptr<void, Hdf5Free>;

// The pipeline frees what a filter returns with H5free_memory, so filter
// buffers come from H5allocate_memory.
Hdf5Buffer allocate(std::size_t n) {
  void* p = H5allocate_memory(std::max<std::size_t>(n, 1), false);
  if (p == nullptr) throw std::bad_alloc();
  return Hdf5Buffer(p);
}

// The codec for a filter's cd_values. HDF5 calls a filter once per chunk
// with the same cd_values, so each thread keeps the last codec per filter.
const Codec& codec_for(H5Z_filter_t id, std::span<const unsigned> cd_values) {
  struct Cached {
    H5Z_filter_t id;
    std::vector<unsigned> cd_values;
    std::unique_ptr<Codec> codec;
  };
  thread_local std::vector<Cached> cache;
  auto it = std::find_if(cache.begin(), cache.end(), [&](const Cached& c) { return c.id == id; });
  if (it != cache.end() && std::ranges::equal(it->cd_values, cd_values)) return *it->codec;
  auto codec = codec::make_codec(
      CodecRegistry::builtin().spec_from_hdf5(static_cast<unsigned>(id), cd_values));
  std::vector<unsigned> key(cd_values.begin(), cd_values.end());
  if (it == cache.end()) {
    cache.push_back({id, std::move(key), std::move(codec)});
    return *cache.back().codec;
  }
  it->cd_values = std::move(key);
  it->codec = std::move(codec);
  return *it->codec;
}

std::size_t decoded_size(H5Z_filter_t id, const Codec& codec, std::span<const unsigned> cd_values,
                         std::span<const std::byte> in) {
  std::optional<std::size_t> size = codec.decoded_size(in);
  if (!size && id == kLzf && cd_values.size() >= 3 && cd_values[2] != 0) size = cd_values[2];
  if (!size) {
    throw Error(ErrorCode::corrupt,
                fmt::format("{}: the {}-byte chunk does not say how large it decodes to",
                            codec.spec().id, in.size()));
  }
  if (*size > kMaxChunkBytes) {
    throw Error(ErrorCode::corrupt,
                fmt::format("{}: the {}-byte chunk declares {} decoded bytes, more than an HDF5 "
                            "chunk holds",
                            codec.spec().id, in.size(), *size));
  }
  return *size;
}

// The filter callback for every id. Returns the number of valid bytes in
// the new *buf, or 0 for failure with *buf and *buf_size untouched.
std::size_t run_filter(H5Z_filter_t id, unsigned flags, std::span<const unsigned> cd_values,
                       std::size_t nbytes, std::size_t* buf_size, void** buf) noexcept {
  try {
    const Codec& codec = codec_for(id, cd_values);
    const std::span<const std::byte> in(static_cast<const std::byte*>(*buf), nbytes);
    Hdf5Buffer out;
    std::size_t capacity = 0;
    std::size_t produced = 0;
    if ((flags & H5Z_FLAG_REVERSE) != 0) {
      produced = decoded_size(id, codec, cd_values, in);
      capacity = produced;
      out = allocate(capacity);
      codec.decode(in, {static_cast<std::byte*>(out.get()), produced});
    } else {
      capacity = codec.max_encoded_size(nbytes);
      out = allocate(capacity);
      produced = codec.encode_into(in, {static_cast<std::byte*>(out.get()), capacity});
      if ((flags & H5Z_FLAG_OPTIONAL) != 0 && produced > nbytes) return 0;
    }
    H5free_memory(*buf);
    *buf = out.release();
    *buf_size = std::max<std::size_t>(capacity, 1);
    return produced;
  } catch (const std::exception& e) {
    push_error("larder HDF5 filter", e.what());
  } catch (...) {
    push_error("larder HDF5 filter", "unknown exception");
  }
  return 0;
}

template <H5Z_filter_t Id>
std::size_t filter(unsigned flags, std::size_t cd_nelmts, const unsigned cd_values[],
                   std::size_t nbytes, std::size_t* buf_size, void** buf) noexcept {
  return run_filter(Id, flags, {cd_values, cd_nelmts}, nbytes, buf_size, buf);
}

// ---- set_local: fill in what only the dataset knows -------------------------

struct FilterSettings {
  unsigned flags = 0;
  std::vector<unsigned> cd_values;
};

FilterSettings settings_of(hid_t dcpl, H5Z_filter_t id) {
  FilterSettings s;
  std::array<unsigned, kMaxCdValues> values{};
  std::size_t count = values.size();
  if (H5Pget_filter_by_id2(dcpl, id, &s.flags, &count, values.data(), 0, nullptr, nullptr) < 0) {
    throw Error(ErrorCode::io, fmt::format("HDF5 filter {} is not in the dataset's pipeline", id));
  }
  if (count > values.size()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("HDF5 filter {} has {} cd_values; larder's filters take at most {}", id,
                            count, values.size()));
  }
  s.cd_values.assign(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(count));
  return s;
}

void store_settings(hid_t dcpl, H5Z_filter_t id, const FilterSettings& s) {
  if (H5Pmodify_filter(dcpl, id, s.flags, s.cd_values.size(), s.cd_values.data()) < 0) {
    throw Error(ErrorCode::io, fmt::format("cannot set the cd_values of HDF5 filter {}", id));
  }
}

std::size_t type_size(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  if (size == 0) throw Error(ErrorCode::invalid_argument, "the dataset's datatype has no size");
  return size;
}

// The size of one chunk in bytes, as cd_values can hold it.
unsigned chunk_bytes(hid_t dcpl, hid_t type) {
  std::array<hsize_t, H5S_MAX_RANK> dims{};
  const int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, dims.data());
  if (rank < 0) throw Error(ErrorCode::invalid_argument, "the dataset is not chunked");
  std::uint64_t bytes = type_size(type);
  for (int i = 0; i < rank; ++i) {
    bytes *= dims[static_cast<std::size_t>(i)];
    if (bytes > std::numeric_limits<unsigned>::max()) {
      throw Error(ErrorCode::invalid_argument,
                  "the dataset's chunks hold 4 GiB or more, beyond what cd_values record");
    }
  }
  return static_cast<unsigned>(bytes);
}

// The canonical cd_values of the codec that `cd_values` describe: checks
// every setting the way reading will, and fills in the defaults.
std::vector<unsigned> canonical(H5Z_filter_t id, std::span<const unsigned> cd_values,
                                unsigned chunk) {
  const auto codec = codec::make_codec(
      CodecRegistry::builtin().spec_from_hdf5(static_cast<unsigned>(id), cd_values));
  return codec->hdf5_filter(chunk).cd_values;
}

// hdf5-blosc's layout {2, 2, typesize, chunk bytes, level, shuffle, compcode}:
// as hdf5-blosc, the typesize is the dataset's (an array's element's) size.
void set_local_blosc(hid_t dcpl, hid_t type) {
  FilterSettings s = settings_of(dcpl, kBlosc);
  if (s.cd_values.size() < 4) s.cd_values.resize(4);
  std::size_t typesize = type_size(type);
  if (H5Tget_class(type) == H5T_ARRAY) {
    const Handle base(H5Tget_super(type), H5Tclose);
    if (!base) throw Error(ErrorCode::invalid_argument, "an array datatype has no element type");
    typesize = type_size(base.get());
  }
  s.cd_values[2] = static_cast<unsigned>(typesize <= kBloscMaxTypesize ? typesize : 1);
  s.cd_values[3] = chunk_bytes(dcpl, type);
  s.cd_values = canonical(kBlosc, s.cd_values, s.cd_values[3]);
  store_settings(dcpl, kBlosc, s);
}

// h5py's layout {4, 0x105, chunk bytes}; the chunk size is what decoding needs.
void set_local_lzf(hid_t dcpl, hid_t type) {
  FilterSettings s = settings_of(dcpl, kLzf);
  s.cd_values = canonical(kLzf, {}, chunk_bytes(dcpl, type));
  store_settings(dcpl, kLzf, s);
}

// bitshuffle's stored layout is {major, minor, element size, block, compression
// [, zstd level]}. Fewer than five values are the plugin's user form {block,
// compression[, level]}, which its set_local shifts behind the first three;
// five or more are the stored form larder's Codec::hdf5_filter gives, whose
// element size is kept (chunks are encoded with it) unless it is 0.
void set_local_bitshuffle(hid_t dcpl, hid_t type) {
  FilterSettings s = settings_of(dcpl, kBitshuffle);
  const auto element = static_cast<unsigned>(type_size(type));
  if (s.cd_values.size() < 5) {
    s.cd_values.insert(s.cd_values.begin(), {0u, 0u, element});
  } else if (s.cd_values[2] == 0) {
    s.cd_values[2] = element;
  }
  s.cd_values = canonical(kBitshuffle, s.cd_values, chunk_bytes(dcpl, type));
  store_settings(dcpl, kBitshuffle, s);
}

template <void (*SetLocal)(hid_t, hid_t)>
herr_t set_local(hid_t dcpl, hid_t type, hid_t) noexcept {
  try {
    SetLocal(dcpl, type);
    return 0;
  } catch (const std::exception& e) {
    push_error("larder HDF5 filter set_local", e.what());
  } catch (...) {
    push_error("larder HDF5 filter set_local", "unknown exception");
  }
  return -1;
}

H5Z_class2_t filter_class(H5Z_filter_t id, const char* name, H5Z_set_local_func_t local,
                          H5Z_func_t function) {
  return {.version = H5Z_CLASS_T_VERS,
          .id = id,
          .encoder_present = 1,
          .decoder_present = 1,
          .name = name,
          .can_apply = nullptr,
          .set_local = local,
          .filter = function};
}

}  // namespace

void register_filters() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::array classes{
        filter_class(kLzf, "lzf (larder)", set_local<set_local_lzf>, filter<kLzf>),
        filter_class(kBlosc, "blosc (larder)", set_local<set_local_blosc>, filter<kBlosc>),
        filter_class(kLz4, "lz4 (larder)", nullptr, filter<kLz4>),
        filter_class(kBitshuffle, "bitshuffle (larder)", set_local<set_local_bitshuffle>,
                     filter<kBitshuffle>),
        filter_class(kZstd, "zstd (larder)", nullptr, filter<kZstd>),
    };
    Hdf5Lock lock;
    for (const H5Z_class2_t& c : classes) {
      check(H5Zregister(&c),
            fmt::format("cannot register larder's HDF5 filter {} ({})", c.id, c.name));
    }
  });
}

}  // namespace larder::store::hdf5
