#include "larder/store/open_mode.h"

#include <fmt/format.h>

#include "larder/core/error.h"

namespace larder::store {

OpenMode parse_open_mode(std::string_view text) {
  if (text == "r") return OpenMode::read;
  if (text == "r+") return OpenMode::read_write;
  if (text == "w") return OpenMode::truncate;
  if (text == "w-" || text == "x") return OpenMode::create_new;
  if (text == "a") return OpenMode::append;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("open mode '{}' is not one of r, r+, w, w-, x, a", text));
}

std::string_view to_string(OpenMode mode) noexcept {
  switch (mode) {
    case OpenMode::read:
      return "r";
    case OpenMode::read_write:
      return "r+";
    case OpenMode::truncate:
      return "w";
    case OpenMode::create_new:
      return "w-";
    case OpenMode::append:
      return "a";
  }
  return "?";
}

bool is_writable(OpenMode mode) noexcept {
  return mode != OpenMode::read;
}

}  // namespace larder::store
