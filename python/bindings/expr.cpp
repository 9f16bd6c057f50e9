// larder.cut, larder.evaluate, larder.count and larder.cut_flow: cut
// expressions over the columns of a Store or a Group, with the GIL released
// while the columns are read and evaluated.
#include <fmt/format.h>

#include "bindings.h"
#include "larder/core/error.h"
#include "larder/expr/cut.h"
#include "larder/expr/evaluate.h"
#include "larder/store/store.h"

namespace larder::python {
namespace {

std::shared_ptr<store::Group> group_of(py::handle where) {
  if (py::isinstance<store::Store>(where)) return where.cast<store::Store&>().root();
  if (py::isinstance<store::Group>(where)) return where.cast<std::shared_ptr<store::Group>>();
  throw Error(ErrorCode::invalid_argument,
              fmt::format("expressions run over a larder.Store or larder.Group, not {}",
                          py::str(py::type::of(where)).cast<std::string>()));
}

nlohmann::json constants_of(py::handle constants) {
  if (constants.is_none()) return nlohmann::json::object();
  if (!py::isinstance<py::dict>(constants)) {
    throw Error(ErrorCode::invalid_argument, "constants must be a dict of names to numbers");
  }
  nlohmann::json out = nlohmann::json::object();
  for (auto item : py::reinterpret_borrow<py::dict>(constants)) {
    py::handle value = item.second;
    const std::string name = py::str(item.first).cast<std::string>();
    if (py::isinstance<py::bool_>(value)) {
      out[name] = value.cast<bool>();
      continue;
    }
    if (py::isinstance<py::int_>(value)) {
      out[name] = value.cast<std::int64_t>();
      continue;
    }
    // numpy scalars and 0-d arrays by their kind.
    const py::object array = py::module_::import("numpy").attr("asarray")(value);
    const char kind = array.attr("dtype").attr("kind").cast<std::string>()[0];
    if (array.attr("ndim").cast<int>() != 0 ||
        (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f')) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("constant '{}' is {}: constants are numbers or booleans", name,
                              py::repr(value).cast<std::string>()));
    }
    if (kind == 'b') {
      out[name] = array.attr("item")().cast<bool>();
    } else if (kind == 'f') {
      out[name] = array.attr("item")().cast<double>();
    } else {
      out[name] = array.attr("item")().cast<std::int64_t>();
    }
  }
  return out;
}

}  // namespace

void bind_expr(py::module_& m) {
  m.def(
      "cut",
      [](py::object where, const std::string& expression, py::object constants, bool cache,
         bool recreate) {
        auto group = group_of(where);
        const expr::CutOptions options{
            .constants = constants_of(constants), .cache = cache, .recreate = recreate};
        expr::CutResult result;
        {
          py::gil_scoped_release release;
          result = expr::cut(*group, expression, options);
        }
        return to_numpy(std::move(result.rows));
      },
      py::arg("store"), py::arg("expr"), py::arg("constants") = py::none(), py::arg("cache") = true,
      py::arg("recreate") = false,
      R"(Row ids (numpy int64, ascending) where `expr` holds over the columns of
`store` (a Store or a Group; column paths are relative to it). With `cache`,
the ids are kept under .larder/cuts in the store and reused while the
columns read are unchanged; `recreate` evaluates anyway. See docs/expr.md.)");
  m.def(
      "evaluate",
      [](py::object where, const std::string& expression, py::object constants) {
        auto group = group_of(where);
        const expr::EvaluateOptions options{.constants = constants_of(constants)};
        Array values = Array::empty(DType::boolean(), Shape{0});
        {
          py::gil_scoped_release release;
          values = expr::evaluate(*group, expr::Expression::parse(expression), options);
        }
        return to_numpy(std::move(values));
      },
      py::arg("store"), py::arg("expr"), py::arg("constants") = py::none(),
      "The expression per row: a numpy bool mask for a condition, else its values.");
  m.def(
      "count",
      [](py::object where, const std::string& expression, py::object constants) {
        auto group = group_of(where);
        const expr::EvaluateOptions options{.constants = constants_of(constants)};
        py::gil_scoped_release release;
        return expr::count(*group, expr::Expression::parse(expression), options);
      },
      py::arg("store"), py::arg("expr"), py::arg("constants") = py::none(),
      "How many rows satisfy the condition (no row ids are kept).");
  m.def(
      "cut_flow",
      [](py::object where, const std::vector<std::string>& cuts, py::object constants) {
        auto group = group_of(where);
        const nlohmann::json c = constants_of(constants);
        expr::CutFlow flow;
        {
          py::gil_scoped_release release;
          flow = expr::cut_flow(*group, cuts, c);
        }
        py::list out;
        for (const auto& step : flow.steps)
          out.append(py::make_tuple(step.expression, step.passing));
        return out;
      },
      py::arg("store"), py::arg("exprs"), py::arg("constants") = py::none(),
      "[(expr, rows passing it and every cut before it), ...] in one pass over the data.");
  m.def(
      "normalize_expr",
      [](const std::string& expression) {
        return expr::Expression::parse(expression).normalized();
      },
      py::arg("expr"), "The canonical, fully parenthesized text of an expression.");
}

}  // namespace larder::python
