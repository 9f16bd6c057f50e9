#include "larder/trace/trace.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <numeric>
#include <thread>

#include "array_helpers.h"
#include "error_of.h"
#include "larder/store/npy.h"
#include "larder/store/store.h"
#include "larder/trace/data.h"
#include "store/temp_dir.h"

namespace larder::trace {
namespace {

using larder::testing::array_of;
using larder::testing::error_of;
using larder::testing::TempDir;
using larder::testing::values_of;

std::string file_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

Array ramp(std::int64_t n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0.0);
  return array_of(v, Shape{n});
}

// An operation counting its runs: out = in * params.factor.
int scale_runs = 0;
struct ScaleRegistration {
  ScaleRegistration() {
    register_array_operation("test.scale", 1,
                             [](std::vector<Array> in, const nlohmann::json& p, OperationContext&) {
                               ++scale_runs;
                               Array out = in.at(0).clone();
                               for (double& x : out.values<double>())
                                 x *= p.value("factor", 1.0);
                               std::vector<Array> outs;
                               outs.push_back(std::move(out));
                               return outs;
                             });
  }
} scale_registration;

// y = 2 * x.
const ApplyOptions kDoubleX{.inputs = {"x"}, .outputs = {"y"}, .params = {{"factor", 2.0}}};

// A trace whose x = ramp(3) went through one finished step, kDoubleX, and
// which was closed cleanly. Returns its folder.
std::filesystem::path trace_with_one_step(const TempDir& dir) {
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(3));
  t->apply("test.scale", kDoubleX);
  return t->folder();
}

TEST(Trace, CreateMakesTheLayoutWithAFreshCode) {
  TempDir dir;
  auto a = Trace::create(dir.path(), "", {.seed = 7});
  auto b = Trace::create(dir.path());
  EXPECT_NE(a->code(), b->code());
  EXPECT_EQ(a->code().size(), 4u);
  EXPECT_EQ(a->folder(), dir.path() / ("trace_" + a->code()));
  EXPECT_TRUE(std::filesystem::exists(a->folder() / "trace.h5"));
  EXPECT_TRUE(std::filesystem::exists(a->folder() / "trace.json"));
  EXPECT_TRUE(std::filesystem::is_directory(a->folder() / "trace_files" / "main"));
  EXPECT_EQ(a->seed(), 7u);
  EXPECT_EQ(a->group(), "main");
}

TEST(Trace, VariablesOfEveryKindRoundTrip) {
  TempDir dir;
  std::filesystem::path folder;
  {
    auto t = Trace::create(dir.path());
    folder = t->folder();
    t->set_array("x", ramp(10));
    const bool mask[] = {true, false, true};
    t->set_array("mask", Array::from_values<bool>(mask));
    t->set_scalar("s", array_of(std::vector<float>{2.5f}, Shape{}));
    Dict d;
    d["a"] = DictValue{.value = ramp(3), .scalar = false};
    d["b"] = DictValue{.value = array_of(std::vector<std::int32_t>{4}, Shape{}), .scalar = true};
    t->set_dict("d", d);
  }
  auto t = Trace::link(folder);
  EXPECT_EQ(values_of<double>(t->get("x")), values_of<double>(ramp(10)));
  EXPECT_EQ(values_of<double>(t->get("x", Selection::parse("2:4"))), (std::vector<double>{2, 3}));
  EXPECT_EQ(t->info("mask").dtype, DType::boolean());
  EXPECT_EQ(t->info("s").kind, VariableKind::scalar);
  EXPECT_EQ(t->get("s").dtype(), DType::float32());
  EXPECT_EQ(t->get("s").shape().rank(), 0u);
  const Dict d = t->get_dict("d");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_TRUE(d.at("b").scalar);
  EXPECT_EQ(values_of<std::int32_t>(d.at("b").value), (std::vector<std::int32_t>{4}));
  t->write_key("d", "c", DictValue{.value = ramp(2), .scalar = false});
  EXPECT_EQ(values_of<double>(t->read_key("d", "c").value), (std::vector<double>{0, 1}));
  EXPECT_EQ(t->variables().size(), 4u);
  t->remove("x");
  EXPECT_FALSE(t->exists("x"));
  t.reset();
  // What write_key recorded survives the reopen: three members, their bytes.
  auto back = Trace::link(folder);
  EXPECT_EQ(back->variables().size(), 3u);
  EXPECT_EQ(back->info("d").shape, (Shape{3}));
  EXPECT_EQ(back->info("d").nbytes, 3 * 8 + 4 + 2 * 8u);
}

