#include "larder/tree/combine.h"

#include <gtest/gtest.h>

#include <cmath>
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
    v.push_back(static_cast<std::int32_t>(p.params["seed"].get<int>() * 1000 +
                                          std::lround(p.params["step"].get<double>() * 10) * 10 +
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

}  // namespace
}  // namespace larder::tree
