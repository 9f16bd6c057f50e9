#include "larder/trace/variable.h"

#include <fmt/format.h>

#include "larder/core/error.h"

namespace larder::trace {

std::string_view to_string(VariableKind kind) noexcept {
  switch (kind) {
    case VariableKind::array:
      return "array";
    case VariableKind::scalar:
      return "scalar";
    case VariableKind::dict:
      return "dict";
    case VariableKind::table:
      return "table";
    case VariableKind::link:
      return "link";
  }
  return "array";
}

VariableKind variable_kind_from(std::string_view text) {
  for (auto kind : {VariableKind::array, VariableKind::scalar, VariableKind::dict,
                    VariableKind::table, VariableKind::link}) {
    if (to_string(kind) == text) return kind;
  }
  throw Error(ErrorCode::corrupt, fmt::format("unknown variable kind \"{}\"", text));
}

void check_variable_name(std::string_view name) {
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool ok =
      !name.empty() && name.size() <= 255 && letter(name.front()) && !name.starts_with("larder");
  for (char c : name)
    ok = ok && (letter(c) || digit(c));
  if (!ok) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("\"{}\" is not a valid name: use letters, digits and _, not starting "
                            "with a digit or \"larder\"",
                            name));
  }
}

void check_numeric(std::string_view what, const DType& dtype, const std::string& file,
                   const std::string& path) {
  if (!dtype.is_numeric()) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("{} has dtype {}, not a number or bool", what, dtype.numpy_str()), file,
                path);
  }
}

void check_numeric_table(std::string_view name, const store::Table& table,
                         const std::string& file) {
  store::check_table(table);
  for (std::size_t i = 0; i < table.columns.size(); ++i)
    check_numeric(fmt::format("table {}: column {}", name, table.names[i]),
                  table.columns[i].dtype(), file);
}

}  // namespace larder::trace
