#include "larder/codec/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "builtin_codecs.h"
#include "larder/core/error.h"

namespace larder::codec {
namespace {

using nlohmann::json;

// Names of other registered HDF5 filters, for messages about them.
std::string_view hdf5_filter_name(unsigned id) {
  switch (id) {
    case 2:
      return "shuffle";
    case 3:
      return "fletcher32";
    case 4:
      return "szip";
    case 5:
      return "nbit";
    case 6:
      return "scaleoffset";
    case 307:
      return "bzip2";
    case 32017:
      return "sz";
    case 32026:
      return "blosc2";
    default:
      return "unknown";
  }
}

CodecRegistry make_builtin() {
  CodecRegistry r;
  for (const auto& c : detail::kBloscCompressors) {
    r.add({.id = std::string(c.codec_id),
           .description =
               fmt::format("blosc frame: byte/bit shuffle, then {} (c-blosc 1.x)", c.cname),
           .hdf5_filter_id = detail::kHdf5Blosc,
           .numcodecs_id = "blosc"},
          detail::make_blosc_codec);
  }
  r.add({.id = "zstd",
         .description = "one zstd frame",
         .hdf5_filter_id = detail::kHdf5Zstd,
         .numcodecs_id = "zstd"},
        detail::make_zstd_codec);
  r.add({.id = "lz4",
         .description = "LZ4 blocks, framed as HDF5's lz4 filter (default) or numcodecs' LZ4",
         .hdf5_filter_id = detail::kHdf5Lz4,
         .numcodecs_id = "lz4"},
        detail::make_lz4_codec);
  r.add({.id = "gzip",
         .description = "DEFLATE with a zlib wrapper (HDF5 deflate, default) or a gzip one",
         .hdf5_filter_id = detail::kHdf5Deflate,
         .numcodecs_id = "zlib"},
        detail::make_gzip_codec);
  r.add({.id = "lzf",
         .description = "an LZF stream, as h5py's lzf filter stores it (HDF5 only)",
         .hdf5_filter_id = detail::kHdf5Lzf,
         .numcodecs_id = ""},
        detail::make_lzf_codec);
  r.add({.id = "bitshuffle",
         .description =
             "bit transpose per block, then LZ4 or zstd: the bitshuffle filter (HDF5 only)",
         .hdf5_filter_id = detail::kHdf5Bitshuffle,
         .numcodecs_id = ""},
        detail::make_bitshuffle_codec);
  r.add({.id = "none",
         .description = "bytes stored as they are",
         .hdf5_filter_id = 0,
         .numcodecs_id = ""},
        detail::make_none_codec);
  return r;
}

// Reads an optional integer setting of a numcodecs config.
int config_int(const json& config, const char* key, int fallback) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    if (v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max()) {
      return static_cast<int>(v);
    }
  }
  throw Error(ErrorCode::invalid_argument,
              fmt::format("numcodecs config {}: '{}' is {}, not an integer that larder takes",
                          config.dump(), key, it->dump()));
}

}  // namespace

const CodecRegistry& CodecRegistry::builtin() {
  static const CodecRegistry registry = make_builtin();
  return registry;
}

void CodecRegistry::add(CodecInfo info, CodecFactory factory) {
  if (info.id.empty()) throw Error(ErrorCode::invalid_argument, "a codec id must not be empty");
  if (!factory) {
    throw Error(ErrorCode::invalid_argument, fmt::format("codec '{}' has no factory", info.id));
  }
  if (entries_.contains(info.id)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("codec id '{}' is already registered", info.id));
  }
  std::string id = info.id;
  entries_.emplace(std::move(id), Entry{std::move(info), std::move(factory)});
}

std::unique_ptr<Codec> CodecRegistry::make(const CodecSpec& spec) const {
  const auto it = entries_.find(spec.id);
  if (it == entries_.end()) {
    std::vector<std::string_view> ids;
    for (const auto& [id, entry] : entries_)
      ids.push_back(id);
    throw Error(ErrorCode::not_found,
                fmt::format("unknown codec '{}'; known codecs: {}", spec.id, fmt::join(ids, ", ")));
  }
  return it->second.factory(spec);
}

