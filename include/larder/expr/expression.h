// Expression — a parsed cut / selection expression such as
// `nJets >= 6 & nBTags_77 >= 2`, as a tree of nodes (docs/expr.md).
//
// Expression::parse never executes anything: it tokenizes and parses the
// text into a tree, and raises Error(invalid_argument) naming the
// expression, the 1-based column and the offending token for text that does
// not parse. Comparisons bind tighter than `&` and `|` (as in ROOT's TTree
// and pandas.eval, unlike Python). normalized() is the canonical, fully
// parenthesized text: parse(normalized()) gives the same normalized text,
// and it keys the cut cache. An Expression is an immutable value: safe to
// share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace larder::expr {

// Limits that keep hostile input from exhausting the stack or memory.
inline constexpr std::size_t max_expression_length = 64 * 1024;
// Depth: levels of the tree; parentheses and unary operators nest at most
// twice as deep.
inline constexpr int max_expression_depth = 256;

enum class NodeKind {
  integer,  // a literal integer (value in `integer`)
  real,     // a literal float, nan or inf (value in `real`)
  boolean,  // true / false (value in `integer`: 0 or 1)
  name,     // a column or a constant; `text` is its name or quoted path
  unary,    // `text` is "-", "+", "~" or "not"; one argument
  binary,   // `text` is the operator ("+", ">=", "&", "and", ...); two arguments
  call,     // `text` is the function name; its arguments
  index,    // args[0][integer]: an element of each jagged record
};

struct Node {
  NodeKind kind = NodeKind::integer;
  std::string text;
  std::int64_t integer = 0;
  double real = 0;
  bool quoted = false;  // a name written in quotes: always a column path
  int column = 1;       // 1-based position in the expression's text
  int height = 1;       // levels of the subtree (1 for a leaf)
  std::vector<std::unique_ptr<Node>> args;
};

class Expression {
 public:
  // Error(invalid_argument) for text that does not parse, longer than
  // max_expression_length or nested deeper than max_expression_depth.
  static Expression parse(std::string_view text);

  const std::string& text() const noexcept { return text_; }
  const Node& root() const noexcept { return *root_; }
  // Canonical text: every operation in parentheses, names quoted only when
  // they must be, literals in shortest round-trip form.
  std::string normalized() const;

 private:
  Expression(std::string text, std::shared_ptr<const Node> root)
      : text_(std::move(text)), root_(std::move(root)) {}

  std::string text_;
  std::shared_ptr<const Node> root_;
};

// The functions the language knows, in name order (for messages and docs).
const std::vector<std::string>& function_names();

// The names among `candidates` nearest to `name` by edit distance (at most
// `count`, closest first); for "unknown name" messages.
std::vector<std::string> nearest_names(std::string_view name,
                                       const std::vector<std::string>& candidates,
                                       std::size_t count = 3);

}  // namespace larder::expr
