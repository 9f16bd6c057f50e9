#include "larder/expr/expression.h"

#include <gtest/gtest.h>

#include <string>

#include "error_of.h"
#include "larder/core/error.h"

namespace larder::expr {
namespace {

using larder::testing::error_of;

std::string normal(std::string_view text) {
  return Expression::parse(text).normalized();
}

TEST(ExpressionTest, ComparisonsBindTighterThanAndOr) {
  EXPECT_EQ(normal("nJets >= 6 & nBTags_77 >= 2"), "((nJets >= 6) & (nBTags_77 >= 2))");
  EXPECT_EQ(normal("a < 1 | b > 2 & c == 3"), "((a < 1) | ((b > 2) & (c == 3)))");
  EXPECT_EQ(normal("not a > 1 and b or c"), "(((not (a > 1)) and b) or c)");
}

TEST(ExpressionTest, ArithmeticPrecedenceIsPython) {
  EXPECT_EQ(normal("a + b * c ** 2"), "(a + (b * (c ** 2)))");
  EXPECT_EQ(normal("-2 ** 2"), "(-(2 ** 2))");
  EXPECT_EQ(normal("2 ** -1"), "(2 ** (-1))");
  EXPECT_EQ(normal("2 ** 3 ** 2"), "(2 ** (3 ** 2))");
  EXPECT_EQ(normal("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(normal("a // b % c / d"), "(((a // b) % c) / d)");
  EXPECT_EQ(normal("~(a > 1) & +b"), "((~(a > 1)) & b)");
}

TEST(ExpressionTest, LiteralsNamesAndCalls) {
  EXPECT_EQ(normal("1.5e3 + .5 + 2E-2 + 7"), "(((1500.0 + 0.5) + 0.02) + 7)");
  EXPECT_EQ(normal("True | false"), "(true | false)");
  EXPECT_EQ(normal("x == nan | x < -inf"), "((x == nan) | (x < (-inf)))");
  EXPECT_EQ(normal("\"jets/pt\"[0] > 'a b' + 1"), "(\"jets/pt\"[0] > (\"a b\" + 1))");
  EXPECT_EQ(normal("jet_pt[-1]"), "jet_pt[-1]");
  EXPECT_EQ(normal("where(a>1, sqrt(b), 0)"), "where((a > 1), sqrt(b), 0)");
  EXPECT_EQ(normal("any( jet_pt > ht / 10 )"), "any((jet_pt > (ht / 10)))");
  EXPECT_EQ(normal("'say \\\"hi\\\"' > 0"), "(\"say \\\"hi\\\"\" > 0)");
}

TEST(ExpressionTest, NormalizedTextParsesToItself) {
  for (const char* text : {"nJets >= 6 & nBTags_77 >= 2", "-(-a) ** -b // 3 % 4",
                           "not not (a and b)", "'x'[2] + 1e300 * inf", "f(a, b, c)"}) {
    const std::string once = normal(text);
    EXPECT_EQ(normal(once), once) << text;
  }
}

TEST(ExpressionTest, ErrorsNamePositionAndToken) {
  std::string why;
  EXPECT_EQ(error_of([] { Expression::parse("a > 1 & & b"); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("column 9"), std::string::npos) << why;
  EXPECT_NE(why.find("'&'"), std::string::npos) << why;
  EXPECT_NE(why.find("a > 1 & & b"), std::string::npos) << why;

  error_of([] { Expression::parse("a = 1"); }, &why);
  EXPECT_NE(why.find("column 3"), std::string::npos) << why;
  EXPECT_NE(why.find("'=='"), std::string::npos) << why;

  error_of([] { Expression::parse("(a > 1"); }, &why);
  EXPECT_NE(why.find("expected ')'"), std::string::npos) << why;

  error_of([] { Expression::parse("1 < a < 2"); }, &why);
  EXPECT_NE(why.find("chained"), std::string::npos) << why;

  error_of([] { Expression::parse("'abc"); }, &why);
  EXPECT_NE(why.find("unterminated"), std::string::npos) << why;

  for (const char* bad : {"", "   ", "1e", "1.5.3", "12abc", "a[1.5]", "(a+1)[0]", "a $ b",
                          "99999999999999999999", "f(1,", "a b", "and", "a[", "a[0"}) {
    EXPECT_EQ(error_of([&] { Expression::parse(bad); }), ErrorCode::invalid_argument) << bad;
  }
}

TEST(ExpressionTest, HostileNestingAndLengthAreRefused) {
  const std::string deep = std::string(100000, '(') + "a" + std::string(100000, ')');
  std::string why;
  EXPECT_EQ(error_of([&] { Expression::parse(deep); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("longer than"), std::string::npos) << why;
  const std::string nested = std::string(5000, '(') + "a" + std::string(5000, ')');
  EXPECT_EQ(error_of([&] { Expression::parse(nested); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("nested deeper"), std::string::npos) << why;
  std::string chain = "1";
  for (int i = 0; i < 1000; ++i)
    chain += "+1";
  EXPECT_EQ(error_of([&] { Expression::parse(chain); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("nested deeper"), std::string::npos) << why;
  std::string ok = "a";
  for (int i = 0; i < 200; ++i)
    ok += " & a";
  EXPECT_EQ(Expression::parse(Expression::parse(ok).normalized()).normalized(),
            Expression::parse(ok).normalized());
  // Normalized unary chains nest a parenthesis and an operator per level:
  // they parse again (found by fuzz_parse_expr).
  const std::string unary = std::string(250, '-') + "x";
  EXPECT_EQ(normal(normal(unary)), normal(unary));
  std::string minus(5000, '-');
  EXPECT_EQ(error_of([&] { Expression::parse(minus + "a"); }), ErrorCode::invalid_argument);
}

TEST(ExpressionTest, NearestNamesByEditDistance) {
  const std::vector<std::string> names = {"nJets", "nBTags_77", "met", "ht", "sqrt"};
  EXPECT_EQ(nearest_names("nJet", names).front(), "nJets");
  EXPECT_EQ(nearest_names("nBtags_77", names).front(), "nBTags_77");
  EXPECT_TRUE(nearest_names("completely_different_name", names).empty());
}

}  // namespace
}  // namespace larder::expr
