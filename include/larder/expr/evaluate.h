// Evaluation of an expression over the columns of a store group.
//
// The expression is bound to the group's columns (1-D dense datasets of
// equal length, or ragged arrays of jagged 1-D numbers for the jagged
// functions) and compiled to a small program of vector operations. Columns
// are read in large row ranges aligned to their chunks, from the calling
// thread; the program runs over blocks of a few thousand rows on
// larder::parallel_for, so no full-size temporary is ever made. Types
// follow numpy 1.24 (docs/expr.md). Binding errors — unknown names (with
// the nearest known ones), a jagged column outside a reduction, columns of
// different lengths, unsupported dtypes — raise Error(invalid_argument) or
// Error(type_mismatch) naming the expression and the column. The group is
// used from the calling thread only.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "larder/core/array.h"
#include "larder/expr/expression.h"
#include "larder/store/group.h"

namespace larder::expr {

struct EvaluateOptions {
  // Named constants: a JSON object of numbers and booleans, e.g.
  // {"min_pt": 30, "eta_max": 2.5}. A bare name is a constant when it is
  // here, else a column; a quoted name is always a column.
  nlohmann::json constants = nlohmann::json::object();
  // Rows per read of the columns (rounded up to whole chunks); 0: about 1M.
  std::int64_t rows_per_read = 0;
};

// What evaluating an expression over a group found.
struct ColumnChecksum {
  std::string path;      // as the expression names it, relative to the group
  std::string checksum;  // hex of xxh3-64 over the values (and record lengths)
};

// The expression's value per row: a bool mask for a condition, else values
// of the numpy result dtype (a scalar expression is broadcast to every row).
Array evaluate(store::Group& group, const Expression& expression,
               const EvaluateOptions& options = {});
// Row ids (int64, ascending) where the condition holds. The expression must
// be boolean; Error(type_mismatch) otherwise.
Array select(store::Group& group, const Expression& expression,
             const EvaluateOptions& options = {});
// How many rows satisfy the condition.
std::int64_t count(store::Group& group, const Expression& expression,
                   const EvaluateOptions& options = {});
// Rows passing each condition and all before it, in one pass over the data.
std::vector<std::int64_t> count_flow(store::Group& group, const std::vector<Expression>& cuts,
                                     const EvaluateOptions& options = {});

// The columns an expression reads (paths relative to the group), after
// binding; Error as evaluate() for names that do not resolve.
std::vector<std::string> columns_of(store::Group& group, const Expression& expression,
                                    const EvaluateOptions& options = {});
// Rows in the columns the expression reads (0 when it reads none).
std::int64_t rows_of(store::Group& group, const Expression& expression,
                     const EvaluateOptions& options = {});

// select() that also hashes every column it reads (for the cut cache).
Array select_with_checksums(store::Group& group, const Expression& expression,
                            const EvaluateOptions& options, std::vector<ColumnChecksum>& checksums);
// The checksums alone: one read of the columns, no evaluation.
std::vector<ColumnChecksum> checksums_of(store::Group& group, const Expression& expression,
                                         const EvaluateOptions& options = {});

}  // namespace larder::expr