TEST(Trace, LinksReadTheirTargetWithoutACopy) {
  TempDir dir;
  auto data = Data::create(dir.path());
  data->from_array("volume", ramp(100));
  auto t = Trace::create(dir.path());
  t->set_link("v", data->file(), "volume");
  EXPECT_EQ(t->info("v").kind, VariableKind::link);
  EXPECT_EQ(values_of<double>(t->get("v", Selection::parse("98:"))), (std::vector<double>{98, 99}));
  EXPECT_NE(t->code(), data->code());
  std::string why;
  EXPECT_EQ(error_of([&] { t->set_link("w", data->file(), "missing"); }, &why),
            ErrorCode::not_found);
  EXPECT_NE(why.find("missing"), std::string::npos);
  const auto file = data->file();
  data.reset();
  std::filesystem::remove(file);
  EXPECT_EQ(error_of([&] { t->get("v"); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find(file.string()), std::string::npos);
}

// A link's hash follows its target: importing the Data array again with new
// content makes the next apply run on it (it used to skip on the hash taken
// when the link was set).
TEST(Trace, ALinkFollowsItsTargetWhenTheDataIsImportedAgain) {
  TempDir dir;
  auto data = Data::create(dir.path());
  data->from_array("volume", ramp(4));
  // An old file: its stamp is trusted, so only a changed file is hashed again.
  const auto file = data->file();
  std::filesystem::last_write_time(
      file, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  auto t = Trace::create(dir.path());
  t->set_link("v", file, "volume");
  EXPECT_FALSE(t->info("v").link_stamp.empty());
  const ApplyOptions twice{.inputs = {"v"}, .outputs = {"y"}, .params = {{"factor", 2.0}}};
  EXPECT_FALSE(t->apply("test.scale", twice).skipped);
  EXPECT_TRUE(t->apply("test.scale", twice).skipped);
  // The same values written again: the file changed, the content did not.
  data->from_array("volume", ramp(4));
  EXPECT_TRUE(t->apply("test.scale", twice).skipped);
  Array changed = ramp(4);
  for (double& x : changed.values<double>())
    x += 10;
  data->from_array("volume", changed);
  EXPECT_FALSE(t->apply("test.scale", twice).skipped);
  EXPECT_EQ(values_of<double>(t->get("y")), (std::vector<double>{20, 22, 24, 26}));
  // The new hash is recorded: after a reopen the step is done.
  const std::string hash = t->info("v").hash;
  const auto folder = t->folder();
  t.reset();
  auto again = Trace::link(folder);
  EXPECT_EQ(again->info("v").hash, hash);
  EXPECT_TRUE(again->apply("test.scale", twice).skipped);
}

TEST(Trace, TwoTracesInOneProcessStayIndependent) {
  TempDir dir;
  auto a = Trace::create(dir.path());
  auto b = Trace::create(dir.path());
  a->set_array("x", ramp(4));
  a->apply("test.scale", {.inputs = {"x"}, .outputs = {"y"}, .params = {{"factor", 2.0}}});
  EXPECT_FALSE(b->exists("x"));
  EXPECT_TRUE(b->graph().nodes.empty());
  EXPECT_EQ(a->graph().nodes.size(), 1u);
}

TEST(Trace, ApplySkipsWhatIsDoneAndRerunsWhatChanged) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(5));
  scale_runs = 0;
  const ApplyOptions twice{.inputs = {"x"}, .outputs = {"y"}, .params = {{"factor", 2.0}}};
  EXPECT_FALSE(t->apply("test.scale", twice).skipped);
  EXPECT_EQ(values_of<double>(t->get("y")), (std::vector<double>{0, 2, 4, 6, 8}));
  EXPECT_TRUE(t->apply("test.scale", twice).skipped);
  EXPECT_EQ(scale_runs, 1);
  // Changed params: runs.
  ApplyOptions thrice = twice;
  thrice.params = {{"factor", 3.0}};
  EXPECT_FALSE(t->apply("test.scale", thrice).skipped);
  EXPECT_EQ(scale_runs, 2);
  // Back to the first params: y now holds the factor-3 result, so it reruns.
  EXPECT_FALSE(t->apply("test.scale", twice).skipped);
  EXPECT_EQ(scale_runs, 3);
  // Changed input: runs.
  t->set_array("x", ramp(6));
  EXPECT_FALSE(t->apply("test.scale", twice).skipped);
  EXPECT_EQ(t->get("y").shape(), (Shape{6}));
  // force: runs.
  ApplyOptions forced = twice;
  forced.force = true;
  EXPECT_FALSE(t->apply("test.scale", forced).skipped);
  EXPECT_EQ(scale_runs, 5);
  // And after reopening, the record is the same: skip.
  const auto folder = t->folder();
  t.reset();
  auto again = Trace::link(folder);
  EXPECT_TRUE(again->apply("test.scale", twice).skipped);
  EXPECT_EQ(scale_runs, 5);
}

TEST(Trace, GraphLineageAndDot) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(3));
  t->apply("test.scale", {.inputs = {"x"}, .outputs = {"y"}, .params = {{"factor", 2.0}}});
  t->apply("test.scale", {.inputs = {"y"}, .outputs = {"z"}, .params = {{"factor", 2.0}}});
  const Graph g = t->graph();
  ASSERT_EQ(g.nodes.size(), 2u);
  ASSERT_EQ(g.edges.size(), 1u);
  EXPECT_EQ(g.edges[0].variable, "y");
  const Lineage l = t->lineage("z");
  ASSERT_EQ(l.steps.size(), 2u);
  EXPECT_EQ(l.sources, (std::vector<std::string>{"x"}));
  const std::string dot = to_dot(g, t->code());
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("\"var:y\" -> \"step:2\""), std::string::npos);
}

