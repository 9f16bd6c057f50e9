#include "larder/tree/combine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "error_of.h"
#include "larder/store/store.h"

namespace larder::tree {
namespace {

using larder::testing::error_of;

// seed (2 values) x step (3 values): states 5, 6, 7, 9, 10, 11.
ParamSpace sweep() {
  return ParamSpace::from_value(parse_yaml("!pspace\nseed: !pdim {default: 0, values: [1, 2]}\n"
                                           "step: !pdim {default: 0.5, values: [0.1, 0.2, 0.3]}\n",
                                           "sweep.yml"),
                                "sweep.yml");
}

// The field of a state: 4 int32 values computed from its parameters.
Array field_for(const Point& p) {
  std::vector<std::int32_t> v;
  for (int i = 0; i < 4; ++i)
    v.push_back(
        static_cast<std::int32_t>(p.coords[0].get<int>() * 1000 +                     // seed
                                  std::lround(p.coords[1].get<double>() * 10) * 10 +  // step
                                  i));
  return Array::from_values<std::int32_t>(v);
}

TEST(Combine, ConcatGathersEveryStateInOrder) {
  auto c =
      combine(sweep(), "data/x", [](const Point& p) { return std::optional<Array>(field_for(p)); },
              CombineMethod::concat, {"time"});
  EXPECT_EQ(c.values.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(c.values.dtype(), DType::int32());
  EXPECT_EQ(c.dims, (std::vector<std::string>{"seed", "step", "time"}));
  ASSERT_EQ(c.coords.size(), 3u);
  EXPECT_EQ(c.coords[1].values, parse_yaml("[0.1, 0.2, 0.3]", "c"));
  EXPECT_EQ(c.coords[2].values, parse_yaml("[0, 1, 2, 3]", "c"));
  auto v = c.values.values<std::int32_t>();
  // [seed=2, step=0.2, time=3] is element (1*3 + 1)*4 + 3 = 19: 2000 + 20 + 3.
  EXPECT_EQ(v[19], 2023);
  EXPECT_EQ(v[0], 1010);
}

TEST(Combine, ConcatNamesTheMissingState) {
  std::string why;
  auto code = error_of(
      [] {
        combine(
            sweep(), "data/x",
            [](const Point& p) {
              return p.state_no == 10 ? std::nullopt : std::optional<Array>(field_for(p));
            },
            CombineMethod::concat);
      },
      &why);
  EXPECT_EQ(code, ErrorCode::not_found);
  EXPECT_NE(why.find("10"), std::string::npos) << why;
  EXPECT_NE(why.find("data/x"), std::string::npos) << why;
}

TEST(Combine, MergeFillsMissingStatesWithNan) {
  auto c = combine(
      sweep(), "data/x",
      [](const Point& p) {
        return p.state_no == 5 || p.state_no == 10 ? std::nullopt
                                                   : std::optional<Array>(field_for(p));
      },
      CombineMethod::merge);
  EXPECT_EQ(c.values.dtype(), DType::float64());  // ints promoted to hold NaN
  EXPECT_EQ(c.dims.back(), "dim_0");
  auto v = c.values.values<double>();
  EXPECT_TRUE(std::isnan(v[0]));      // state 5 is slot 0
  EXPECT_TRUE(std::isnan(v[4 * 4]));  // state 10 is slot 4
  EXPECT_EQ(v[4 * 1 + 2], 1022.0);    // state 6: seed 1, step 0.2
  EXPECT_EQ(v[4 * 5 + 3], 2033.0);
}

TEST(Combine, MergeKeepsFloatTypes) {
  auto c = combine(
      sweep(), "f",
      [](const Point& p) -> std::optional<Array> {
        if (p.state_no == 11) return std::nullopt;
        std::vector<float> v = {1.5f, 2.5f};
        return Array::from_values<float>(v);
      },
      CombineMethod::merge);
  EXPECT_EQ(c.values.dtype(), DType::float32());
  // State 11 is the last slot: elements 10 and 11.
  EXPECT_TRUE(std::isnan(c.values.values<float>()[10]));
  EXPECT_TRUE(std::isnan(c.values.values<float>()[11]));
  EXPECT_EQ(c.values.values<float>()[8], 1.5f);
}

TEST(Combine, ShapeAndDtypeMismatchesNameTheState) {
  std::string why;
  EXPECT_EQ(error_of(
                [] {
                  combine(
                      sweep(), "x",
                      [](const Point& p) -> std::optional<Array> {
                        std::vector<double> v(p.state_no == 7 ? 3 : 2, 1.0);
                        return Array::from_values<double>(v);
                      },
                      CombineMethod::merge);
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("07"), std::string::npos) << why;
  EXPECT_EQ(error_of(
                [] {
                  combine(
                      sweep(), "x",
                      [](const Point& p) -> std::optional<Array> {
                        if (p.state_no == 9) {
                          std::vector<float> v = {1.0f};
                          return Array::from_values<float>(v);
                        }
                        std::vector<double> v = {1.0};
                        return Array::from_values<double>(v);
                      },
                      CombineMethod::concat);
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("09"), std::string::npos) << why;
  EXPECT_EQ(error_of([] {
              combine(
                  sweep(), "x", [](const Point&) { return std::optional<Array>(); },
                  CombineMethod::merge);
            }),
            ErrorCode::not_found);
}

TEST(Combine, SubspaceCombinesOnlyItsStates) {
  auto sub = sweep().subspace(parse_yaml("{step: [0.3, 0.1]}", "s"), "s");
  std::vector<std::int64_t> seen;
  auto c = combine(
      sub, "x",
      [&](const Point& p) {
        seen.push_back(p.state_no);
        return std::optional<Array>(field_for(p));
      },
      CombineMethod::concat);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{5, 7, 9, 11}));
  EXPECT_EQ(c.values.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(c.coords[1].values, parse_yaml("[0.1, 0.3]", "c"));
  EXPECT_EQ(c.values.values<std::int32_t>()[4 * 3], 2030);  // seed 2, step 0.3
}

TEST(Combine, WriteCombinedStoresDimsAndCoords) {
  auto c = combine(sweep(), "x", [](const Point& p) { return std::optional<Array>(field_for(p)); },
                   CombineMethod::concat, {"time"});
  auto store = store::Store::memory();
  write_combined(*store->root(), "out/x", c);
  auto ds = store->root()->open_dataset("out/x");
  EXPECT_EQ(ds->shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(ds->read(Selection()).values<std::int32_t>()[19], 2023);
  EXPECT_EQ(ds->attrs().get_json("dims"), nlohmann::json({"seed", "step", "time"}));
  EXPECT_EQ(ds->attrs().get_json("coords__seed"), nlohmann::json({1, 2}));
  EXPECT_EQ(ds->attrs().get_json("coords__step"), nlohmann::json({0.1, 0.2, 0.3}));
  EXPECT_EQ(ds->attrs().get_json("coords_mode__step"), "values");
}

TEST(Combine, MergeChecksDtypesAfterPromotion) {
  // State 5 int32, state 6 missing (the result becomes float64), state 7
  // float32: merge refuses it as concat does, naming the state.
  std::string why;
  EXPECT_EQ(error_of(
                [] {
                  combine(
                      sweep(), "x",
                      [](const Point& p) -> std::optional<Array> {
                        if (p.state_no == 6) return std::nullopt;
                        if (p.state_no == 7) return Array::zeros(DType::float32(), Shape{2});
                        return Array::zeros(DType::int32(), Shape{2});
                      },
                      CombineMethod::merge);
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("state 07"), std::string::npos) << why;
  EXPECT_NE(why.find("int32"), std::string::npos) << why;
}

TEST(Combine, MergeOfAFieldThatCannotHoldNanNamesFieldAndMissingState) {
  // The first missing state comes after a present one: the error names the
  // field and that state (before: astype failed naming neither).
  for (const DType& dtype : {DType::complex64(), DType::string(4)}) {
    std::string why;
    EXPECT_EQ(error_of(
                  [&] {
                    combine(
                        sweep(), "data/z",
                        [&](const Point& p) -> std::optional<Array> {
                          if (p.state_no == 9) return std::nullopt;
                          return Array::zeros(dtype, Shape{2});
                        },
                        CombineMethod::merge);
                  },
                  &why),
              ErrorCode::unsupported)
        << dtype.name();
    EXPECT_NE(why.find("data/z"), std::string::npos) << why;
    EXPECT_NE(why.find("state 09"), std::string::npos) << why;
  }
}

TEST(Combine, MergeFromALaterStateKeepsEveryWrittenValue) {
  // Missing states before and after the promotion: written slots converted
  // once, unwritten ones NaN.
  auto c = combine(
      sweep(), "x",
      [](const Point& p) {
        return p.state_no == 6 || p.state_no == 11 ? std::nullopt
                                                   : std::optional<Array>(field_for(p));
      },
      CombineMethod::merge);
  EXPECT_EQ(c.values.dtype(), DType::float64());
  auto v = c.values.values<double>();
  EXPECT_EQ(v[0], 1010.0);
  EXPECT_TRUE(std::isnan(v[4]));
  EXPECT_EQ(v[4 * 2 + 1], 1031.0);
  EXPECT_EQ(v[4 * 4 + 3], 2023.0);
  EXPECT_TRUE(std::isnan(v[4 * 5]));
}

TEST(Combine, DataDimsAreCheckedAtTheFirstState) {
  // A wrong count or a duplicate name fails at once, not after every state
  // has been read.
  for (const auto& dims : {std::vector<std::string>{"a", "b"}, std::vector<std::string>{"seed"}}) {
    int calls = 0;
    std::string why;
    EXPECT_EQ(error_of(
                  [&] {
                    combine(
                        sweep(), "x",
                        [&](const Point& p) {
                          ++calls;
                          return std::optional<Array>(field_for(p));
                        },
                        CombineMethod::concat, dims);
                  },
                  &why),
              ErrorCode::invalid_argument);
    EXPECT_EQ(calls, 1) << why;
  }
  EXPECT_EQ(error_of([] {
              combine(sweep(), "x",
                      [](const Point&) {
                        return std::optional<Array>(Array::zeros(DType::int8(), Shape{2, 2}));
                      },
                      CombineMethod::concat, {"t", "t"});
            }),
            ErrorCode::invalid_argument);
}

TEST(Combine, OverGivenPointsIsTheSame) {
  const ParamSpace space = sweep();
  const auto points = space.points();
  auto get = [](const Point& p) { return std::optional<Array>(field_for(p)); };
  auto a = combine(space, points, "x", get, CombineMethod::concat);
  auto b = combine(space, "x", get, CombineMethod::concat);
  EXPECT_EQ(a.dims, b.dims);
  ASSERT_EQ(a.values.nbytes(), b.values.nbytes());
  EXPECT_EQ(std::memcmp(a.values.data(), b.values.data(), a.values.nbytes()), 0);
  // Points of another space (here: fewer) are refused, not written past the end.
  auto fewer = points;
  fewer.pop_back();
  EXPECT_EQ(error_of([&] { combine(space, fewer, "x", get, CombineMethod::concat); }),
            ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace larder::tree
