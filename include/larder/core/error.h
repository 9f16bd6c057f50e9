// larder::Error — the one exception type users of larder catch.
//
// Every failure larder reports is an Error carrying an ErrorCode and, where
// known, the file and the path inside it that the failure concerns; what()
// gives one line naming all of them. Errors are values: copyable and
// thread-safe to read. The library never prints and never aborts.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace larder {

enum class ErrorCode {
  not_found,         // a file, group, array, codec or key that does not exist
  invalid_argument,  // a value the caller passed that cannot be used
  type_mismatch,     // a dtype that does not fit the operation
  out_of_range,      // an index or slice outside the extent of an axis
  corrupt,           // stored or transmitted bytes that do not decode
  io,                // the operating system refused a read, write or open
  unsupported,       // valid input that larder does not handle (yet)
};

// "not found", "invalid argument", ... as used in messages.
std::string_view to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  // `message` says what is wrong and names the offending value.
  Error(ErrorCode code, std::string message, std::string file = {}, std::string path = {});

  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& file() const noexcept { return file_; }  // empty when not about a file
  const std::string& path() const noexcept { return path_; }  // path inside the file, or empty

  // A copy that names the file and the path inside it; fields already set win,
  // so the innermost context (closest to the failure) is kept.
  Error at(std::string file, std::string path = {}) const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string file_;
  std::string path_;
};

// Throws Error(code, message); for call sites that read better as a statement,
// e.g. `throw_error(ErrorCode::corrupt, fmt::format("... {}", value))`.
[[noreturn]] void throw_error(ErrorCode code, std::string message);

}  // namespace larder