TEST(Trace, GroupsSeparateVariablesAndGraphs) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(3));
  t->create_group("other");
  EXPECT_FALSE(t->exists("x"));
  t->set_array("x", ramp(5));
  t->change_group("main");
  EXPECT_EQ(t->get("x").shape(), (Shape{3}));
  EXPECT_EQ(error_of([&] { t->change_group("nope"); }), ErrorCode::not_found);
  EXPECT_EQ(t->groups(), (std::vector<std::string>{"main", "other"}));
}

TEST(Trace, FailedStepIsRecordedAndLeavesNoOutput) {
  TempDir dir;
  register_array_operation(
      "test.fail", 1,
      [](std::vector<Array>, const nlohmann::json&, OperationContext&) -> std::vector<Array> {
        throw Error(ErrorCode::invalid_argument, "refused on purpose");
      });
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(3));
  EXPECT_EQ(error_of([&] { t->apply("test.fail", {.inputs = {"x"}, .outputs = {"y"}}); }),
            ErrorCode::invalid_argument);
  EXPECT_FALSE(t->exists("y"));
  ASSERT_EQ(t->graph().nodes.size(), 1u);
  EXPECT_EQ(t->graph().nodes[0].status, NodeStatus::failed);
}

TEST(Trace, BadInputIsRefusedAndLeavesTheTraceAsItWas) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(3));
  t->flush();
  const std::string before = file_text(t->folder() / "trace.json");
  std::string why;
  EXPECT_EQ(error_of([&] { t->set_array("1x", ramp(2)); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("1x"), std::string::npos);
  EXPECT_EQ(error_of([&] { t->set_array("a/b", ramp(2)); }), ErrorCode::invalid_argument);
  Dict bad;
  bad["ok"] = DictValue{.value = ramp(2), .scalar = false};
  bad["a/b"] = DictValue{.value = ramp(2), .scalar = false};
  EXPECT_EQ(error_of([&] { t->set_dict("x", bad); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("a/b"), std::string::npos);
  EXPECT_EQ(values_of<double>(t->get("x")), values_of<double>(ramp(3)));
  EXPECT_EQ(error_of([&] { t->apply("no.such.op", {.inputs = {"x"}, .outputs = {"y"}}); }, &why),
            ErrorCode::not_found);
  EXPECT_NE(why.find("no.such.op"), std::string::npos);
  EXPECT_NE(why.find("test.scale"), std::string::npos);
  EXPECT_EQ(error_of([&] { t->apply("test.scale", {.inputs = {"nope"}, .outputs = {"y"}}); }),
            ErrorCode::not_found);
  t->flush();
  EXPECT_EQ(file_text(t->folder() / "trace.json"), before);
}

TEST(Trace, LinkRefusesAFolderThatIsNoTraceOrIsDamaged) {
  TempDir dir;
  std::string why;
  EXPECT_EQ(error_of([&] { Trace::link(dir.path()); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find(dir.path().string()), std::string::npos);
  auto t = Trace::create(dir.path());
  const auto folder = t->folder();
  t.reset();
  std::ofstream(folder / "trace.json") << "{\"format\": \"larder.trace\", \"version\": 1, \"co";
  EXPECT_EQ(error_of([&] { Trace::link(folder); }, &why), ErrorCode::corrupt);
  EXPECT_NE(why.find("trace.json"), std::string::npos);
}

// A trace whose first step (y = 2 * x) finished and whose second step, with
// `params` and writing `output`, was running when its process was killed:
// what such a process leaves in trace.json. Returns the trace's folder.
std::filesystem::path trace_killed_in_step_two(const TempDir& dir, const nlohmann::json& params,
                                               const std::string& output) {
  const auto folder = trace_with_one_step(dir);
  auto json = nlohmann::json::parse(file_text(folder / "trace.json"));
  auto& group = json["groups"]["main"];
  auto node = group["nodes"][0];
  node["id"] = 2;
  node["status"] = "running";
  node["params"] = params;
  node["outputs"] = {{{"name", output}, {"hash", ""}}};
  group["nodes"].push_back(node);
  group["next_id"] = 3;
  json["clean"] = false;
  std::ofstream(folder / "trace.json") << json.dump();
  return folder;
}

TEST(Trace, AnInterruptedStepIsMarkedAndRerun) {
  TempDir dir;
  const auto folder = trace_killed_in_step_two(dir, {{"factor", 2.0}}, "z");
  {
    // ...and the part of its output written before the kill.
    auto h5 = store::Store::open(folder / "trace.h5", store::OpenMode::read_write);
    h5->root()->create_dataset("main/z", {.dtype = DType::float64(), .shape = Shape{3}});
  }
  auto again = Trace::link(folder);
  EXPECT_FALSE(again->exists("z"));
  EXPECT_FALSE(
      store::Store::open(folder / "trace.h5", store::OpenMode::read)->root()->contains("main/z"));
  ASSERT_EQ(again->graph().nodes.size(), 2u);
  EXPECT_EQ(again->graph().nodes[1].status, NodeStatus::interrupted);
  EXPECT_EQ(again->graph().nodes[0].status, NodeStatus::finished);
  EXPECT_TRUE(
      again->apply("test.scale", {.inputs = {"x"}, .outputs = {"y"}, .params = {{"factor", 2.0}}})
          .skipped);
  EXPECT_FALSE(
      again->apply("test.scale", {.inputs = {"x"}, .outputs = {"z"}, .params = {{"factor", 2.0}}})
          .skipped);
}

// A streaming operation: writes its output block by block through the context.
class Negate final : public Operation {
 public:
  std::string name() const override { return "test.negate"; }
  int version() const override { return 1; }
  void apply(OperationContext& context) override {
    auto in = context.input(0);
    auto out = context.create_output(0, {.dtype = in->dtype(), .shape = in->shape()});
    for (std::int64_t start = 0; start < in->rows(); start += 7) {
      const Selection rows{AxisSelection::slice(start, std::min(in->rows(), start + 7), 1)};
      Array block = in->read(rows);
      for (double& v : block.values<double>())
        v = -v;
      out->write(rows, block);
    }
  }
};

TEST(Trace, StreamingOperationsWriteOutputsInPlace) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(50));
  Negate negate;
  EXPECT_FALSE(t->apply(negate, {.inputs = {"x"}, .outputs = {"y"}}).skipped);
  EXPECT_EQ(values_of<double>(t->get("y", Selection::parse("49"))), (std::vector<double>{-49}));
  EXPECT_TRUE(t->apply(negate, {.inputs = {"x"}, .outputs = {"y"}}).skipped);
}

TEST(Data, CreateLinkImportAndSlice) {
  TempDir dir;
  auto d = Data::create(dir.path());
  EXPECT_TRUE(std::filesystem::exists(dir.path() / ("data_" + d->code() + ".h5")));
  d->from_array("a", ramp(10));
  std::ofstream(dir.path() / "m.json") << "[[1, 2], [3, 4.5]]";
  d->load_json("m", dir.path() / "m.json");
  const auto code = d->code();
  d.reset();
  auto again = Data::link(dir.path(), code);
  EXPECT_EQ(again->dataset("m")->dtype(), DType::float64());
  EXPECT_EQ(again->dataset("m")->shape(), (Shape{2, 2}));
  EXPECT_EQ(error_of([&] { again->read(); }), ErrorCode::invalid_argument);
  again->use("a");
  EXPECT_EQ(values_of<double>(again->read(Selection::parse("8:"))), (std::vector<double>{8, 9}));
  EXPECT_EQ(again->info().size(), 2u);
  std::ofstream(dir.path() / "bad.json") << "[[1, 2], [3]]";
  EXPECT_EQ(error_of([&] { again->load_json("bad", dir.path() / "bad.json"); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { Data::link(dir.path(), "9999x"); }), ErrorCode::not_found);
}

TEST(Trace, ASessionThatDidNotCloseIsCheckedAgainstTraceH5) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  const auto folder = t->folder();
  t->set_array("x", ramp(3));
  t->flush();
  const std::string unclosed = file_text(folder / "trace.json");
  t->set_array("y", ramp(2));  // stored, but in no record written before the "kill"
  t.reset();
  std::ofstream(folder / "trace.json") << unclosed;
  {
    auto h5 = store::Store::open(folder / "trace.h5", store::OpenMode::read_write);
    h5->root()->create_dataset("main/torn", {.dtype = DType::float64(), .shape = Shape{3}});
  }
  auto again = Trace::link(folder);
  EXPECT_TRUE(again->exists("x"));
  EXPECT_TRUE(again->exists("y"));
  EXPECT_EQ(again->info("y").hash.size(), 32u);
  EXPECT_FALSE(again->exists("torn"));
  EXPECT_FALSE(store::Store::open(folder / "trace.h5", store::OpenMode::read)
                   ->root()
                   ->contains("main/torn"));
}

// Regression: after one clean close, a later session's changes left the
// record marked clean, so a session killed after them was trusted and a
// step was skipped over data it had not written.
TEST(Trace, ASessionKilledAfterACleanCloseIsCheckedAgainstTraceH5) {
  TempDir dir;
  const auto folder = trace_with_one_step(dir);
  auto second = Trace::link(folder);
  second->set_array("y", array_of(std::vector<double>{-1, -1, -1}, Shape{3}));
  const std::string at_kill = file_text(folder / "trace.json");  // what a kill -9 leaves
  second.reset();
  std::ofstream(folder / "trace.json") << at_kill;
  auto third = Trace::link(folder);
  EXPECT_FALSE(third->apply("test.scale", kDoubleX).skipped);
  EXPECT_EQ(values_of<double>(third->get("y")), (std::vector<double>{0, 2, 4}));
}

// A re-run whose steps are all skipped reads only trace.json: trace.h5 is
// not even opened (opening it for writing rewrites its superblock), and
// trace.json is left as it was.
TEST(Trace, ARerunThatSkipsEveryStepLeavesTheFilesUntouched) {
  TempDir dir;
  const auto folder = trace_with_one_step(dir);
  const auto h5_time = std::filesystem::last_write_time(folder / "trace.h5");
  const std::string json = file_text(folder / "trace.json");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past the clock's tick
  {
    auto again = Trace::link(folder);
    EXPECT_TRUE(again->apply("test.scale", kDoubleX).skipped);
  }
  EXPECT_EQ(std::filesystem::last_write_time(folder / "trace.h5"), h5_time);
  EXPECT_EQ(file_text(folder / "trace.json"), json);
  // The first change opens it.
  auto third = Trace::link(folder);
  third->set_array("z", ramp(2));
  EXPECT_EQ(values_of<double>(third->get("z")), (std::vector<double>{0, 1}));
}

// trace.h5 is opened for writing at the first change, not at link: a
// session whose trace.json another process rewrote meanwhile refuses to
// change the trace, and leaves that process's record alone.
TEST(Trace, AChangeAfterAnotherProcessWroteTheTraceIsRefused) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  const auto folder = t->folder();
  t->set_array("x", ramp(3));
  t.reset();
  auto linked = Trace::link(folder);
  auto json = nlohmann::json::parse(file_text(folder / "trace.json"));
  json["groups"]["other"] = json["groups"]["main"];  // what another writer might leave
  const std::string theirs = json.dump();
  std::ofstream(folder / "trace.json") << theirs;
  std::string why;
  EXPECT_EQ(error_of([&] { linked->set_array("y", ramp(2)); }, &why), ErrorCode::io);
  EXPECT_NE(why.find("another process"), std::string::npos) << why;
  EXPECT_NE(why.find("trace.json"), std::string::npos) << why;
  linked.reset();
  EXPECT_EQ(file_text(folder / "trace.json"), theirs);
}

TEST(Trace, ASecondWriterInTheProcessIsRefused) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  const auto folder = t->folder();
  std::string why;
  EXPECT_EQ(error_of([&] { Trace::link(folder); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find(folder.filename().string()), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { Trace::link(folder / "." / ""); }), ErrorCode::invalid_argument);
  EXPECT_NO_THROW(Trace::link(folder, "", {.read_only = true}));
  t.reset();
  EXPECT_NO_THROW(Trace::link(folder));
}

// Regression: edges and lineage matched variables by name only, so a
// variable replaced by hand still led back to the step that wrote it first.
TEST(Trace, EdgesAndLineageFollowContentNotNames) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(3));
  t->apply("test.scale", {.inputs = {"x"}, .outputs = {"y"}, .params = {{"factor", 2.0}}});
  t->set_array("y", ramp(4));  // replaced by hand
  t->apply("test.scale", {.inputs = {"y"}, .outputs = {"z"}, .params = {{"factor", 2.0}}});
  EXPECT_TRUE(t->graph().edges.empty());
  const Lineage z = t->lineage("z");
  ASSERT_EQ(z.steps.size(), 1u);
  EXPECT_EQ(z.steps[0].id, 2);
  EXPECT_EQ(z.sources, (std::vector<std::string>{"y"}));
  // y as it is now was made by no step.
  EXPECT_TRUE(t->lineage("y").steps.empty());
}

