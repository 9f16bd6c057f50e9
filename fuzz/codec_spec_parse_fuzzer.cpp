// CodecSpec::parse takes text from the command line and from JSON files.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "larder/codec/codec_spec.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using larder::codec::CodecSpec;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CodecSpec spec;
  try {
    spec = CodecSpec::parse(text);
  } catch (const larder::Error&) {
    return 0;
  }
  // What parses survives JSON, and making a codec from it fails only with Error.
  if (CodecSpec::from_json(spec.to_json()) != spec) std::abort();
  if (CodecSpec::parse(spec.to_json().dump()) != spec) std::abort();
  (void)spec.to_string();
  try {
    (void)larder::codec::make_codec(spec);
  } catch (const larder::Error&) {
  }
  return 0;
}
