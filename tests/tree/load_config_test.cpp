// Load config entries and the DataManager that runs them, on real files.
#include "larder/tree/load_config.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

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
             "map_from_attr": "content", "enabled": false},
    "grouped": {"loader": "text", "glob_str": "*.log", "target_group": "logs",
                "unpack_data": true}
  })J"),
                                         "test");
  ASSERT_EQ(entries.size(), 4u);
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
  EXPECT_EQ(entries[3].target_format(), "logs/{basename}");
  EXPECT_FALSE(entries[3].loader_options.contains("unpack_data"));  // accepted, changes nothing
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

TEST(DataManager, FailingFileLeavesTheTreeUnchanged) {
  TempDir dir;
  write(dir / "j/a.json", R"J({"a": 1})J");
  write(dir / "j/b.json", "{not json");
  DataManager dm(dir.path(),
                 {.out_dir = std::nullopt, .create_groups = {{"sims", GroupClass::param_space}}});
  // The second file fails to load: the first is not kept either.
  EXPECT_EQ(error_of([&] {
              dm.load("j", cfg_of(R"J({"loader": "json", "glob_str": "j/*.json",
                                     "required": true})J"));
            }),
            ErrorCode::corrupt);
  EXPECT_FALSE(dm.contains("j"));
  // The second file's name does not fit the ParamSpaceGroup.
  write(dir / "s/01.log", "one");
  write(dir / "s/x.log", "x");
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  dm.load("s", cfg_of(R"J({"loader": "text", "glob_str": "s/*.log",
                                         "target_path": "sims/{basename}"})J"));
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("'x'"), std::string::npos) << why;
  EXPECT_NE(why.find("s/x.log"), std::string::npos) << why;
  EXPECT_TRUE(dm.root().group("sims").empty());
  // A file of the entry is in the way of another's group.
  write(dir / "t/a.txt", "leaf");
  write(dir / "t/a/b.txt", "below");
  EXPECT_EQ(error_of(
                [&] {
                  dm.load("t", cfg_of(R"J({"loader": "text", "glob_str": ["t/*.txt", "t/*/*.txt"],
                                         "target_path": "{relpath}", "exists_action": "overwrite"})J"));
                },
                &why),
            ErrorCode::type_mismatch);
  EXPECT_NE(why.find("t/a/b.txt"), std::string::npos) << why;
  EXPECT_FALSE(dm.contains("t"));
  EXPECT_TRUE(dm.warnings().empty());
}

