#include "larder/core/error.h"

#include <utility>

namespace larder {
namespace {

std::string compose(ErrorCode code, const std::string& message, const std::string& file,
                    const std::string& path) {
  std::string line(to_string(code));
  if (!file.empty() || !path.empty()) {
    line += ": ";
    line += file;
    if (!path.empty()) {
      if (!file.empty()) line += ':';
      line += path;
    }
  }
  line += ": ";
  line += message;
  return line;
}

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::not_found:
      return "not found";
    case ErrorCode::invalid_argument:
      return "invalid argument";
    case ErrorCode::type_mismatch:
      return "type mismatch";
    case ErrorCode::out_of_range:
      return "out of range";
    case ErrorCode::corrupt:
      return "corrupt";
    case ErrorCode::io:
      return "I/O error";
    case ErrorCode::unsupported:
      return "unsupported";
  }
  return "error";
}

Error::Error(ErrorCode code, std::string message, std::string file, std::string path)
    : std::runtime_error(compose(code, message, file, path)),
      code_(code),
      message_(std::move(message)),
      file_(std::move(file)),
      path_(std::move(path)) {}

Error Error::at(std::string file, std::string path) const {
  return Error(code_, message_, file_.empty() ? std::move(file) : file_,
               path_.empty() ? std::move(path) : path_);
}

void throw_error(ErrorCode code, std::string message) {
  throw Error(code, std::move(message));
}

}  // namespace larder
