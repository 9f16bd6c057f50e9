// Cut — the rows of a group that satisfy a condition, cached in the store,
// and the cut flow of a list of conditions applied in order.
//
// A cut's row ids are stored in the group under `.larder/cuts/<key>` (a 1-D
// int64 dataset; docs/formats/cut-cache.md) with the normalized expression,
// the constants and the xxh3 checksum of every column it read. A later cut
// of the same expression and constants reads the columns once to check
// their checksums and, when every one matches, returns the stored ids
// instead of evaluating; a changed column makes it evaluate again and
// replace the entry. A store that cannot be written (opened "r") is never
// an error: the cut is evaluated and not stored. The group is used from the
// calling thread only.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "larder/core/array.h"
#include "larder/expr/evaluate.h"
#include "larder/expr/expression.h"
#include "larder/store/group.h"

namespace larder::expr {

struct CutOptions {
  nlohmann::json constants = nlohmann::json::object();  // as EvaluateOptions::constants
  bool cache = true;      // look up and store the row ids in the store
  bool recreate = false;  // evaluate even when the cache holds a valid entry
};

struct CutResult {
  Array rows = Array::empty(DType::int64(), Shape{0});  // ascending row ids
  std::int64_t total = 0;                               // rows in the columns read
  bool from_cache = false;                              // the ids came from a valid cache entry
  bool stored = false;                                  // the ids were written to the cache
  std::string key;  // the entry's name under .larder/cuts ("" without cache)
};

// Error as evaluate() does; Error(type_mismatch) for an expression that is
// not a condition.
CutResult cut(store::Group& group, const Expression& expression, const CutOptions& options = {});
CutResult cut(store::Group& group, std::string_view expression, const CutOptions& options = {});

// The cache key of an expression with its constants (hex of xxh3-64 over
// the normalized text, the constants as JSON and the group's path).
std::string cut_key(const store::Group& group, const Expression& expression,
                    const nlohmann::json& constants);

struct FlowStep {
  std::string expression;    // as given
  std::int64_t passing = 0;  // rows passing this cut and every one before it
};

struct CutFlow {
  std::int64_t total = 0;  // rows before any cut
  std::vector<FlowStep> steps;
};

// The cut flow of `cuts` in order, in one pass over the data.
CutFlow cut_flow(store::Group& group, const std::vector<std::string>& cuts,
                 const nlohmann::json& constants = nlohmann::json::object());

}  // namespace larder::expr