TEST(DataManager, LoadAsAttrWarnsAndNamesMissingTargets) {
  TempDir dir;
  write(dir / "meta.json", R"J({"a": 1})J");
  DataManager dm(dir.path(), {.out_dir = std::nullopt, .create_groups = {{"g"}}});
  const Value entry = cfg_of(R"J({"loader": "json", "glob_str": "meta.json",
                                 "load_as_attr": true, "target_path": "g"})J");
  dm.load("meta", entry);
  EXPECT_EQ(dm["g"].attrs()["meta"]["a"], 1);
  dm.load("meta", entry, ExistsAction::skip);
  ASSERT_EQ(dm.warnings().size(), 1u);
  EXPECT_NE(dm.warnings()[0].find("skipped"), std::string::npos) << dm.warnings()[0];
  dm.load("meta", entry, ExistsAction::overwrite);
  ASSERT_EQ(dm.warnings().size(), 2u);
  EXPECT_NE(dm.warnings()[1].find("overwritten"), std::string::npos) << dm.warnings()[1];
  dm.load("meta", entry, ExistsAction::skip_nowarn);
  EXPECT_EQ(dm.warnings().size(), 2u);
  std::string why;
  Value missing = entry;
  missing["target_path"] = "nowhere";
  EXPECT_EQ(error_of([&] { dm.load("meta", missing); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find("'meta'"), std::string::npos) << why;
  EXPECT_NE(why.find("meta.json"), std::string::npos) << why;
  EXPECT_NE(why.find("nowhere"), std::string::npos) << why;
}

// !pspace-unsorted is a parameter space too: loaded as an attribute, it
// makes its target a ParamSpaceGroup, as !pspace does.
TEST(DataManager, AnUnsortedParamSpaceMakesAParamSpaceGroup) {
  TempDir dir;
  write(dir / "pspace.yml", "!pspace-unsorted\nseed: !pdim {default: 0, values: [1, 2]}\n");
  DataManager dm(dir.path(), {.out_dir = std::nullopt});
  dm.load("pspace", cfg_of(R"J({"loader": "yaml_to_object", "glob_str": "pspace.yml",
                               "load_as_attr": true, "target_path": "sims"})J"));
  EXPECT_EQ(dm["sims"].class_name(), "ParamSpaceGroup");
}

// Two files of one entry setting the same attribute are refused before
// either is set, as two files going to one node are.
TEST(DataManager, TwoFilesSettingOneAttributeAreRefused) {
  TempDir dir;
  write(dir / "a.json", R"J({"a": 1})J");
  write(dir / "b.json", R"J({"b": 2})J");
  DataManager dm(dir.path(), {.out_dir = std::nullopt, .create_groups = {{"g"}}});
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  dm.load("meta", cfg_of(R"J({"loader": "json", "glob_str": "*.json",
                                         "load_as_attr": true, "target_path": "g"})J"));
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("both go to"), std::string::npos) << why;
  EXPECT_NE(why.find("b.json"), std::string::npos) << why;
  EXPECT_FALSE(dm["g"].attrs().contains("meta"));  // nothing was set
}

TEST(DataManager, SmallTotalSizeLoadsSerially) {
  TempDir dir;
  for (int i = 0; i < 16; ++i)
    write(dir / fmt::format("f/{:02}.txt", i), "x");
  std::mutex mutex;
  std::set<std::thread::id> threads;
  LoaderRegistry::global().add(
      "test_thread_probe", {[&](const LoadRequest& r) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
        return std::static_pointer_cast<Node>(std::make_shared<StringLeaf>(r.name, "x"));
      }});
  DataManager dm(dir.path(), {.out_dir = std::nullopt});
  // 16 bytes in all, below min_total_size: every file loads on this thread.
  dm.load("f", cfg_of(R"J({"loader": "test_thread_probe", "glob_str": "f/*.txt",
                          "parallel": {"min_files": 2, "min_total_size": 1000000}})J"));
  EXPECT_EQ(dm.root().group("f").size(), 16u);
  EXPECT_EQ(threads, (std::set<std::thread::id>{std::this_thread::get_id()}));
  LoaderRegistry::global().add(
      "test_thread_probe", {[](const LoadRequest& r) {
        return std::static_pointer_cast<Node>(std::make_shared<StringLeaf>(r.name, "x"));
      }});
}

TEST(DataManager, RelativeDataDirIsMadeAbsolute) {
  TempDir dir;
  write(dir / "data/a.txt", "a");
  const fs::path expected = fs::absolute(dir / "data").lexically_normal();
  const fs::path before = fs::current_path();
  fs::current_path(dir.path());
  std::optional<DataManager> dm;
  try {
    dm.emplace("data/./", DataManagerOptions{.out_dir = std::nullopt});
    dm->load("a", cfg_of(R"J({"loader": "text", "glob_str": "a.txt"})J"));
  } catch (...) {
    fs::current_path(before);
    throw;
  }
  fs::current_path(before);
  EXPECT_TRUE(dm->data_dir().is_absolute());
  EXPECT_EQ(dm->data_dir(), expected);
  EXPECT_EQ(dm->name(), "data");
  EXPECT_EQ(fs::path(dm->root()["a"].attrs()["filepath"].get<std::string>()), expected / "a.txt");
}

TEST(DataManager, DefaultGroupMapMakesTimeSeries) {
  EXPECT_EQ(DataManagerOptions{}.group_map, default_group_map());
  EXPECT_EQ(default_group_map().at("time_series"), GroupClass::time_series);
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
