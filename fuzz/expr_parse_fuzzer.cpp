// Expression::parse reads cut expressions from users: it must never crash,
// and its normalized text must parse back to the same normalized text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "larder/core/error.h"
#include "larder/expr/expression.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string normalized;
  try {
    normalized = larder::expr::Expression::parse(text).normalized();
  } catch (const larder::Error&) {
    return 0;
  }
  if (normalized.size() > larder::expr::max_expression_length)
    return 0;  // longer than input may be
  // Normalized text nests parentheses as deep as the tree, which the
  // parser accepted: it must parse, to the same text.
  std::string again;
  try {
    again = larder::expr::Expression::parse(normalized).normalized();
  } catch (const larder::Error&) {
    std::abort();
  }
  if (again != normalized) std::abort();
  return 0;
}
