// Load config entries and the DataManager that runs them, on real files.
#include "larder/tree/load_config.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>

#include "error_of.h"
#include "larder/store/store.h"
#include "larder/tree/data_manager.h"
#include "store/temp_dir.h"

namespace larder::tree {
namespace {

using larder::testing::error_of;
using larder::testing::TempDir;
namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Per run sim_<i>/data.h5 (random_walk, abm/energy/<t> as a time series),
// sim_<i>/sim.log and sim_<i>/meta.json.
void write_runs(const fs::path& dir, int runs) {
  for (int i = 0; i < runs; ++i) {
    const fs::path run = dir / fmt::format("sim_{:02}", i);
    fs::create_directories(run);
    auto store = store::Store::open(run / "data.h5", "w");
    auto root = store->root();
    auto walk = root->create_dataset("random_walk", {.dtype = DType::float64(), .shape = Shape{5}});
    const std::vector<double> values{0, 1.0 * i, 2, 3, 4};
    walk->write(Selection(), Array::from_values<double>(values));
    auto energy = root->require_group("abm/energy");
    energy->attrs().set("content", "time_series");
    for (int t : {0, 1, 10})
      energy->create_dataset(std::to_string(t), {.dtype = DType::int32(), .shape = Shape{2}});
    store->close();
    write(run / "sim.log", fmt::format("run {}\n", i));
    write(run / "meta.json", fmt::format(R"J({{"run": {}, "b": [1, 2]}})J", i));
  }
}

Value cfg_of(const std::string& json) {
  return Value::parse(json);
}

TEST(LoadConfig, EntriesAndDefaults) {
  const auto entries = parse_load_config(cfg_of(R"J({
    "logs": {"loader": "text", "glob_str": "sim_*/sim.log", "required": true,
             "path_regex": "sim_(\\d+)/sim.log", "target_path": "sims/{match:}/log",
             "exists_action": "skip", "parallel": {"enabled": true, "min_files": 1}},
    "one": {"loader": "json", "glob_str": "meta.json", "target_group": "meta"},
    "many": {"loader": "hdf5", "glob_str": ["a/*.h5", "b/*.h5"], "enable_mapping": true,
             "map_from_attr": "content", "enabled": false}
  })J"),
                                         "test");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "logs");
  EXPECT_TRUE(entries[0].required);
  EXPECT_EQ(entries[0].exists_action, ExistsAction::skip);
  EXPECT_TRUE(entries[0].parallel.enabled);
  EXPECT_EQ(entries[0].parallel.min_files, 1);
  EXPECT_EQ(entries[0].target_format(), "sims/{match:}/log");
  EXPECT_EQ(entries[1].target_format(), "meta/one");
  EXPECT_EQ(entries[2].target_format(), "many/{basename}");
  EXPECT_FALSE(entries[2].enabled);
  EXPECT_EQ(entries[2].loader_options["map_from_attr"], "content");
}

TEST(LoadConfig, BadEntriesNameEntryAndKey) {
  std::string why;
  const auto bad = [&](const std::string& json) {
    return error_of([&] { parse_load_config(cfg_of(json), "cfg.yml"); }, &why);
  };
  EXPECT_EQ(bad(R"J({"x": {"glob_str": "*"}})J"), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("'loader'"), std::string::npos) << why;
  EXPECT_EQ(bad(R"J({"x": {"loader": "text"}})J"), ErrorCode::invalid_argument);
  EXPECT_EQ(bad(R"J({"x": {"loader": "nope", "glob_str": "*"}})J"), ErrorCode::not_found);
  EXPECT_EQ(bad(R"J({"x": {"loader": "text", "glob_str": "*", "enable_mapping": true}})J"),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("'enable_mapping'"), std::string::npos) << why;
  EXPECT_NE(why.find("entry 'x'"), std::string::npos) << why;
  EXPECT_EQ(bad(R"J({"x": {"loader": "text", "glob_str": "*", "required": "yes"}})J"),
            ErrorCode::invalid_argument);
  EXPECT_EQ(bad(R"J({"x": {"loader": "text", "glob_str": "*", "exists_action": "merge"}})J"),
            ErrorCode::invalid_argument);
  EXPECT_EQ(bad(R"J({"x": {"loader": "text", "glob_str": "*", "target_path": "a",
                          "target_group": "b"}})J"),
            ErrorCode::invalid_argument);
  EXPECT_EQ(bad(R"J({"x": 3})J"), ErrorCode::invalid_argument);
  EXPECT_EQ(bad(R"([1])"), ErrorCode::invalid_argument);
}

