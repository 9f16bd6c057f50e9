// parse_trace_json reads trace.json, which a crash, an editor or another
// program may have damaged: anything but a well-formed record is
// Error(corrupt) (or unsupported for another format version), and a parsed
// record formats and parses back to the same record.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "../src/trace/trace_json.h"
#include "larder/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto record = larder::trace::parse_trace_json(text, "fuzz/trace.json");
    const std::string formatted = larder::trace::format_trace_json(record);
    const auto again = larder::trace::parse_trace_json(formatted, "fuzz/again.json");
    if (larder::trace::format_trace_json(again) != formatted) std::abort();
  } catch (const larder::Error& e) {
    if (e.code() != larder::ErrorCode::corrupt && e.code() != larder::ErrorCode::unsupported)
      std::abort();
  }
  return 0;
}