bool CodecRegistry::contains(std::string_view id) const {
  return entries_.contains(id);
}

std::vector<CodecInfo> CodecRegistry::list() const {
  std::vector<CodecInfo> infos;
  infos.reserve(entries_.size());
  for (const auto& [id, entry] : entries_)
    infos.push_back(entry.info);
  return infos;
}

CodecSpec CodecRegistry::spec_from_hdf5(unsigned filter_id,
                                        std::span<const unsigned> cd_values) const {
  const auto cd = [&](std::size_t i, unsigned fallback) {
    return i < cd_values.size() ? cd_values[i] : fallback;
  };
  CodecSpec spec;
  switch (filter_id) {
    case 0:
      spec.id = "none";
      break;
    case detail::kHdf5Deflate:
      spec = {.id = "gzip",
              .level = static_cast<int>(cd(0, detail::kGzipDefaultLevel)),
              .format = "zlib"};
      break;
    case detail::kHdf5Zstd:
      // The filter reads cd_values[0] as a C int: negative levels wrap.
      spec = {.id = "zstd", .level = static_cast<int>(cd(0, detail::kZstdDefaultLevel))};
      break;
    case detail::kHdf5Lz4:
      spec = {.id = "lz4", .block_size = cd(0, 0), .format = "hdf5"};
      break;
    case detail::kHdf5Blosc: {
      // hdf5-blosc: {revision, blosc format, typesize, chunk bytes, clevel,
      // shuffle, compcode}; a short list means the filter's defaults.
      const unsigned compcode = cd(6, 0);
      const detail::BloscCompressor* compressor = nullptr;
      for (const auto& c : detail::kBloscCompressors) {
        if (c.compcode == compcode) compressor = &c;
      }
      if (compressor == nullptr) {
        throw Error(ErrorCode::unsupported,
                    fmt::format("HDF5 blosc filter (32001) compressor code {}{} is not one larder "
                                "reads",
                                compcode, compcode == 3 ? " (snappy)" : ""));
      }
      const unsigned shuffle = cd(5, 1);
      if (shuffle > 2) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("HDF5 blosc filter (32001) cd_values [{}]: shuffle {} is not 0, "
                                "1 or 2",
                                fmt::join(cd_values, ", "), shuffle));
      }
      const unsigned typesize = cd(2, 1);
      spec = {.id = std::string(compressor->codec_id),
              .level = static_cast<int>(std::min(cd(4, detail::kBloscDefaultLevel), 1000u)),
              .shuffle = static_cast<Shuffle>(shuffle),
              // As hdf5-blosc does: blosc cannot shuffle items over 255 bytes.
              .typesize = typesize >= 1 && typesize <= 255 ? static_cast<int>(typesize) : 1};
      break;
    }
    case detail::kHdf5Lzf:
      // h5py: {filter revision, liblzf version, chunk bytes}; only the
      // chunk size matters, and only to the filter (decode() gets it as
      // the output's size).
      spec = {.id = "lzf"};
      break;
    case detail::kHdf5Bitshuffle: {
      // bitshuffle: {major, minor, element size, block elements, compression
      // [, zstd level]}, as the filter's set_local leaves them in the file.
      if (cd_values.size() < 3) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("HDF5 bitshuffle filter (32008) cd_values [{}]: fewer than the 3 "
                                "values that end with the element size",
                                fmt::join(cd_values, ", ")));
      }
      const unsigned compression = cd(4, detail::kBitshuffleNoCompression);
      std::string format;
      switch (compression) {
        case detail::kBitshuffleNoCompression:
          format = "none";
          break;
        case detail::kBitshuffleLz4:
          format = "lz4";
          break;
        case detail::kBitshuffleZstd:
          format = "zstd";
          break;
        default:
          throw Error(ErrorCode::unsupported,
                      fmt::format("HDF5 bitshuffle filter (32008) cd_values [{}]: compression {} "
                                  "is not 0 (none), 2 (lz4) or 3 (zstd)",
                                  fmt::join(cd_values, ", "), compression));
      }
      const unsigned typesize = cd_values[2];
      if (typesize > static_cast<unsigned>(std::numeric_limits<int>::max())) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("HDF5 bitshuffle filter (32008) cd_values [{}]: element size {} "
                                "is too large",
                                fmt::join(cd_values, ", "), typesize));
      }
      spec = {.id = "bitshuffle",
              // As the filter does: a C int, so negative levels wrap.
              .level = compression == detail::kBitshuffleZstd
                           ? static_cast<int>(cd(5, detail::kZstdDefaultLevel))
                           : -1,
              .typesize = static_cast<int>(typesize),
              .block_size = cd(3, 0),
              .format = format};
      break;
    }
    default:
      throw Error(ErrorCode::unsupported,
                  fmt::format("HDF5 filter {} ({}) is not one larder's codecs read (they read "
                              "deflate 1, lzf 32000, blosc 32001, lz4 32004, bitshuffle 32008, "
                              "zstd 32015)",
                              filter_id, hdf5_filter_name(filter_id)));
  }
  try {
    return make(spec)->spec();
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("HDF5 filter {} cd_values [{}]: {}", filter_id,
                                      fmt::join(cd_values, ", "), e.message()));
  }
}