TEST(DataManager, LoadsFilesIntoTheTree) {
  TempDir dir;
  write_runs(dir.path(), 3);
  GroupMap map{{"time_series", GroupClass::time_series}};
  DataManager dm(dir.path(), {.name = "sweep",
                              .out_dir = std::nullopt,
                              .create_groups = {{"sims", GroupClass::param_space}},
                              .group_map = map});
  dm.load_from_cfg(cfg_of(R"J({
    "data": {"loader": "hdf5", "glob_str": "sim_*/data.h5", "required": true,
             "path_regex": "sim_(\\d+)/data.h5", "target_path": "sims/{match}/data",
             "enable_mapping": true, "map_from_attr": "content", "parallel": true},
    "log": {"loader": "text", "glob_str": "sim_*/sim.log", "path_regex": "sim_(\\d+)",
            "target_path": "sims/{match}/log"},
    "meta": {"loader": "json", "glob_str": "**/meta.json", "target_path": "meta/{dirname}"}
  })J"));
  EXPECT_TRUE(dm.warnings().empty());
  EXPECT_EQ(dm["sims"].class_name(), "ParamSpaceGroup");
  EXPECT_EQ(dm["sims/01"].class_name(), "ParamSpaceStateGroup");
  auto& walk = dynamic_cast<ArrayLeaf&>(dm["sims/02/data/random_walk"]);
  EXPECT_EQ(walk.data().values<double>()[1], 2.0);
  auto& energy = dm.root().group("sims/00/data/abm/energy");
  EXPECT_EQ(energy.class_name(), "TimeSeriesGroup");
  EXPECT_EQ(energy.times(), (std::vector<std::int64_t>{0, 1, 10}));
  EXPECT_EQ(energy.attrs()["content"], "time_series");
  EXPECT_EQ(dynamic_cast<StringLeaf&>(dm["sims/01/log"]).text(), "run 1\n");
  EXPECT_EQ(dynamic_cast<MappingLeaf&>(dm["meta/sim_02"]).at("run"), 2);
  EXPECT_EQ(dm["sims/01/log"].attrs()["filepath"], (dir / "sim_01/sim.log").string());
  const std::string tree = dm.tree_condensed();
  EXPECT_NE(tree.find("Tree of DataManager 'sweep', 2 members"), std::string::npos) << tree;
  EXPECT_NE(tree.find("<TimeSeriesGroup, 3 members, 1 attribute>"), std::string::npos) << tree;
}

TEST(DataManager, ExistsActions) {
  TempDir dir;
  write_runs(dir.path(), 2);
  DataManager dm(dir.path(), {.out_dir = std::nullopt});
  const Value entry = cfg_of(R"J({"loader": "text", "glob_str": "sim_*/sim.log",
                                 "path_regex": "sim_(\\d+)", "target_path": "logs/{match}"})J");
  dm.load("logs", entry);
  std::string why;
  EXPECT_EQ(error_of([&] { dm.load("logs", entry); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("already exists"), std::string::npos) << why;
  dynamic_cast<Group&>(dm["logs"]).remove("01");
  dm.load("logs", entry, ExistsAction::skip);
  EXPECT_TRUE(dm.contains("logs/01"));
  EXPECT_EQ(dm.warnings().size(), 1u);
  Value overwrite = entry;
  overwrite["exists_action"] = "overwrite_nowarn";
  write(dir / "sim_00/sim.log", "new\n");
  dm.load("logs", overwrite);
  EXPECT_EQ(dynamic_cast<StringLeaf&>(dm["logs/00"]).text(), "new\n");
  EXPECT_EQ(dm.warnings().size(), 1u);
}

TEST(DataManager, RequiredAndMissingFiles) {
  TempDir dir;
  write_runs(dir.path(), 1);
  DataManager dm(dir.path(), {.out_dir = std::nullopt});
  EXPECT_EQ(error_of([&] {
              dm.load("x",
                      cfg_of(R"J({"loader": "text", "glob_str": "*.nope", "required": true})J"));
            }),
            ErrorCode::not_found);
  dm.load("x", cfg_of(R"J({"loader": "text", "glob_str": "*.nope"})J"));
  EXPECT_EQ(dm.warnings().size(), 1u);
  // A file that fails to load: an error when required, a warning otherwise.
  write(dir / "bad/meta.json", "{not json");
  EXPECT_EQ(
      error_of([&] {
        dm.load("j", cfg_of(R"J({"loader": "json", "glob_str": "bad/*.json", "required": true})J"));
      }),
      ErrorCode::corrupt);
  EXPECT_FALSE(dm.contains("j"));
  dm.load("j", cfg_of(R"J({"loader": "json", "glob_str": "bad/*.json"})J"));
  EXPECT_EQ(dm.warnings().size(), 2u);
}

TEST(DataManager, TargetsCannotLeaveTheTree) {
  TempDir dir;
  write_runs(dir.path(), 1);
  write(dir / "data/sim.log", "inside\n");
  DataManager dm(dir / "data", {.out_dir = std::nullopt});
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  dm.load("x", cfg_of(R"J({"loader": "text", "glob_str": "sim.log",
                                      "target_path": "a/../../x"})J"));
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("leaves the tree"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] {
              dm.load("x", cfg_of(R"J({"loader": "text", "glob_str": "../sim_00/sim.log"})J"));
            }),
            ErrorCode::invalid_argument);
  // base_path may point elsewhere on purpose; globs stay inside it.
  dm.load("x", cfg_of(R"J({"loader": "text", "glob_str": "sim.log", "base_path": "../sim_00"})J"));
  EXPECT_EQ(dynamic_cast<StringLeaf&>(dm["x"]).text(), "run 0\n");
}

TEST(DataManager, OutDirWithTimestamp) {
  TempDir dir;
  DataManager dm(dir.path(), {.out_dir = "out/{timestamp:}", .timefstr = "%Y"});
  EXPECT_TRUE(fs::is_directory(dm.out_dir()));
  EXPECT_EQ(dm.out_dir().filename().string().size(), 4u);
  EXPECT_EQ(
      error_of([&] { DataManager(dir.path(), {.out_dir = "out/{timestamp:}", .timefstr = "%Y"}); }),
      ErrorCode::invalid_argument);
  DataManager none(dir.path(), {.out_dir = std::nullopt});
  EXPECT_TRUE(none.out_dir().empty());
}

}  // namespace
}  // namespace larder::tree
