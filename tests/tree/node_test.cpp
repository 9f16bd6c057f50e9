// The data tree: path access, membership, group classes and printing.
#include "larder/tree/node.h"

#include <gtest/gtest.h>

#include "error_of.h"
#include "larder/tree/print.h"

namespace larder::tree {
namespace {

using larder::testing::error_of;

std::string fmt_state(int state) {
  return (state < 10 ? "0" : "") + std::to_string(state);
}

std::shared_ptr<Group> sample_tree() {
  auto root = std::make_shared<Group>("dm", GroupClass::ordered);
  auto& sims = root->require_group("simulations", GroupClass::param_space);
  for (int state : {5, 6, 7}) {
    auto& state_group = sims.require_group(fmt_state(state));
    state_group.add(std::make_shared<MappingLeaf>("params", Value{{"seed", state}}));
    auto& data = state_group.require_group("data");
    data.add(std::make_shared<ArrayLeaf>("x", Array::zeros(DType::float64(), Shape{4})));
  }
  return root;
}

TEST(Node, PathAccessFollowsDotsAndSkipsEmptySegments) {
  auto root = sample_tree();
  Node& x = root->at("simulations/06/data/x");
  EXPECT_EQ(x.path(), "/dm/simulations/06/data/x");
  EXPECT_EQ(&root->at("simulations//06/./data/../data/x"), &x);
  EXPECT_EQ(&root->group("simulations/06/data").at("../params"),
            &root->at("simulations/06/params"));
  EXPECT_EQ(root->at("simulations/05").class_name(), "ParamSpaceStateGroup");
  EXPECT_EQ(root->at("simulations/05/data").class_name(), "OrderedDataGroup");
  EXPECT_TRUE(root->contains("simulations/07/params"));
  EXPECT_FALSE(root->contains("simulations/08"));
  EXPECT_FALSE(root->contains("/simulations"));
}

TEST(Node, MissingKeyListsTheKeysThatExist) {
  auto root = sample_tree();
  std::string why;
  EXPECT_EQ(error_of([&] { root->at("simulations/06/dat"); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find("'dat'"), std::string::npos) << why;
  EXPECT_NE(why.find("params, data"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { root->at("/simulations"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root->at(".."); }), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { root->at("simulations/05/data/x/y"); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find("NumpyDataContainer"), std::string::npos) << why;
}

TEST(Node, GroupsRefuseBadNamesAndDuplicates) {
  auto root = sample_tree();
  auto& sims = root->group("simulations");
  EXPECT_EQ(error_of([&] { sims.require_group("abc"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root->add(std::make_shared<StringLeaf>("simulations", "x")); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root->add(std::make_shared<StringLeaf>("a/b", "x")); }),
            ErrorCode::invalid_argument);
  root->add(std::make_shared<StringLeaf>("log", "one"));
  root->add(std::make_shared<StringLeaf>("log", "two"), true);
  EXPECT_EQ(static_cast<StringLeaf&>(root->at("log")).text(), "two");
  root->remove("log");
  EXPECT_FALSE(root->contains("log"));
  EXPECT_EQ(error_of([&] { root->require_group("simulations/05/params/x"); }),
            ErrorCode::type_mismatch);
}

TEST(Node, SharedAtTheRootIsTheRoot) {
  const auto root = sample_tree();
  EXPECT_EQ(root->shared_at("simulations/.."), root);
  EXPECT_EQ(root->shared_at(""), root);
  EXPECT_EQ(root->shared_at("simulations/05/../06/data")->path(), "/dm/simulations/06/data");
}

TEST(Node, RefusedDuplicateKeepsItsParent) {
  const auto root = sample_tree();
  auto stray = std::make_shared<Group>("simulations", GroupClass::ordered);
  EXPECT_EQ(error_of([&] { root->add(stray); }), ErrorCode::invalid_argument);
  EXPECT_EQ(stray->parent(), nullptr);
  EXPECT_EQ(stray->path(), "/simulations");
  auto& sims = root->group("simulations");
  EXPECT_EQ(error_of([&] { sims.check_member_name("x"); }), ErrorCode::invalid_argument);
  sims.check_member_name("x", GroupClass::ordered);
}

TEST(Node, TimeSeriesGroupsKeepTimeOrder) {
  Group series("energy", GroupClass::time_series);
  for (int t : {10, 2, 0, 7})
    series.add(std::make_shared<ArrayLeaf>(std::to_string(t), Array::zeros(DType::int32(), {t})));
  EXPECT_EQ(series.times(), (std::vector<std::int64_t>{0, 2, 7, 10}));
  EXPECT_EQ(series.at("7").class_name(), "XrDataContainer");
  EXPECT_EQ(series.at("7").info(), "int32, (dim_0: 7), 0 attributes");
  EXPECT_EQ(error_of([&] { series.add(std::make_shared<StringLeaf>("t1", "")); }),
            ErrorCode::invalid_argument);
}

TEST(Print, FullTreeShowsEveryNodeWithClassAndInfo) {
  auto root = sample_tree();
  const std::string text = tree_text(*root, {.title = "DataManager 'dm'"});
  EXPECT_EQ(text.substr(0, text.find('\n')), "Tree of DataManager 'dm', 1 member, 0 attributes");
  EXPECT_NE(text.find(" └─ simulations"), std::string::npos) << text;
  EXPECT_NE(text.find("<ParamSpaceGroup, 3 members, 0 attributes>"), std::string::npos);
  EXPECT_NE(text.find("    └┬ 05"), std::string::npos) << text;
  EXPECT_NE(text.find("     └ 07"), std::string::npos) << text;
  EXPECT_NE(text.find("<NumpyDataContainer, float64, shape (4,), 0 attributes>"),
            std::string::npos);
  EXPECT_NE(text.find("<MutableMappingContainer, 0 attributes>"), std::string::npos);
  // 1 title + 1 simulations + 3 x (state, params, data, x).
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 14);
}

TEST(Print, CondensedTreeElidesLongMemberLists) {
  Group root("dm", GroupClass::ordered);
  auto& series = root.require_group("a/b/c/energy", GroupClass::time_series);
  for (int t = 0; t < 31; ++t)
    series.add(std::make_shared<ArrayLeaf>(std::to_string(t), Array::zeros(DType::float64(), {3})));
  const std::string text = condensed_tree_text(root);
  EXPECT_NE(text.find("... (27 more) ..."), std::string::npos) << text;
  EXPECT_NE(text.find("└ 30"), std::string::npos) << text;
  EXPECT_EQ(text.find("├ 15 "), std::string::npos) << text;
  const std::string full = tree_text(root);
  EXPECT_NE(full.find("├ 15 "), std::string::npos) << full;
}

}  // namespace
}  // namespace larder::tree
