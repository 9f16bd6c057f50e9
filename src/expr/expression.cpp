// The tokenizer, the precedence-climbing parser and the normalized text.
#include "larder/expr/expression.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "larder/core/error.h"

namespace larder::expr {
namespace {

enum class TokenKind { number, name, quoted, op, end };

struct Token {
  TokenKind kind = TokenKind::end;
  std::string text;  // a number's digits, a name, a quoted name unescaped, an operator
  int column = 1;
};

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_keyword(std::string_view word) {
  static constexpr std::array<std::string_view, 10> keywords = {
      "and", "or", "not", "true", "false", "True", "False", "nan", "inf", "in"};
  return std::find(keywords.begin(), keywords.end(), word) != keywords.end();
}

// Shortens the expression for messages about very long input.
std::string quoted_for_message(std::string_view text) {
  if (text.size() <= 200) return fmt::format("'{}'", text);
  return fmt::format("'{}...' ({} characters)", text.substr(0, 200), text.size());
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::unique_ptr<Node> parse() {
    if (text_.size() > max_expression_length) {
      fail(1, fmt::format("longer than {} characters", max_expression_length));
    }
    advance();
    if (token_.kind == TokenKind::end) fail(1, "empty expression");
    auto node = parse_or();
    if (token_.kind != TokenKind::end) {
      fail(token_.column, fmt::format("unexpected '{}'", token_.text));
    }
    return node;
  }

 private:
  [[noreturn]] void fail(int column, const std::string& what) const {
    throw Error(ErrorCode::invalid_argument, fmt::format("expression {}: {} at column {}",
                                                         quoted_for_message(text_), what, column));
  }

  // ---- tokens ----
  void advance() { token_ = next_token(); }

  Token next_token() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
    Token t;
    t.column = static_cast<int>(pos_) + 1;
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    if (is_digit(c) || (c == '.' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]))) {
      t.kind = TokenKind::number;
      const std::size_t start = pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_]))
        ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '.') {
        ++pos_;
        while (pos_ < text_.size() && is_digit(text_[pos_]))
          ++pos_;
      }
      if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        std::size_t p = pos_ + 1;
        if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
        if (p >= text_.size() || !is_digit(text_[p])) {
          fail(static_cast<int>(pos_) + 1, "an exponent needs digits");
        }
        while (p < text_.size() && is_digit(text_[p]))
          ++p;
        pos_ = p;
      }
      if (pos_ < text_.size() && is_name_char(text_[pos_])) {
        fail(static_cast<int>(pos_) + 1,
             fmt::format("unexpected '{}' after a number", text_[pos_]));
      }
      t.text = std::string(text_.substr(start, pos_ - start));
      return t;
    }
    if (is_name_start(c)) {
      t.kind = TokenKind::name;
      const std::size_t start = pos_;
      while (pos_ < text_.size() && is_name_char(text_[pos_]))
        ++pos_;
      t.text = std::string(text_.substr(start, pos_ - start));
      if (t.text == "and" || t.text == "or" || t.text == "not") t.kind = TokenKind::op;
      return t;
    }
    if (c == '"' || c == '\'') {
      t.kind = TokenKind::quoted;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) fail(t.column, "unterminated quoted name");
        const char d = text_[pos_++];
        if (d == c) break;
        if (d == '\\') {
          if (pos_ >= text_.size()) fail(t.column, "unterminated quoted name");
          t.text += text_[pos_++];
        } else {
          t.text += d;
        }
      }
      if (t.text.empty()) fail(t.column, "empty quoted name");
      return t;
    }
    static constexpr std::array<std::string_view, 21> operators = {
        "**", "//", "==", "!=", ">=", "<=", ">", "<", "+", "-", "*",
        "/",  "%",  "&",  "|",  "~",  "(",  ")", ",", "[", "]"};
    for (std::string_view op : operators) {
      if (text_.substr(pos_, op.size()) == op) {
        t.kind = TokenKind::op;
        t.text = std::string(op);
        pos_ += op.size();
        return t;
      }
    }
    if (c == '=') fail(t.column, "'=' is not an operator (use '==' to compare)");
    if (c == '!') fail(t.column, "'!' is not an operator (use '!=' or 'not' / '~')");
    fail(t.column, fmt::format("unexpected character '{}'", c));
  }

  bool at_op(std::string_view op) const {
    return token_.kind == TokenKind::op && token_.text == op;
  }

  void expect(std::string_view op) {
    if (!at_op(op)) {
      fail(token_.column, token_.kind == TokenKind::end
                              ? fmt::format("expected '{}' before the end", op)
                              : fmt::format("expected '{}', found '{}'", op, token_.text));
    }
    advance();
  }

  // ---- grammar ----
  struct Depth {
    explicit Depth(Parser& p) : parser(p) {
      // Normalized text nests a parenthesis and a right operand (or a
      // unary operator) per tree level: twice the tree's limit lets every
      // normalized text parse again.
      if (++parser.depth_ > 2 * max_expression_depth) {
        parser.fail(parser.token_.column,
                    fmt::format("nested deeper than {} levels", max_expression_depth));
      }
    }
    ~Depth() { --parser.depth_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
    Parser& parser;
  };

  static std::unique_ptr<Node> make(NodeKind kind, std::string text, int column) {
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->text = std::move(text);
    node->column = column;
    return node;
  }

  std::unique_ptr<Node> binary(std::string op, int column, std::unique_ptr<Node> lhs,
                               std::unique_ptr<Node> rhs) {
    auto node = make(NodeKind::binary, std::move(op), column);
    node->args.push_back(std::move(lhs));
    node->args.push_back(std::move(rhs));
    return with_height(std::move(node));
  }

  // Every tree walk (normalizing, binding, destruction) recurses once per
  // level, so the tree's height is bounded, not only the parser's recursion:
  // `1+1+1+...` nests without recursing in the parser.
  std::unique_ptr<Node> with_height(std::unique_ptr<Node> node) {
    for (const auto& arg : node->args)
      node->height = std::max(node->height, arg->height + 1);
    if (node->height > max_expression_depth) {
      fail(node->column, fmt::format("nested deeper than {} levels", max_expression_depth));
    }
    return node;
  }

  // Binding power of the binary operator at the current token, 0 if none.
  // Higher binds tighter; `not` (3) and unary - + ~ (9) are prefixes.
  static constexpr int not_power = 3;
  static constexpr int unary_power = 9;
  static constexpr int power_power = 10;
  static constexpr int compare_power = 6;
  int binary_power() const {
    if (token_.kind != TokenKind::op) return 0;
    const std::string& t = token_.text;
    if (t == "or") return 1;
    if (t == "and") return 2;
    if (t == "|") return 4;
    if (t == "&") return 5;
    if (t == "==" || t == "!=" || t == "<" || t == "<=" || t == ">" || t == ">=") {
      return compare_power;
    }
    if (t == "+" || t == "-") return 7;
    if (t == "*" || t == "/" || t == "//" || t == "%") return 8;
    if (t == "**") return power_power;
    return 0;
  }

  // Precedence climbing: the expression whose operators bind at least as
  // tightly as `min_power`. One C++ frame per nesting (parentheses, unary
  // operators, right operands), so the stack stays small under the limit.
  std::unique_ptr<Node> parse_expression(int min_power) {
    Depth depth(*this);
    auto lhs = parse_prefix(min_power);
    bool compared = false;
    for (;;) {
      const int power = binary_power();
      if (power == 0 || power < min_power) return lhs;
      if (power == compare_power && compared) {
        fail(token_.column, "chained comparisons are not supported: write (a < b) & (b < c)");
      }
      const int column = token_.column;
      std::string op = token_.text;
      advance();
      // ** is right-associative and its right operand may be unary (2 ** -1).
      auto rhs = parse_expression(power == power_power ? power_power : power + 1);
      compared = power == compare_power;
      lhs = binary(std::move(op), column, std::move(lhs), std::move(rhs));
    }
  }

  std::unique_ptr<Node> parse_prefix(int min_power) {
    if (at_op("not")) {
      if (min_power > not_power) fail(token_.column, "unexpected 'not' (parenthesize it)");
      auto node = make(NodeKind::unary, "not", token_.column);
      advance();
      node->args.push_back(parse_expression(not_power));
      return with_height(std::move(node));
    }
    if (at_op("-") || at_op("~") || at_op("+")) {
      const bool plus = at_op("+");
      auto node = make(NodeKind::unary, token_.text, token_.column);
      advance();
      auto operand = parse_expression(unary_power);
      if (plus) return operand;
      node->args.push_back(std::move(operand));
      return with_height(std::move(node));
    }
    return parse_postfix();
  }

  std::unique_ptr<Node> parse_or() { return parse_expression(1); }

  std::unique_ptr<Node> parse_postfix() {
    auto node = parse_atom();
    while (at_op("[")) {
      const int column = token_.column;
      if (node->kind != NodeKind::name) fail(column, "only a column can be indexed");
      advance();
      bool negative = false;
      if (at_op("-")) {
        negative = true;
        advance();
      }
      if (token_.kind != TokenKind::number ||
          token_.text.find_first_of(".eE") != std::string::npos) {
        fail(token_.column, "an index must be an integer literal");
      }
      auto index = make(NodeKind::index, "[]", column);
      index->integer = integer_value(token_) * (negative ? -1 : 1);
      advance();
      expect("]");
      index->args.push_back(std::move(node));
      node = with_height(std::move(index));
    }
    return node;
  }

  std::int64_t integer_value(const Token& t) const {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), value);
    if (ec != std::errc() || end != t.text.data() + t.text.size()) {
      fail(t.column, fmt::format("integer literal {} is too large", t.text));
    }
    return value;
  }

  std::unique_ptr<Node> parse_atom() {
    const Token t = token_;
    switch (t.kind) {
      case TokenKind::end:
        fail(t.column, "unexpected end of the expression");
      case TokenKind::number: {
        advance();
        if (t.text.find_first_of(".eE") == std::string::npos) {
          auto node = make(NodeKind::integer, t.text, t.column);
          node->integer = integer_value(t);
          return node;
        }
        auto node = make(NodeKind::real, t.text, t.column);
        node->real = std::strtod(t.text.c_str(), nullptr);  // inf when out of range, as Python
        return node;
      }
      case TokenKind::quoted: {
        advance();
        auto node = make(NodeKind::name, t.text, t.column);
        node->quoted = true;
        return node;
      }
      case TokenKind::name: {
        advance();
        if (t.text == "true" || t.text == "True" || t.text == "false" || t.text == "False") {
          auto node = make(NodeKind::boolean, t.text, t.column);
          node->integer = (t.text[0] == 't' || t.text[0] == 'T') ? 1 : 0;
          return node;
        }
        if (t.text == "nan" || t.text == "inf") {
          auto node = make(NodeKind::real, t.text, t.column);
          node->real = t.text == "nan" ? std::numeric_limits<double>::quiet_NaN()
                                       : std::numeric_limits<double>::infinity();
          return node;
        }
        if (is_keyword(t.text)) fail(t.column, fmt::format("unexpected '{}'", t.text));
        if (!at_op("(")) return make(NodeKind::name, t.text, t.column);
        advance();
        auto call = make(NodeKind::call, t.text, t.column);
        if (!at_op(")")) {
          for (;;) {
            call->args.push_back(parse_or());
            if (!at_op(",")) break;
            advance();
          }
        }
        expect(")");
        return with_height(std::move(call));
      }
      case TokenKind::op:
        if (t.text == "(") {
          advance();
          auto inner = parse_or();
          expect(")");
          return inner;
        }
        fail(t.column, fmt::format("unexpected '{}'", t.text));
    }
    fail(t.column, "unexpected token");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  Token token_;
  int depth_ = 0;
};