// Regression: opening a trace whose step was killed before it wrote anything
// deleted the outputs by name, the earlier step's valid output with them.
TEST(Trace, AnInterruptedStepKeepsTheOutputItNeverReached) {
  TempDir dir;
  const auto folder = trace_killed_in_step_two(dir, {{"factor", 5.0}}, "y");
  auto again = Trace::link(folder);
  EXPECT_EQ(again->graph().nodes[1].status, NodeStatus::interrupted);
  ASSERT_TRUE(again->exists("y"));
  EXPECT_EQ(values_of<double>(again->get("y")), (std::vector<double>{0, 2, 4}));
  EXPECT_TRUE(
      again->apply("test.scale", {.inputs = {"x"}, .outputs = {"y"}, .params = {{"factor", 2.0}}})
          .skipped);
}

TEST(Trace, ReadOnlyLinkShowsTheRecordAndChangesNothing) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  t->set_array("x", ramp(4));
  t->apply("test.scale", {.inputs = {"x"}, .outputs = {"y"}, .params = {{"factor", 2.0}}});
  t->close();
  const std::string before = file_text(t->folder() / "trace.json");
  auto view = Trace::link(t->folder(), "", {.read_only = true});
  EXPECT_EQ(view->variables().size(), 2u);
  EXPECT_EQ(view->graph().nodes.size(), 1u);
  EXPECT_EQ(values_of<double>(view->get("y", Selection::parse("3"))), (std::vector<double>{6}));
  EXPECT_EQ(error_of([&] { view->set_array("z", ramp(1)); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { view->create_group("g"); }), ErrorCode::invalid_argument);
  view.reset();
  EXPECT_EQ(file_text(t->folder() / "trace.json"), before);
}

