#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "builtin_codecs.h"
#include "larder/core/error.h"

namespace larder::codec::detail {
namespace {

class NoneCodec final : public Codec {
 public:
  explicit NoneCodec(CodecSpec spec) : Codec(std::move(spec)) {}

  std::size_t max_encoded_size(std::size_t n) const override { return n; }

  std::size_t encode_into(std::span<const std::byte> in, std::span<std::byte> out) const override {
    check_encode_capacity(*this, in.size(), out);
    std::copy(in.begin(), in.end(), out.begin());
    return in.size();
  }

  void decode(std::span<const std::byte> in, std::span<std::byte> out) const override {
    if (in.size() != out.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("none: {}-byte input holds {} decoded bytes, expected {}", in.size(),
                              in.size(), out.size()));
    }
    std::copy(in.begin(), in.end(), out.begin());
  }

  // Stored bytes are the decoded bytes.
  std::optional<std::size_t> decoded_size(std::span<const std::byte> in) const override {
    return in.size();
  }

  Hdf5Filter hdf5_filter(std::size_t) const override {
    return {.id = 0, .name = "none", .cd_values = {}};
  }

  nlohmann::json numcodecs_config() const override { return nullptr; }
};

}  // namespace

std::unique_ptr<Codec> make_none_codec(const CodecSpec& spec) {
  if (!spec.format.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("none format '{}' is not known; none has one format", spec.format));
  }
  return std::make_unique<NoneCodec>(CodecSpec{.id = spec.id});
}

}  // namespace larder::codec::detail
