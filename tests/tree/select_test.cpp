// select on a ParamSpaceGroup built in memory: values, dims, coords, missing
// states, subspaces.
#include "larder/tree/select.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>

#include "error_of.h"
#include "larder/store/store.h"
#include "store/temp_dir.h"

namespace larder::tree {
namespace {

using larder::testing::error_of;
using larder::testing::TempDir;

// seed: [1, 2, 3], step: [0.5, 2.0] (the last dim varies fastest): state
// numbers seed * 3 + step, from 04 to 11.
Group& sweep(Group& root, bool drop_last = false) {
  auto& group = root.require_group("sims", GroupClass::param_space);
  group.attrs()["pspace"] = parse_yaml(
      "!pspace\nseed: !pdim {default: 0, values: [1, 2, 3]}\n"
      "step: !pdim {default: 1.0, values: [0.5, 2.0]}\n",
      "test");
  for (int j = 1; j <= 2; ++j) {
    for (int i = 1; i <= 3; ++i) {
      if (drop_last && i == 3 && j == 2) continue;
      const int state = i * 3 + j;
      auto& data = group.require_group(fmt::format("{:02}", state)).require_group("data");
      const std::vector<double> x{1.0 * i, 10.0 * j, 100.0 * state};
      auto leaf = std::make_shared<ArrayLeaf>("x", Array::from_values<double>(x));
      leaf->attrs()["dims"] = Value::array({"time"});
      data.add(leaf);
    }
  }
  return group;
}

TEST(Select, GathersEveryStateWithDimsAndCoords) {
  Group root("dm", GroupClass::ordered);
  auto& group = sweep(root);
  const auto result = select(group, "data/x");
  EXPECT_EQ(result.dims, (std::vector<std::string>{"seed", "step", "time"}));
  ASSERT_EQ(result.values.shape(), (Shape{3, 2, 3}));
  const auto v = result.values.values<double>();
  for (int i = 1; i <= 3; ++i) {
    for (int j = 1; j <= 2; ++j) {
      const std::size_t at = static_cast<std::size_t>(((i - 1) * 2 + (j - 1)) * 3);
      EXPECT_EQ(v[at], 1.0 * i);
      EXPECT_EQ(v[at + 1], 10.0 * j);
      EXPECT_EQ(v[at + 2], 100.0 * (i * 3 + j));
    }
  }
  EXPECT_EQ(result.coords[0].dim, "seed");
  EXPECT_EQ(result.coords[0].values, Value::array({1, 2, 3}));
  const auto sub = select(group, "data/x", {.subspace = Value{{"step", Value::array({2.0})}}});
  EXPECT_EQ(sub.values.shape(), (Shape{3, 1, 3}));
  EXPECT_EQ(sub.values.values<double>()[2], 100.0 * 5);
}

TEST(Select, FieldSpecsNameTheDataDims) {
  Group root("dm", GroupClass::ordered);
  auto& group = sweep(root);
  const auto results = select_fields(
      group, {{.name = "a", .path = "data/x"}, {.name = "b", .path = "data/x", .dims = {"t"}}});
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[0].first, "a");
  EXPECT_EQ(results[0].second.dims.back(), "time");  // from the leaf's attribute
  EXPECT_EQ(results[1].second.dims, (std::vector<std::string>{"seed", "step", "t"}));
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  select_fields(group, {{.name = "c", .path = "data/x", .dims = {"t", "u"}}});
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("names 2 dims (t, u) for data of rank 1"), std::string::npos) << why;
}

TEST(Select, LeavesLazyLeavesUnloaded) {
  TempDir dir;
  {
    auto store = store::Store::open(dir / "x.h5", "w");
    store->root()
        ->create_dataset("x", {.dtype = DType::float64(), .shape = Shape{3}})
        ->write(Selection(), Array::from_values<double>(std::vector<double>{7, 8, 9}));
    store->close();
  }
  auto root = std::make_shared<Group>("dm", GroupClass::ordered);
  auto& group = root->require_group("outer").require_group("sims", GroupClass::param_space);
  group.attrs()["pspace"] = parse_yaml("!pspace\nseed: !pdim {default: 0, values: [1, 2]}\n", "t");
  std::vector<std::shared_ptr<ArrayLeaf>> leaves;
  for (const char* state : {"1", "2"}) {
    leaves.push_back(
        std::make_shared<ArrayLeaf>("x", dir / "x.h5", "x", DType::float64(), Shape{3}));
    group.require_group(state).add(leaves.back());
  }
  EXPECT_EQ(find_param_space_group(*root), &group);
  const auto result = select(group, "x");
  ASSERT_EQ(result.values.shape(), (Shape{2, 3}));
  EXPECT_EQ(result.values.values<double>()[5], 9.0);
  for (const auto& leaf : leaves)
    EXPECT_FALSE(leaf->loaded());
  EXPECT_EQ(leaves[0]->read().values<double>()[0], 7.0);
  EXPECT_FALSE(leaves[0]->loaded());
  Group plain("plain", GroupClass::ordered);
  EXPECT_EQ(find_param_space_group(plain), nullptr);
}

TEST(Select, MissingStatesConcatRaisesMergeFillsNaN) {
  Group root("dm", GroupClass::ordered);
  auto& group = sweep(root, true);
  std::string why;
  EXPECT_EQ(error_of([&] { select(group, "data/x"); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find("11"), std::string::npos) << why;
  const auto merged = select(group, "data/x", {.method = CombineMethod::merge});
  const auto v = merged.values.values<double>();
  EXPECT_TRUE(std::isnan(v[v.size() - 1]));
  EXPECT_EQ(v[0], 1.0);
  EXPECT_EQ(error_of([&] { select(group, "data/y"); }), ErrorCode::not_found);
  Group plain("plain", GroupClass::ordered);
  EXPECT_EQ(error_of([&] { select(plain, "x"); }), ErrorCode::type_mismatch);
  Group bare("bare", GroupClass::param_space);
  EXPECT_EQ(error_of([&] { select(bare, "x"); }), ErrorCode::not_found);
}

}  // namespace
}  // namespace larder::tree