TEST(Trace, TablesRoundTripAndRefuseTextColumns) {
  TempDir dir;
  auto t = Trace::create(dir.path());
  store::Table table;
  table.names = {"id", "score"};
  table.columns.push_back(array_of(std::vector<std::int64_t>{1, 2, 3}, Shape{3}));
  table.columns.push_back(array_of(std::vector<double>{0.5, 1.5, 2.5}, Shape{3}));
  t->set_table("scores", table);
  const auto folder = t->folder();
  t.reset();
  auto again = Trace::link(folder);
  const VariableInfo info = again->info("scores");
  EXPECT_EQ(info.kind, VariableKind::table);
  EXPECT_EQ(info.shape, (Shape{3, 2}));
  const store::Table back = again->get_table("scores");
  EXPECT_EQ(back.names, table.names);
  EXPECT_EQ(values_of<double>(back.column("score")), (std::vector<double>{0.5, 1.5, 2.5}));
  store::Table words;
  words.names = {"w"};
  words.columns.push_back(Array::zeros(DType::string(4), Shape{2}));
  EXPECT_EQ(error_of([&] { again->set_table("w", words); }), ErrorCode::type_mismatch);
  EXPECT_FALSE(again->exists("w"));
}

TEST(Data, ImportsNpyNpzCsvAndJsonTables) {
  TempDir dir;
  auto d = Data::create(dir.path());
  store::write_npy(dir.path() / "a.npy", ramp(6));
  d->load_npy("a", dir.path() / "a.npy");
  EXPECT_EQ(values_of<double>(d->dataset("a")->read()), values_of<double>(ramp(6)));
  std::ofstream(dir.path() / "t.csv") << "x,y\n1,0.5\n2,\n";
  d->load_csv("t", dir.path() / "t.csv");
  const store::Table t = d->table("t");
  EXPECT_EQ(t.names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(t.column("x").dtype(), DType::int64());
  EXPECT_EQ(error_of([&] { d->dataset("t"); }), ErrorCode::type_mismatch);
  std::ofstream(dir.path() / "cols.json") << R"({"b": [1, 2], "a": [0.5, 1]})";
  d->load_json("cols", dir.path() / "cols.json");
  EXPECT_EQ(d->table("cols").names, (std::vector<std::string>{"b", "a"}));  // file order
  const auto entries = d->info();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].kind, "table");
  EXPECT_EQ(entries[2].shape, (Shape{2, 2}));
}

}  // namespace
}  // namespace larder::trace
