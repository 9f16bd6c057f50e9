// Binding: an expression's names resolved against a group's columns and
// constants, its types worked out as numpy 1.24 would, and the result
// compiled into a Program (program.h). Used by evaluate.cpp only.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "larder/expr/expression.h"
#include "larder/ragged/ragged.h"
#include "larder/store/group.h"
#include "program.h"

namespace larder::expr::detail {

struct Column {
  std::string path;                // as written in the expression
  DType dtype = DType::float64();  // native byte order
  Ty type = Ty::f64;
  std::shared_ptr<store::Dataset> dataset;  // dense columns
  std::unique_ptr<ragged::Ragged> ragged;   // jagged columns
};

struct Bound {
  std::vector<Column> dense;
  std::vector<Column> ragged;
  Program program;
  std::vector<Source> roots;  // one per expression bound
  std::vector<Ty> root_types;
  std::int64_t rows = -1;  // -1 while no column is read
  std::string text;        // the expressions, for messages
};

// Binds every expression into one program (roots in order). Error as
// described in evaluate.h.
Bound bind(store::Group& group, const std::vector<const Expression*>& expressions,
           const nlohmann::json& constants);

}  // namespace larder::expr::detail
