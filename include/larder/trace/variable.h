// Trace variables — what a Trace stores under a name, and how it lists them.
//
// A variable is an array (any numeric or bool dtype), a scalar (a 0-d array
// that reads back as a numpy scalar of its dtype), a dict (string keys to
// arrays or scalars; nested dicts are refused), a table (named 1-D columns),
// or a link to an array in another HDF5 file (a Data store), resolved on
// read. Plain values; no thread-safety concerns.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "larder/core/array.h"
#include "larder/core/dtype.h"
#include "larder/core/shape.h"
#include "larder/store/table.h"

namespace larder::trace {

enum class VariableKind { array, scalar, dict, table, link };

std::string_view to_string(VariableKind kind) noexcept;
// Error(corrupt) naming `text` for anything but the names above.
VariableKind variable_kind_from(std::string_view text);

// A member of a dict variable: an array, or a scalar when `scalar` (then
// `value` is 0-d).
struct DictValue {
  Array value = Array::empty(DType::float64(), Shape{});
  bool scalar = false;
};
using Dict = std::map<std::string, DictValue>;

struct VariableInfo {
  std::string name{};
  VariableKind kind = VariableKind::array;
  DType dtype = DType::float64();  // arrays, scalars, links; unused for dicts and tables
  Shape shape{};                   // arrays, scalars, links; (rows, columns) for tables
  std::uint64_t nbytes = 0;        // logical bytes of the values
  std::string hash{};              // xxh3-128 of the content (hex)
  std::string link_file{};         // links: the target file and the path in it
  std::string link_path{};
  // links: the target file's identity, size and modification time when it
  // was hashed ("" for a directory store or a file changed just before,
  // which are hashed again at the next apply)
  std::string link_stamp{};
};

// Refuses (Error(invalid_argument) naming it) a variable name that is not an
// identifier: [A-Za-z_][A-Za-z0-9_]*, at most 255 characters, not starting
// with "larder".
void check_variable_name(std::string_view name);

// Refuses (Error(type_mismatch) naming `what`, the dtype, and `file` and
// `path` when given) a dtype that is not a number or bool: what a trace
// and a Data store hold.
void check_numeric(std::string_view what, const DType& dtype, const std::string& file = {},
                   const std::string& path = {});

// Checks a table stored as variable `name` (store::check_table), and that
// every column holds numbers or bools: Error(type_mismatch) naming the
// column and its dtype, and `file` when given.
void check_numeric_table(std::string_view name, const store::Table& table,
                         const std::string& file = {});

}  // namespace larder::trace
