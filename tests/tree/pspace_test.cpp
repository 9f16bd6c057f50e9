#include "larder/tree/pspace.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error_of.h"

namespace larder::tree {
namespace {

using larder::testing::error_of;

ParamSpace space_of(std::string_view yaml) {
  return ParamSpace::from_value(parse_yaml(yaml, "sweep.yml"), "sweep.yml");
}

std::vector<std::int64_t> state_numbers(const ParamSpace& space) {
  std::vector<std::int64_t> out;
  for (const auto& p : space.points())
    out.push_back(p.state_no);
  return out;
}

std::vector<std::string> state_names(const ParamSpace& space) {
  std::vector<std::string> out;
  for (const auto& p : space.points())
    out.push_back(p.state_name);
  return out;
}

TEST(ParamSpace, OneDimension) {
  auto space = space_of("!pspace\nseed: !pdim {default: 0, values: [10, 20, 30]}\nsteps: 5\n");
  // One dim of 3 values: 4 states, the default being 0, so the points are 1, 2, 3.
  EXPECT_EQ(space.shape(), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(space.volume(), 3);
  EXPECT_EQ(space.max_state_no(), 3);
  EXPECT_EQ(state_numbers(space), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(state_names(space), (std::vector<std::string>{"1", "2", "3"}));
  auto points = space.points();
  EXPECT_EQ(space.params_of(points[1])["seed"], 20);
  EXPECT_EQ(space.params_of(points[1])["steps"], 5);
  EXPECT_EQ(space.default_params()["seed"], 0);
  EXPECT_EQ(space.dims()[0].name, "seed");
  // A point from elsewhere with a state the dim has not: an Error naming it
  // (was std::out_of_range).
  Point beyond = points[0];
  beyond.indices[0] = 4;
  std::string why;
  EXPECT_EQ(error_of([&] { space.params_of(beyond); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("dimension seed has no state 4"), std::string::npos) << why;
}

TEST(ParamSpace, TwoDimensionsAreMixedRadixWithTheLastFastest) {
  auto space = space_of(
      "!pspace\nb: !pdim {default: 0, values: [1, 2, 3]}\n"
      "a: !pdim {default: x, values: [u, v]}\n");
  // Sorted by path: a (2 values, 3 states), then b (3 values, 4 states).
  // state = state_a * 4 + state_b, state_a in {1, 2}, state_b in {1, 2, 3}:
  // 1*4+1=5, 6, 7, 2*4+1=9, 10, 11; max = 3*4-1 = 11, so two digits.
  ASSERT_EQ(space.dims().size(), 2u);
  EXPECT_EQ(space.dims()[0].name, "a");
  EXPECT_EQ(space.shape(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(space.max_state_no(), 11);
  EXPECT_EQ(state_numbers(space), (std::vector<std::int64_t>{5, 6, 7, 9, 10, 11}));
  EXPECT_EQ(state_names(space)[0], "05");
  EXPECT_EQ(state_name(space, 0), "00");
  auto p = space.points()[3];  // state 9: a = v, b = 1
  EXPECT_EQ(space.params_of(p)["a"], "v");
  EXPECT_EQ(space.params_of(p)["b"], 1);
  EXPECT_EQ(p.coords[0], "v");
  EXPECT_EQ(p.indices, (std::vector<std::int64_t>{2, 1}));
}

TEST(ParamSpace, ThreeDimensionsFollowOrderThenPath) {
  auto space = space_of(
      "!pspace\np: !pdim {default: 0, values: [1, 2], order: 2}\n"
      "q: !pdim {default: b, values: [a]}\n"
      "nested: {r: !pdim {default: 0, range: [4], order: 1}}\n");
  // Order: r (order 1, 5 states), p (order 2, 3 states), q (no order, 2 states).
  // Multipliers 3*2 = 6, 2, 1; max = 5*3*2-1 = 29.
  // state = 6*r + 2*p + 1*q with q = 1: r=1: 9, 11; r=2: 15, 17; r=3: 21, 23; r=4: 27, 29.
  EXPECT_EQ(space.dims()[0].name, "r");
  EXPECT_EQ(space.dims()[1].name, "p");
  EXPECT_EQ(space.max_state_no(), 29);
  EXPECT_EQ(state_numbers(space), (std::vector<std::int64_t>{9, 11, 15, 17, 21, 23, 27, 29}));
  EXPECT_EQ(space.params_of(space.points()[2])["nested"]["r"], 1);  // range [4] is 0, 1, 2, 3
  EXPECT_EQ(space.state_no({4, 2, 1}), 29);
}

TEST(ParamSpace, ValueConstructors) {
  auto space = space_of(
      "!pspace\nr: !pdim {default: 0, range: [2, 10, 3]}\n"
      "l: !pdim {default: 0, linspace: [0, 1, 5]}\n"
      "g: !pdim {default: 1, logspace: [-1, 1, 3]}\n"
      "s: !pdim {default: 0, values: [1, 2.5], as_type: int}\n");
  const auto& dims = space.dims();  // g, l, r, s
  EXPECT_EQ(dims[0].values[0].get<double>(), 0.1);
  EXPECT_EQ(dims[0].values[2].get<double>(), 10.0);
  EXPECT_EQ(dims[1].values[1].get<double>(), 0.25);
  EXPECT_EQ(dims[1].values[4].get<double>(), 1.0);
  EXPECT_EQ(dims[2].values, (std::vector<Value>{2, 5, 8}));
  EXPECT_EQ(dims[3].values, (std::vector<Value>{1, 2}));
}

TEST(ParamSpace, CoupledDimensionsFollowTheirTarget) {
  auto space = space_of(
      "!pspace\nseed: !pdim {default: 0, values: [1, 2]}\n"
      "label: !coupled-pdim {target_name: seed, values: [one, two]}\n"
      "copy: !coupled-sweep {target_name: [seed]}\n");
  ASSERT_EQ(space.dims().size(), 1u);
  ASSERT_EQ(space.coupled_dims().size(), 2u);
  auto points = space.points();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(space.params_of(points[1])["label"], "two");
  EXPECT_EQ(space.params_of(points[1])["copy"], 2);
  EXPECT_EQ(space.default_params()["copy"], 0);
  EXPECT_EQ(error_of([] {
              space_of(
                  "!pspace\na: !pdim {default: 0, values: [1]}\n"
                  "b: !coupled-pdim {target_name: nope}\n");
            }),
            ErrorCode::not_found);
  EXPECT_EQ(error_of([] {
              space_of(
                  "!pspace\na: !pdim {default: 0, values: [1]}\n"
                  "b: !coupled-pdim {target_name: a, values: [1, 2]}\n");
            }),
            ErrorCode::invalid_argument);
}

TEST(ParamSpace, CollidingNamesTakeMoreOfTheirPath) {
  auto space = space_of(
      "!pspace\nm1: {lr: !pdim {default: 0, values: [1]}}\n"
      "m2: {lr: !pdim {default: 0, values: [2]}}\n"
      "runs: [{seed: !pdim {default: 0, values: [3]}}]\n");
  std::vector<std::string> names;
  for (const auto& d : space.dims())
    names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"m1.lr", "m2.lr", "runs.0.seed"}));
  EXPECT_EQ(space.params_of(space.points()[0])["runs"][0]["seed"], 3);
}

TEST(ParamSpace, SubspaceKeepsStateNumbers) {
  auto space = space_of(
      "!pspace\na: !pdim {default: x, values: [u, v]}\n"
      "b: !pdim {default: 0, values: [0.1, 0.2, 0.3]}\n");
  // Full: 5, 6, 7, 9, 10, 11 (state = 4 a + b).
  auto by_value = space.subspace(parse_yaml("{a: v}", "s"), "s");
  EXPECT_EQ(state_numbers(by_value), (std::vector<std::int64_t>{9, 10, 11}));
  EXPECT_EQ(by_value.shape(), (std::vector<std::int64_t>{1, 3}));
  auto by_index = space.subspace(parse_yaml("{b: {idx: [1, 3]}}", "s"), "s");
  EXPECT_EQ(state_numbers(by_index), (std::vector<std::int64_t>{5, 7, 9, 11}));
  auto by_loc = space.subspace(parse_yaml("{b: {loc: [0.3]}, a: [u]}", "s"), "s");
  EXPECT_EQ(state_numbers(by_loc), (std::vector<std::int64_t>{7}));
  // The masks round-trip through to_value().
  auto again = ParamSpace::from_value(parse_yaml(to_yaml(by_index.to_value()), "r"), "r");
  EXPECT_EQ(state_numbers(again), (std::vector<std::int64_t>{5, 7, 9, 11}));

  std::string why;
  EXPECT_EQ(error_of([&] { space.subspace(parse_yaml("{b: 0.5}", "s"), "s"); }, &why),
            ErrorCode::not_found);
  EXPECT_NE(why.find("0.5"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { space.subspace(parse_yaml("{c: 1}", "s"), "s"); }),
            ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { space.subspace(parse_yaml("{b: {idx: 0}}", "s"), "s"); }),
            ErrorCode::out_of_range);
}

TEST(ParamSpace, MalformedDimensionsAreErrors) {
  std::string why;
  EXPECT_EQ(error_of([] { space_of("!pspace\na: !pdim {default: 0}\n"); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("no values"), std::string::npos) << why;
  EXPECT_EQ(
      error_of([] { space_of("!pspace\na: !pdim {default: 0, values: [1], range: [2]}\n"); }, &why),
      ErrorCode::invalid_argument);
  EXPECT_NE(why.find("values and range"), std::string::npos) << why;
  EXPECT_EQ(error_of([] { space_of("!pspace\na: !pdim {default: 0, values: [1], colour: red}\n"); },
                     &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("colour"), std::string::npos) << why;
  EXPECT_EQ(error_of([] { space_of("!pspace\na: !pdim {default: 0, values: []}\n"); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { space_of("!pspace\na: !pdim {default: 0, range: [1, 5, 0]}\n"); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { space_of("!pspace\na: !pdim {values: [1]}\n"); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { space_of("[1, 2]\n"); }), ErrorCode::invalid_argument);
  // A typo must not fill memory: at most a million values per dim.
  EXPECT_EQ(
      error_of([&] { space_of("!pspace\na: !pdim {default: 0, range: [1000000000]}\n"); }, &why),
      ErrorCode::invalid_argument);
  EXPECT_NE(why.find("too long"), std::string::npos) << why;
}

TEST(ParamSpace, WithoutDimensionsHasOnePoint) {
  auto space = space_of("!pspace\na: 1\n");
  EXPECT_EQ(space.volume(), 0);
  auto points = space.points();
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].state_no, 0);
  EXPECT_EQ(space.params_of(points[0])["a"], 1);
}

TEST(ParamSpace, CoupledTargetIsTheDimOfThatName) {
  // The reviewer's case: q is named "p", and p's dotted path is "p" too. The
  // target was found by name in from_value but by dim_index (paths too,
  // first hit) in points(): std::out_of_range there.
  auto space = space_of(
      "!pspace\nq: !pdim {name: p, default: 0, values: [1, 2]}\n"
      "p: !pdim {default: 0, values: [10, 20, 30]}\n"
      "c: !coupled-pdim {target_name: p, values: [a, b]}\n");
  ASSERT_EQ(space.coupled_dims().size(), 1u);
  const ParamDim& c = space.coupled_dims()[0];
  ASSERT_TRUE(c.coupled());
  EXPECT_EQ(space.dims()[*c.target].name, "p");
  EXPECT_EQ(space.dims()[*c.target].values.size(), 2u);
  EXPECT_EQ(space.dim_index("p"), *c.target);  // exact names before paths
  auto points = space.points();
  ASSERT_EQ(points.size(), 6u);
  for (const auto& point : points) {
    const Value params = space.params_of(point);
    EXPECT_EQ(params["c"], params["q"] == 1 ? "a" : "b") << params.dump();
  }
  auto sub = space.subspace(parse_yaml("{p: 2}", "s"), "s");
  for (const auto& point : sub.points())
    EXPECT_EQ(sub.params_of(point)["c"], "b");
}

TEST(ParamSpace, LongDigitKeysSortWithoutOverflow) {
  // std::stoull threw std::out_of_range on a key of more than 20 digits.
  auto space = space_of(
      "!pspace\n\"123456789012345678901234567890\": !pdim {default: 0, values: [1]}\n"
      "\"99\": !pdim {default: 0, values: [2]}\n\"0100\": !pdim {default: 0, values: [3]}\n");
  ASSERT_EQ(space.dims().size(), 3u);
  EXPECT_EQ(space.dims()[0].path[0], "99");
  EXPECT_EQ(space.dims()[1].path[0], "0100");
  EXPECT_EQ(space.dims()[2].path[0], "123456789012345678901234567890");
}

TEST(ParamSpace, AsTypeAppliesToTheDefault) {
  auto space = space_of("!pspace\na: !pdim {default: 1.5, values: [2.5, 3], as_type: int}\n");
  EXPECT_EQ(space.dims()[0].default_value, 1);
  EXPECT_TRUE(space.dims()[0].default_value.is_number_integer());
  EXPECT_EQ(space.default_params()["a"], 1);
}

TEST(ParamSpace, CoupledNullDefaultIsTheTargetsDefault) {
  auto space = space_of(
      "!pspace\nseed: !pdim {default: 7, values: [1, 2]}\n"
      "label: !coupled-pdim {target_name: seed, default: null, values: [one, two]}\n"
      "own: !coupled-pdim {target_name: seed, default: x, values: [one, two]}\n");
  EXPECT_EQ(space.default_params()["label"], 7);
  EXPECT_EQ(space.default_params()["own"], "x");
}

TEST(ParamSpace, DuplicateValuesAreRefusedUnlessAssertUniqueIsFalse) {
  std::string why;
  EXPECT_EQ(error_of([] { space_of("!pspace\na: !pdim {default: 0, values: [1, 2, 1]}\n"); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("twice"), std::string::npos) << why;
  EXPECT_NE(why.find("sweep.yml"), std::string::npos) << why;
  // Python's ==: 1 and 1.0 are the same value.
  EXPECT_EQ(error_of([] { space_of("!pspace\na: !pdim {default: 0, values: [1, 1.0]}\n"); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { space_of("!pspace\na: !pdim {default: 0, values: [true, 2, 1]}\n"); }),
            ErrorCode::invalid_argument);
  // NaN equals nothing; different strings and numbers are different.
  EXPECT_EQ(
      space_of("!pspace\na: !pdim {default: 0, values: [.nan, .nan, '1', 1, 1.5]}\n").volume(), 5);
  // Checked by key, not pairwise: a million values are read at once.
  EXPECT_EQ(space_of("!pspace\na: !pdim {default: 0, range: [1000000]}\n").volume(), 1'000'000);
  auto space =
      space_of("!pspace\na: !pdim {default: 0, values: [1, 2, 1], assert_unique: false}\n");
  EXPECT_EQ(space.volume(), 3);
  EXPECT_EQ(error_of([] {
              space_of("!pspace\na: !pdim {default: 0, values: [1], assert_unique: maybe}\n");
            }),
            ErrorCode::invalid_argument);
}

TEST(ParamSpace, RangeNearInt64LimitsDoesNotOverflow) {
  // v += step stepped past INT64_MAX (undefined behaviour) and a long range
  // built a million values before failing.
  auto space = space_of(
      "!pspace\na: !pdim {default: 0, range: [9223372036854775800, 9223372036854775807, 3]}\n"
      "b: !pdim {default: 0, range: [-9223372036854775801, -9223372036854775808, -4]}\n");
  EXPECT_EQ(space.dims()[0].values,
            (std::vector<Value>{9223372036854775800, 9223372036854775803, 9223372036854775806}));
  EXPECT_EQ(space.dims()[1].values, (std::vector<Value>{std::int64_t{-9223372036854775807} + 6,
                                                        std::int64_t{-9223372036854775807} + 2}));
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  space_of(
                      "!pspace\na: !pdim {default: 0, range: [-9223372036854775808, "
                      "9223372036854775807]}\n");
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("too long"), std::string::npos) << why;
}

TEST(ParamSpace, FindParamSpaceByKeyOrFirstInTheDocument) {
  const Value doc = parse_yaml(
      "meta: {a: 1}\nruns:\n  - x: 1\n  - sweep: !pspace {s: !pdim {default: 0, values: [1]}}\n",
      "doc.yml");
  std::string where;
  const Value* found = find_param_space(doc, "", "doc.yml", &where);
  ASSERT_NE(found, nullptr);
  EXPECT_TRUE(is_param_space(*found));
  EXPECT_EQ(where, "runs/1/sweep");
  EXPECT_EQ(find_param_space(doc, "meta", "doc.yml"), &doc["meta"]);
  EXPECT_EQ(find_param_space(doc, where, "doc.yml"), found);  // `where` is a key
  EXPECT_EQ(find_param_space(parse_yaml("{a: 1}", "p"), "", "p"), nullptr);
  std::string why;
  EXPECT_EQ(error_of([&] { find_param_space(doc, "meta/b", "doc.yml"); }, &why),
            ErrorCode::not_found);
  EXPECT_NE(why.find("doc.yml"), std::string::npos) << why;
  EXPECT_NE(why.find("'b'"), std::string::npos) << why;
}

}  // namespace
}  // namespace larder::tree
