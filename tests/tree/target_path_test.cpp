// target_path format strings and path_regex, as dantro users write them.
#include "larder/tree/target_path.h"

#include <gtest/gtest.h>

#include "error_of.h"

namespace larder::tree {
namespace {

using larder::testing::error_of;

TEST(TargetPath, FieldsOfAFile) {
  const auto f = target_fields("Sims/Run_A/Data.H5", nullptr);
  EXPECT_EQ(format_target("{basename}|{ext}|{dirname}|{relpath}", f),
            "data|H5|Sims/Run_A|Sims/Run_A/Data");
  EXPECT_EQ(format_target("{relpath_cleaned}/{dirname_cleaned}", f),
            "Sims__Run_A__Data/Sims__Run_A");
  EXPECT_EQ(format_target("{{x}}/{match}", f), "{x}/data");  // no regex: basename
}

TEST(TargetPath, RegexGroupsAndNamedGroups) {
  const PathRegex regex(R"(sim_(?P<state>\d+)/(\w+)\.yml)");
  const auto f = target_fields("out/sim_012/params.yml", &regex);
  ASSERT_TRUE(f.matched);
  EXPECT_EQ(format_target("simulations/{match:}/{groups[1]}", f), "simulations/012/params");
  EXPECT_EQ(format_target("{named[state]}-{groups[0]}", f), "012-012");
  const auto miss = target_fields("other/params.yml", &regex);
  EXPECT_FALSE(miss.matched);
  EXPECT_EQ(format_target("{match}", miss), "params");
  const PathRegex whole(R"(\d+)");
  EXPECT_EQ(format_target("{match}", target_fields("a7/b", &whole)), "7");
}

TEST(TargetPath, FormatSpecs) {
  const PathRegex regex(R"(sim_(\d+))");
  const auto f = target_fields("sim_7/data.h5", &regex);
  EXPECT_EQ(format_target("{match:>03}", f), "007");
  EXPECT_EQ(format_target("{match:03}", f), "700");  // as Python formats text
  EXPECT_EQ(format_target("{match:x^03}", f), "x7x");
  EXPECT_EQ(format_target("{match:_<3}|{match:^3}", f), "7__| 7 ");
  std::string why;
  EXPECT_EQ(error_of([&] { format_target("{match:d}", f); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("format spec 'd'"), std::string::npos) << why;
}

TEST(TargetPath, BadFormatsNameTheProblem) {
  const auto f = target_fields("a.txt", nullptr);
  std::string why;
  EXPECT_EQ(error_of([&] { format_target("{nope}", f); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("unknown field 'nope'"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { format_target("{groups[0]}", f); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { format_target("{named[x]}", f); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { format_target("{basename", f); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { format_target("a}b", f); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { format_target("{}", f); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { PathRegex("sim_(\\d+"); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("RE2"), std::string::npos) << why;
}

TEST(TargetPath, RegexRunsInLinearTime) {
  // A pattern that backtracks catastrophically in re: RE2 answers at once.
  const PathRegex regex("(a+)+$");
  const std::string text = std::string(5000, 'a') + "b";
  EXPECT_FALSE(regex.search(text).has_value());
  EXPECT_TRUE(regex.search(text.substr(0, 5000)).has_value());
}

}  // namespace
}  // namespace larder::tree
