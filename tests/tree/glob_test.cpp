// Globbing for load configs: Python glob's patterns, confined to base_path.
#include "larder/tree/glob.h"

#include <gtest/gtest.h>

#include <fstream>

#include "error_of.h"
#include "store/temp_dir.h"

namespace larder::tree {
namespace {

using larder::testing::error_of;
using larder::testing::TempDir;
namespace fs = std::filesystem;

void touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "x";
}

TEST(Glob, SegmentPatterns) {
  EXPECT_TRUE(glob_segment_match("sim_*", "sim_01"));
  EXPECT_TRUE(glob_segment_match("*.h5", "data.h5"));
  EXPECT_FALSE(glob_segment_match("*.h5", "data.h5x"));
  EXPECT_TRUE(glob_segment_match("sim_??", "sim_12"));
  EXPECT_FALSE(glob_segment_match("sim_??", "sim_123"));
  EXPECT_TRUE(glob_segment_match("sim_[0-9]*", "sim_3x"));
  EXPECT_FALSE(glob_segment_match("sim_[!0-9]*", "sim_3x"));
  EXPECT_TRUE(glob_segment_match("[ab", "[ab"));  // an unclosed class is literal
  EXPECT_TRUE(glob_match("**/data.h5", "data.h5"));
  EXPECT_TRUE(glob_match("**/data.h5", "a/b/data.h5"));
  EXPECT_FALSE(glob_match("*/data.h5", "a/b/data.h5"));
}

TEST(Glob, ManyStarsMatchInPolynomialTime) {
  // Backtracking into every star took 40^9 steps here; the last-star match
  // is O(pattern * name).
  const std::string name(40, 'a');
  EXPECT_FALSE(glob_segment_match("*a*a*a*a*a*a*a*a*a*b", name));
  EXPECT_TRUE(glob_segment_match("*a*a*a*a*a*a*a*a*a*b", name + "b"));
  EXPECT_TRUE(glob_segment_match("*a*?[ab]*", "xxaxbx"));
  EXPECT_FALSE(glob_segment_match("*a*?[!ab]", "xxaxb"));
  EXPECT_TRUE(glob_segment_match("**", ""));
  EXPECT_FALSE(glob_segment_match("?*", ""));
  EXPECT_TRUE(has_magic("a[b"));
  EXPECT_FALSE(has_magic("a.b"));
  EXPECT_FALSE(glob_match("/a", "a"));  // absolute patterns match nothing
}

TEST(Glob, ManyDoubleStarsMatchInPolynomialTime) {
  // Trying every split of the path between 30 `**` took C(60, 30) steps;
  // matching row by row is O(pattern * path).
  std::string pattern;
  std::string path;
  for (int i = 0; i < 30; ++i) {
    pattern += "**/";
    path += (i == 0 ? "" : "/") + std::string("a");
  }
  EXPECT_FALSE(glob_match(pattern + "b", path));
  EXPECT_TRUE(glob_match(pattern + "b", path + "/b"));
  EXPECT_TRUE(glob_match(pattern + "a", path));
  // `**` matches no hidden segment, and zero or more segments.
  EXPECT_FALSE(glob_match("**/b", ".a/b"));
  EXPECT_TRUE(glob_match("**/b", "a/./b"));  // "." segments are dropped
  EXPECT_FALSE(glob_match("**/b", "a/.b/b"));
  EXPECT_TRUE(glob_match(".a/**", ".a"));
  EXPECT_TRUE(glob_match("a/**/c", "a/x/y/c"));
  EXPECT_FALSE(glob_match("a/**", "b/x"));
}

TEST(Glob, MatchesSortedAndRecursive) {
  TempDir dir;
  for (const char* f : {"sim_1/data.h5", "sim_0/data.h5", "sim_0/params.yml", "pspace.yml",
                        "deep/a/b/data.h5", ".hidden/data.h5", "sim_0/.data.h5"})
    touch(dir / f);
  EXPECT_EQ(glob_files(dir.path(), {"sim_*/data.h5"}),
            (std::vector<std::string>{"sim_0/data.h5", "sim_1/data.h5"}));
  EXPECT_EQ(glob_files(dir.path(), {"**/data.h5"}),
            (std::vector<std::string>{"deep/a/b/data.h5", "sim_0/data.h5", "sim_1/data.h5"}));
  EXPECT_EQ(glob_files(dir.path(), {"pspace.yml", "sim_0/*.yml", "pspace.yml"}),
            (std::vector<std::string>{"pspace.yml", "sim_0/params.yml"}));
  EXPECT_EQ(glob_files(dir.path(), {"sim_*"}), std::vector<std::string>{});
  EXPECT_EQ(
      glob_files(dir.path(), {"sim_*"}, {.include_files = false, .include_directories = true}),
      (std::vector<std::string>{"sim_0", "sim_1"}));
  EXPECT_EQ(glob_files(dir.path(), {"sim_*/data.h5"}, {.ignore = {"sim_1/data.h5"}}),
            (std::vector<std::string>{"sim_0/data.h5"}));
  EXPECT_TRUE(glob_files(dir.path(), {"missing/*.h5"}).empty());
}

TEST(Glob, CannotEscapeTheBasePath) {
  TempDir dir;
  touch(dir / "outside/secret.yml");
  touch(dir / "base/in.yml");
  const fs::path base = dir / "base";
  std::string why;
  EXPECT_EQ(error_of([&] { glob_files(base, {"../outside/*.yml"}); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("'..'"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { glob_files(base, {"a/../../outside/secret.yml"}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { glob_files(base, {(dir / "outside/*.yml").string()}); }),
            ErrorCode::invalid_argument);
  fs::create_directory_symlink(dir / "outside", base / "link");
  EXPECT_EQ(error_of([&] { glob_files(base, {"link/*.yml"}); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("outside base path"), std::string::npos) << why;
  // `**` does not walk into symlinked directories.
  EXPECT_EQ(glob_files(base, {"**/*.yml"}), std::vector<std::string>{"in.yml"});
  EXPECT_EQ(error_of([&] { glob_files(dir / "nope", {"*"}); }), ErrorCode::not_found);
}

}  // namespace
}  // namespace larder::tree
