#include "larder/core/selection.h"

#include <gtest/gtest.h>

#include "larder/core/error.h"

namespace larder {
namespace {

// Source indices a resolved axis visits, in order.
std::vector<std::int64_t> visited(const ResolvedAxis& a) {
  std::vector<std::int64_t> out;
  for (std::int64_t k = 0; k < a.count; ++k)
    out.push_back(a.source_index(k));
  return out;
}

std::vector<std::int64_t> one_axis(const char* text, std::int64_t extent) {
  return visited(Selection::parse(text).resolve(Shape{extent}).at(0));
}

using V = std::vector<std::int64_t>;

TEST(Selection, SlicesFollowNumpy) {
  EXPECT_EQ(one_axis("2:5", 10), (V{2, 3, 4}));
  EXPECT_EQ(one_axis("::3", 10), (V{0, 3, 6, 9}));
  EXPECT_EQ(one_axis("-3:", 10), (V{7, 8, 9}));
  EXPECT_EQ(one_axis("::-1", 4), (V{3, 2, 1, 0}));
  EXPECT_EQ(one_axis("8:2:-2", 10), (V{8, 6, 4}));
  EXPECT_EQ(one_axis("-1:-4:-1", 10), (V{9, 8, 7}));
  EXPECT_EQ(one_axis(":100", 5), (V{0, 1, 2, 3, 4}));  // stop clamps
  EXPECT_EQ(one_axis("7:3", 10), V{});                 // empty, not an error
  EXPECT_EQ(one_axis("-100:2", 5), (V{0, 1}));
  EXPECT_EQ(one_axis("10::-3", 5), (V{4, 1}));
  EXPECT_EQ(one_axis(":", 0), V{});
}

TEST(Selection, IndexListsKeepOrderAndRepeats) {
  EXPECT_EQ(one_axis("[5, 1, 5, -1]", 10), (V{5, 1, 5, 9}));
  EXPECT_EQ(one_axis("[]", 10), V{});
}

TEST(Selection, SingleIndexDropsTheAxis) {
  const Selection s = Selection::parse("3, 1:3");
  EXPECT_EQ(s.result_shape(Shape{5, 4}), (Shape{2}));
  EXPECT_EQ(Selection::parse("-1").result_shape(Shape{5, 4}), (Shape{4}));
  EXPECT_EQ(Selection::parse("1, 2").result_shape(Shape{5, 4}), Shape{});
}

TEST(Selection, EllipsisAndMissingAxesMeanEverything) {
  EXPECT_EQ(Selection::parse("..., 0").result_shape(Shape{2, 3, 4}), (Shape{2, 3}));
  EXPECT_EQ(Selection::parse("1, ...").result_shape(Shape{2, 3, 4}), (Shape{3, 4}));
  EXPECT_EQ(Selection::parse("0:1").result_shape(Shape{2, 3, 4}), (Shape{1, 3, 4}));
  EXPECT_EQ(Selection::parse("").result_shape(Shape{2, 3}), (Shape{2, 3}));
  EXPECT_EQ(Selection::parse("...").result_shape(Shape{}), Shape{});
}

TEST(Selection, MasksSelectTrueElements) {
  const Selection s{AxisSelection::mask({true, false, true, true})};
  EXPECT_EQ(visited(s.resolve(Shape{4})[0]), (V{0, 2, 3}));
}

TEST(Selection, OutOfRangeNamesAxisIndexAndExtent) {
  try {
    Selection::parse(":, 7").resolve(Shape{3, 5});
    FAIL() << "accepted index 7 on an axis of 5";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::out_of_range);
    EXPECT_NE(std::string(e.what()).find("index 7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("axis 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("extent 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Selection::parse("[0, -6]").resolve(Shape{5}), Error);
  EXPECT_THROW(Selection::parse("0, 0, 0").resolve(Shape{5, 5}), Error);
  EXPECT_THROW(Selection({AxisSelection::mask({true})}).resolve(Shape{2}), Error);
  EXPECT_THROW(Selection::parse("..., ...").resolve(Shape{2}), Error);
}

TEST(Selection, MalformedTextIsRejectedWithPosition) {
  for (const char* text :
       {"1:2:3:4", "::0", "[1, 2", "a", "1 2", "[1,,2]", "99999999999999999999", ",", "1:x"}) {
    try {
      Selection::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << text;
      EXPECT_NE(std::string(e.what()).find("position"), std::string::npos) << e.what();
    }
  }
}

TEST(Selection, TextRoundTrips) {
  for (const char* text : {"1:5:2", "[3, 1]", "...", "::-1", "4"}) {
    EXPECT_EQ(Selection::parse(text).to_string(), text);
  }
}

}  // namespace
}  // namespace larder