CodecSpec CodecRegistry::spec_from_numcodecs(const json& config, int typesize) const {
  if (config.is_null()) return make(CodecSpec{.id = "none"})->spec();
  const auto id = config.is_object() ? config.find("id") : config.end();
  if (!config.is_object() || id == config.end() || !id->is_string()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("numcodecs config {} is not an object with a string 'id'", config.dump()));
  }
  const std::string name = id->get<std::string>();
  CodecSpec spec;
  // Missing settings take numcodecs' defaults, as numcodecs itself would.
  if (name == "blosc") {
    if (typesize < 1) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("numcodecs blosc: typesize {} is below 1", typesize));
    }
    const auto cname_it = config.find("cname");
    const std::string cname = cname_it == config.end() ? "lz4"
                              : cname_it->is_string()  ? cname_it->get<std::string>()
                                                       : cname_it->dump();
    const detail::BloscCompressor* compressor = nullptr;
    for (const auto& c : detail::kBloscCompressors) {
      if (c.cname == cname) compressor = &c;
    }
    if (compressor == nullptr) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("numcodecs blosc compressor '{}' is not one larder reads", cname));
    }
    const int item = typesize <= 255 ? typesize : 1;  // what blosc does with larger items
    const int shuffle = config_int(config, "shuffle", 1);
    if (shuffle < -1 || shuffle > 2) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("numcodecs blosc: shuffle {} is not -1, 0, 1 or 2", shuffle));
    }
    const int blocksize = config_int(config, "blocksize", 0);
    if (blocksize < 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("numcodecs blosc: blocksize {} is negative", blocksize));
    }
    spec = {.id = std::string(compressor->codec_id),
            .level = config_int(config, "clevel", detail::kBloscDefaultLevel),
            // -1 is numcodecs' AUTOSHUFFLE: bit for single bytes, byte otherwise.
            .shuffle = shuffle == -1 ? (item == 1 ? Shuffle::bit : Shuffle::byte)
                                     : static_cast<Shuffle>(shuffle),
            .typesize = item,
            .block_size = static_cast<std::size_t>(blocksize)};
  } else if (name == "zstd") {
    spec = {.id = "zstd", .level = config_int(config, "level", 1)};
  } else if (name == "lz4") {
    spec = {.id = "lz4", .level = config_int(config, "acceleration", 1), .format = "numcodecs"};
  } else if (name == "zlib" || name == "gzip") {
    spec = {.id = "gzip", .level = config_int(config, "level", 1), .format = name};
  } else {
    throw Error(ErrorCode::unsupported,
                fmt::format("numcodecs codec '{}' is not one larder reads (it reads blosc, zstd, "
                            "lz4, zlib, gzip)",
                            name));
  }
  try {
    return make(spec)->spec();
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("numcodecs config {}: {}", config.dump(), e.message()));
  }
}

std::unique_ptr<Codec> make_codec(const CodecSpec& spec) {
  return CodecRegistry::builtin().make(spec);
}

}  // namespace larder::codec
