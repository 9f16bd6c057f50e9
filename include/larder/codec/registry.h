// CodecRegistry — codecs by string id, and the mapping from HDF5 filters and
// numcodecs configs back to a CodecSpec.
//
// builtin() holds larder's codecs and never changes: safe from every thread.
// A registry of one's own (to add a codec) copies builtin() and add()s to it;
// it is then not to be changed while another thread reads it.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/codec/codec.h"
#include "larder/codec/codec_spec.h"

namespace larder::codec {

struct CodecInfo {
  std::string id;            // "blosc-lz4"
  std::string description;   // one line for `larder codecs`
  unsigned hdf5_filter_id;   // 0 for none
  std::string numcodecs_id;  // "blosc"; "" for none
};

using CodecFactory = std::function<std::unique_ptr<Codec>(const CodecSpec&)>;

class CodecRegistry {
 public:
  static const CodecRegistry& builtin();

  // Error(invalid_argument) when the id is taken.
  void add(CodecInfo info, CodecFactory factory);

  // Error(not_found) naming the id and the ids that exist; Error(invalid_argument)
  // for settings the codec rejects (a level out of range, a bad typesize).
  std::unique_ptr<Codec> make(const CodecSpec& spec) const;
  bool contains(std::string_view id) const;
  std::vector<CodecInfo> list() const;  // sorted by id

  // The spec of a codec that reads chunks stored under an HDF5 filter
  // (Error(unsupported) for filters larder does not know).
  CodecSpec spec_from_hdf5(unsigned filter_id, std::span<const unsigned> cd_values) const;
  // The spec of a codec that reads chunks written with a numcodecs config;
  // `typesize` is the array's item size (numcodecs blosc shuffles by it).
  CodecSpec spec_from_numcodecs(const nlohmann::json& config, int typesize) const;

 private:
  struct Entry {
    CodecInfo info;
    CodecFactory factory;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// builtin().make(spec)
std::unique_ptr<Codec> make_codec(const CodecSpec& spec);

}  // namespace larder::codec