bool plain_name(const std::string& name) {
  if (name.empty() || !is_name_start(name[0]) || is_keyword(name)) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

std::string real_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "(-inf)";
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".enEi") == std::string::npos) text += ".0";
  return text;
}

void normalize(const Node& node, std::string& out) {
  switch (node.kind) {
    case NodeKind::integer:
      out += std::to_string(node.integer);
      return;
    case NodeKind::real:
      out += real_text(node.real);
      return;
    case NodeKind::boolean:
      out += node.integer ? "true" : "false";
      return;
    case NodeKind::name:
      if (!node.quoted && plain_name(node.text)) {
        out += node.text;
        return;
      }
      out += '"';
      for (char c : node.text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
      return;
    case NodeKind::unary:
      out += '(';
      out += node.text;
      if (node.text == "not") out += ' ';
      normalize(*node.args[0], out);
      out += ')';
      return;
    case NodeKind::binary:
      out += '(';
      normalize(*node.args[0], out);
      out += ' ';
      out += node.text;
      out += ' ';
      normalize(*node.args[1], out);
      out += ')';
      return;
    case NodeKind::call:
      out += node.text;
      out += '(';
      for (std::size_t i = 0; i < node.args.size(); ++i) {
        if (i > 0) out += ", ";
        normalize(*node.args[i], out);
      }
      out += ')';
      return;
    case NodeKind::index:
      normalize(*node.args[0], out);
      out += '[';
      out += std::to_string(node.integer);
      out += ']';
      return;
  }
}

}  // namespace

Expression Expression::parse(std::string_view text) {
  Parser parser(text);
  std::shared_ptr<const Node> root = parser.parse();
  return Expression(std::string(text), std::move(root));
}

std::string Expression::normalized() const {
  std::string out;
  normalize(*root_, out);
  return out;
}

const std::vector<std::string>& function_names() {
  static const std::vector<std::string> names = {
      "abs",      "all",   "any", "arctan2", "ceil",  "cos", "exp",     "floor",
      "isfinite", "isnan", "len", "log",     "log10", "max", "maximum", "min",
      "minimum",  "round", "sin", "sqrt",    "sum",   "tan", "where"};
  return names;
}

std::vector<std::string> nearest_names(std::string_view name,
                                       const std::vector<std::string>& candidates,
                                       std::size_t count) {
  const auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
      row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t above = row[j];
        const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                          std::tolower(static_cast<unsigned char>(b[j - 1]));
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const std::string& c : candidates)
    scored.emplace_back(distance(name, c), c);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 2 + 1);
  std::vector<std::string> out;
  for (const auto& [d, c] : scored) {
    if (out.size() >= count || d > limit) break;
    out.push_back(c);
  }
  return out;
}

}  // namespace larder::expr
