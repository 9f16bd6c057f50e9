#include "location.h"

#include <fmt/format.h>

#include <filesystem>

namespace larder::cli {

Location parse_location(const std::string& text, bool must_exist) {
  std::error_code ec;
  if (std::filesystem::exists(text, ec)) return {text, ""};
  for (std::size_t pos = text.rfind(':'); pos != std::string::npos && pos > 0;
       pos = text.rfind(':', pos - 1)) {
    const std::string file = text.substr(0, pos);
    if (std::filesystem::exists(file, ec) || (!must_exist && file.find(':') == std::string::npos)) {
      return {file, text.substr(pos + 1)};
    }
  }
  return {text, ""};
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 4) {
    bytes /= 1000;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} {}", bytes, units[unit])
                   : fmt::format("{:.1f} {}", bytes, units[unit]);
}

}  // namespace larder::cli
