// The factories of larder's own codecs, and the few facts about their
// formats that both a codec and the registry's reverse mappings
// (spec_from_hdf5, spec_from_numcodecs) need. Private to src/codec/.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include <zstd.h>

#include "larder/codec/codec.h"

namespace larder::codec::detail {

// Registered HDF5 filter ids.
inline constexpr unsigned kHdf5Deflate = 1;
inline constexpr unsigned kHdf5Lzf = 32000;
inline constexpr unsigned kHdf5Blosc = 32001;
inline constexpr unsigned kHdf5Lz4 = 32004;
inline constexpr unsigned kHdf5Bitshuffle = 32008;
inline constexpr unsigned kHdf5Zstd = 32015;

// h5py's lzf filter: cd_values {filter revision, LZF_VERSION of liblzf 1.5,
// chunk bytes}, as h5py 3.x writes them.
inline constexpr unsigned kLzfFilterRevision = 4;
inline constexpr unsigned kLzfLibraryVersion = 0x105;

// The bitshuffle filter: cd_values {major, minor, element size, block size
// in elements (0: the default), compression[, zstd level]}; the version
// pair is the bitshuffle release whose format larder writes.
inline constexpr unsigned kBitshuffleMajor = 0;
inline constexpr unsigned kBitshuffleMinor = 4;
inline constexpr unsigned kBitshuffleNoCompression = 0;
inline constexpr unsigned kBitshuffleLz4 = 2;
inline constexpr unsigned kBitshuffleZstd = 3;

// One blosc inner compressor: larder's codec id, blosc's name for it, and
// the compcode hdf5-blosc stores in cd_values[6].
struct BloscCompressor {
  std::string_view codec_id;
  std::string_view cname;
  unsigned compcode;
};

inline constexpr std::array<BloscCompressor, 5> kBloscCompressors{{
    {"blosc-blosclz", "blosclz", 0},
    {"blosc-lz4", "lz4", 1},
    {"blosc-lz4hc", "lz4hc", 2},
    {"blosc-zlib", "zlib", 4},
    {"blosc-zstd", "zstd", 5},
}};

inline constexpr int kBloscDefaultLevel = 5;
inline constexpr int kZstdDefaultLevel = 3;
inline constexpr int kLz4DefaultAcceleration = 1;
inline constexpr std::size_t kLz4DefaultBlockSize = std::size_t{1} << 30;
inline constexpr int kGzipDefaultLevel = 6;

// Each factory checks the settings it uses, gives the codec a spec with
// every default filled in and every unused setting reset, and throws
// Error(invalid_argument) naming the field and the value it rejects.
std::unique_ptr<Codec> make_blosc_codec(const CodecSpec& spec);
std::unique_ptr<Codec> make_zstd_codec(const CodecSpec& spec);

// The calling thread's zstd contexts (zstd and bitshuffle's zstd blocks).
ZSTD_CCtx* thread_cctx();
ZSTD_DCtx* thread_dctx();
std::unique_ptr<Codec> make_lz4_codec(const CodecSpec& spec);
std::unique_ptr<Codec> make_gzip_codec(const CodecSpec& spec);
std::unique_ptr<Codec> make_lzf_codec(const CodecSpec& spec);
std::unique_ptr<Codec> make_bitshuffle_codec(const CodecSpec& spec);
std::unique_ptr<Codec> make_none_codec(const CodecSpec& spec);

// Throws Error(invalid_argument) unless out can hold max_encoded_size bytes.
void check_encode_capacity(const Codec& codec, std::size_t in_size, std::span<std::byte> out);

}  // namespace larder::codec::detail
