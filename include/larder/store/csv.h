// Numeric CSV files read into a Table, as Python's csv module and pandas
// write them.
//
// RFC 4180 fields (quoted fields may hold delimiters, doubled quotes and
// newlines); a header row names the columns (an empty name becomes
// "Unnamed: <i>", as pandas calls its index column). Each column gets the
// narrowest of bool (True/False), int64 (every cell an integer) and float64
// (empty cells and nan become NaN, inf and -inf are read). A cell that is
// none of these is an Error naming the file, the line and the column, or,
// with CsvOptions::text, makes its column text: dtype S<longest cell>, each
// cell's bytes (UTF-8 as written) NUL padded.
// Free functions without shared state, safe from any thread.
#pragma once

#include <filesystem>
#include <string_view>

#include "larder/store/table.h"

namespace larder::store {

struct CsvOptions {
  char delimiter = ',';
  bool header = true;  // false: columns are named "column_0", "column_1", ...
  bool text = false;   // columns that are not numbers become text (above)
};

Table read_csv(const std::filesystem::path& file, const CsvOptions& options = {});
// The text of a CSV file; `origin` names it in errors.
Table parse_csv(std::string_view text, std::string_view origin, const CsvOptions& options = {});

}  // namespace larder::store
