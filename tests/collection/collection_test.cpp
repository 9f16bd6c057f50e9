#include "larder/collection/collection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "array_helpers.h"
#include "error_of.h"
#include "larder/core/error.h"
#include "larder/store/store.h"
#include "store/drivers.h"
#include "store/temp_dir.h"

namespace larder::collection {
namespace {

using larder::testing::array_of;
using larder::testing::values_of;

using larder::testing::Driver;
using larder::testing::error_of;

std::string driver_name(const ::testing::TestParamInfo<Driver>& info) {
  return info.param.name;
}

// n rows of 3 floats: row i is (i, i + 0.5, -i).
Array features(std::int64_t n) {
  std::vector<float> v;
  for (std::int64_t i = 0; i < n; ++i) {
    v.insert(v.end(),
             {static_cast<float>(i), static_cast<float>(i) + 0.5f, -static_cast<float>(i)});
  }
  return array_of(v, Shape{n, 3});
}

// n labels: row i is i * 10.
Array labels(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    v[static_cast<std::size_t>(i)] = i * 10;
  return array_of(v, Shape{n});
}

// n jagged records: record i holds i % 4 items, each equal to i.
ragged::Records jets(std::int64_t n) {
  ragged::Records r;
  std::vector<float> values;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = 0; k < i % 4; ++k)
      values.push_back(static_cast<float>(i));
    r.offsets.push_back(static_cast<std::int64_t>(values.size()));
  }
  r.values = array_of(values, Shape{static_cast<std::int64_t>(values.size())});
  return r;
}

class CollectionTest : public ::testing::TestWithParam<Driver> {
 protected:
  void SetUp() override { open("w"); }

  void open(std::string_view mode) {
    collection_.reset();
    store_.reset();
    store_ = store::Store::open(GetParam().where(dir_.path()), mode, GetParam().options);
    collection_ = Collection::open(store_->root(), "events", options());
  }
  CollectionOptions options() const {
    return {.codec = GetParam().can.compression ? codec::CodecSpec{.id = "blosc-lz4", .level = 5}
                                                : codec::CodecSpec{}};
  }
  Collection& c() { return *collection_; }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Collection> collection_;
};

TEST_P(CollectionTest, FractionsSplitRowsInOrderAndLaterAddsAppend) {
  const Array x = features(1000), y = labels(1000);
  c().add({{"x", x}, {"y", y}}, Split::fractions({0.7, 0.2, 0.1}));
  EXPECT_EQ(c().phases(), (std::vector<std::string>{"train", "valid", "test"}));
  EXPECT_EQ(c().size("train"), 700);
  EXPECT_EQ(c().size("valid"), 200);
  EXPECT_EQ(c().size("test"), 100);
  EXPECT_EQ(c().variables("valid"), (std::vector<std::string>{"x", "y"}));
  // valid holds rows 700..899, in order.
  EXPECT_EQ(values_of<std::int64_t>(c().get("valid", "y", AxisSelection::index(0)))[0], 7000);
  EXPECT_EQ(values_of<float>(c().get("test", "x", AxisSelection::index(99))),
            (std::vector<float>{999.0f, 999.5f, -999.0f}));

  c().add({{"x", features(10)}, {"y", labels(10)}}, Split::phase("train"));
  EXPECT_EQ(c().size("train"), 710);
  EXPECT_EQ(values_of<std::int64_t>(c().get("train", "y", AxisSelection::slice(699, 702))),
            (std::vector<std::int64_t>{6990, 0, 10}));
}

TEST_P(CollectionTest, ShuffledAddIsASeededPermutationAndLeavesTheCallerAlone) {
  const Array y = labels(500);
  const auto before = values_of<std::int64_t>(y);
  c().add({{"y", y}, {"x", features(500)}}, Split::counts({300, 200}), 42);
  EXPECT_EQ(values_of<std::int64_t>(y), before);

  auto all = values_of<std::int64_t>(c().get("train", "y", AxisSelection::all()));
  const auto valid = values_of<std::int64_t>(c().get("valid", "y", AxisSelection::all()));
  all.insert(all.end(), valid.begin(), valid.end());
  EXPECT_NE(all, before);
  // Rows of x and y moved together.
  const auto x = values_of<float>(c().get("train", "x", AxisSelection::all()));
  for (std::size_t i = 0; i < 300; ++i)
    EXPECT_EQ(static_cast<std::int64_t>(x[i * 3]) * 10, all[i]);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, before);

  // The same seed, the same order.
  auto other = Collection::open(store_->root(), "again");
  other->add({{"y", y}}, Split::counts({300, 200}), 42);
  EXPECT_EQ(values_of<std::int64_t>(other->get("train", "y", AxisSelection::all())),
            values_of<std::int64_t>(c().get("train", "y", AxisSelection::all())));
}

TEST_P(CollectionTest, GetGivesRowsIndexListsAndStackedVariables) {
  const Array x = features(20);
  c().add({{"a", x}, {"b", x}}, Split::phase("train"));
  EXPECT_EQ(c().get("train", "a", AxisSelection::all()).shape(), (Shape{20, 3}));
  EXPECT_EQ(c().get("train", "a", AxisSelection::index(-1)).shape(), (Shape{3}));
  const Array picked = c().get("train", "a", AxisSelection::indices({5, 1, 5}));
  EXPECT_EQ(picked.shape(), (Shape{3, 3}));
  EXPECT_EQ(values_of<float>(picked)[3], 1.0f);

  const Array stacked = c().get_stacked("train", {"a", "b"}, AxisSelection::slice(0, 4));
  EXPECT_EQ(stacked.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(values_of<float>(stacked)[3 * 3], 1.0f);  // row 1 of a
  EXPECT_EQ(c().get_stacked("train", {"a", "b"}, AxisSelection::index(2)).shape(), (Shape{2, 3}));
}

TEST_P(CollectionTest, RaggedVariablesSplitShuffleAndReadAsRecords) {
  const ragged::Records j = jets(100);
  c().add({{"jets", j}, {"y", labels(100)}}, Split::fractions({0.5, 0.5}), 7);
  EXPECT_EQ(c().variable("train", "jets").kind(), "jagged");
  EXPECT_EQ(c().size("train"), 50);
  const ragged::Records train = c().get_records("train", "jets", AxisSelection::all());
  const auto y = values_of<std::int64_t>(c().get("train", "y", AxisSelection::all()));
  for (std::int64_t i = 0; i < train.size(); ++i) {
    const std::int64_t row = y[static_cast<std::size_t>(i)] / 10;  // the record's original row
    ASSERT_EQ(train[i].shape()[0], row % 4);
    for (float v : values_of<float>(train[i]))
      EXPECT_EQ(v, static_cast<float>(row));
  }
  const ragged::Records some = c().get_records("valid", "jets", AxisSelection::indices({3, 0}));
  EXPECT_EQ(some.size(), 2);
}

TEST_P(CollectionTest, CompiledMetadataSurvivesReopeningUntilSomethingChanges) {
  if (!GetParam().can.persistent) GTEST_SKIP() << "the store lives in memory";
  c().add({{"x", features(10)}, {"jets", jets(10)}}, Split::counts({6, 4}));
  EXPECT_FALSE(c().metadata());
  const Metadata m = c().compile();
  EXPECT_EQ(m.total, 10);
  open("r+");
  const auto stored = c().metadata();
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->to_json(), m.to_json());
  EXPECT_EQ(stored->phases[1].name, "valid");
  EXPECT_EQ(stored->phases[1].size, 4);
  EXPECT_EQ(stored->phases[0].variables[0].kind, "jagged");
  EXPECT_EQ(stored->phases[0].variables[1].sample_shape, (Shape{3}));
  c().add({{"x", features(1)}, {"jets", jets(1)}}, Split::phase("test"));
  EXPECT_FALSE(c().metadata());
}

TEST_P(CollectionTest, BadInputNamesTheProblemAndChangesNothing) {
  c().add({{"x", features(10)}, {"y", labels(10)}}, Split::phase("train"));
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  Split::fractions({0.5, -0.1, 0.6});
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("-0.1"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { Split::fractions({0.5, 0.3}); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("sum to 1"), std::string::npos) << why;
  EXPECT_EQ(error_of(
                [&] {
                  c().add({{"x", features(5)}}, Split::counts({3, 3}));
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of(
                [&] {
                  c().add({{"x", features(5)}, {"y", labels(4)}}, Split::phase("train"));
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("'y' has 4"), std::string::npos) << why;
  // y would take the rows, x would not: neither changes.
  EXPECT_EQ(error_of(
                [&] {
                  c().add({{"y", labels(5)}, {"x", labels(5)}}, Split::phase("train"));
                },
                &why),
            ErrorCode::type_mismatch);
  EXPECT_NE(why.find("'x'"), std::string::npos) << why;
  EXPECT_EQ(c().size("train"), 10);
  EXPECT_EQ(error_of([&] { c().get("train", "z", AxisSelection::all()); }, &why),
            ErrorCode::not_found);
  EXPECT_NE(why.find("variables: x, y"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { c().variables("tset"); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find("phases: train"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { Split::phase("a/b"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of(
                [&] {
                  Split::counts({5, 5}, {"train", "train"});
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("'train' is named twice"), std::string::npos) << why;

  c().add({{"z", labels(3)}}, Split::phase("train"));
  EXPECT_EQ(error_of([&] { c().compile(); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("'z' has 3"), std::string::npos) << why;
}

TEST_P(CollectionTest, UpdateWritesRowsAndAddsMissingVariables) {
  c().add({{"y", labels(10)}}, Split::phase("train"));
  c().update("train", "y", AxisSelection::slice(2, 4), array_of<std::int64_t>({-1, -2}, Shape{2}));
  EXPECT_EQ(values_of<std::int64_t>(c().get("train", "y", AxisSelection::slice(1, 5))),
            (std::vector<std::int64_t>{10, -1, -2, 40}));
  c().update("train", "w", AxisSelection::all(), labels(10));
  EXPECT_TRUE(c().contains("train", "w"));
  EXPECT_EQ(error_of([&] { c().update("train", "v", AxisSelection::index(0), labels(1)); }),
            ErrorCode::not_found);
}

TEST_P(CollectionTest, ConversionsRewriteVariables) {
  const Array scores =
      array_of<float>({0.1f, 0.9f, 0.0f, 0.7f, 0.2f, 0.1f, 0.3f, 0.3f, 0.4f}, Shape{3, 3});
  c().add({{"scores", scores}, {"label", array_of<std::int64_t>({2, 0, 1}, Shape{3})}},
          Split::phase("train"));
  c().argmax("train", "scores", 1);
  EXPECT_EQ(values_of<std::int64_t>(c().get("train", "scores", AxisSelection::all())),
            (std::vector<std::int64_t>{1, 0, 2}));
  c().onehot("train", "label", 3);
  EXPECT_EQ(values_of<float>(c().get("train", "label", AxisSelection::all())),
            (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0}));
  c().astype("train", "label", DType::uint8());
  EXPECT_EQ(c().variable("train", "label").dtype(), DType::uint8());
  EXPECT_EQ(c().variable("train", "label").sample_shape(), (Shape{3}));

  c().add({{"bad", array_of<std::int64_t>({0, 5, 1}, Shape{3})}}, Split::phase("train"));
  std::string why;
  EXPECT_EQ(error_of([&] { c().onehot("train", "bad", 3); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("row 1"), std::string::npos) << why;
  EXPECT_EQ(values_of<std::int64_t>(c().get("train", "bad", AxisSelection::all())),
            (std::vector<std::int64_t>{0, 5, 1}));
  EXPECT_EQ(c().variables("train"), (std::vector<std::string>{"bad", "label", "scores"}));
}

TEST_P(CollectionTest, ShuffleKeepsRowsTogetherAndIsAPermutation) {
  c().add({{"x", features(300)}, {"y", labels(300)}, {"jets", jets(300)}}, Split::phase("train"));
  c().shuffle("train", 3);
  auto y = values_of<std::int64_t>(c().get("train", "y", AxisSelection::all()));
  const auto x = values_of<float>(c().get("train", "x", AxisSelection::all()));
  const ragged::Records j = c().get_records("train", "jets", AxisSelection::all());
  for (std::size_t i = 0; i < y.size(); ++i) {
    const std::int64_t row = y[i] / 10;
    ASSERT_EQ(static_cast<std::int64_t>(x[i * 3]), row);
    ASSERT_EQ(j[static_cast<std::int64_t>(i)].shape()[0], row % 4);
  }
  const auto shuffled = y;
  std::sort(y.begin(), y.end());
  EXPECT_EQ(y, values_of<std::int64_t>(labels(300)));
  EXPECT_NE(shuffled, y);
}

TEST_P(CollectionTest, AllReadsThePhasesBackToBack) {
  c().add({{"y", labels(10)}}, Split::counts({5, 3, 2}));
  EXPECT_EQ(values_of<std::int64_t>(c().get("all", "y", AxisSelection::all())),
            values_of<std::int64_t>(labels(10)));
  EXPECT_EQ(values_of<std::int64_t>(c().get("all", "y", AxisSelection::indices({9, 0, 6}))),
            (std::vector<std::int64_t>{90, 0, 60}));
}

TEST_P(CollectionTest, VariablesMoveToMemoryAndBack) {
  c().add({{"y", labels(10)}}, Split::phase("train"));
  c().to_memory({"y"}, "train");
  EXPECT_TRUE(c().variable("train", "y").in_memory);
  c().update("train", "y", AxisSelection::index(0), array_of<std::int64_t>({7}, Shape{1}));
  c().add({{"y", labels(2)}}, Split::phase("train"));
  EXPECT_EQ(c().size("train"), 12);
  c().to_storage({"y"}, "train");
  EXPECT_FALSE(c().variable("train", "y").in_memory);
  const auto y = values_of<std::int64_t>(c().get("train", "y", AxisSelection::all()));
  EXPECT_EQ(y.size(), 12u);
  EXPECT_EQ(y[0], 7);
  EXPECT_EQ(y[11], 10);
}

TEST_P(CollectionTest, ASwapACrashInterruptedIsFinishedByTheNextOpen) {
  if (!GetParam().can.persistent) GTEST_SKIP() << "the store lives in memory";
  c().add({{"y", labels(4)}}, Split::phase("train"));
  // What a crash after the commit point leaves: the new version and the
  // swap record, the old variable still in place.
  auto phase = store_->root()->open_group("events/train");
  phase->create_dataset("larder.next.y", {.dtype = DType::int64(), .shape = Shape{2}});
  phase->open_dataset("larder.next.y")
      ->write(Selection(), array_of<std::int64_t>({5, 6}, Shape{2}));
  store_->root()->open_group("events")->attrs().set(
      "larder.swap", nlohmann::json{{"phase", "train"}, {"names", {"y"}}});
  open("r+");
  EXPECT_EQ(values_of<std::int64_t>(c().get("train", "y", AxisSelection::all())),
            (std::vector<std::int64_t>{5, 6}));
  EXPECT_FALSE(store_->root()->open_group("events")->attrs().contains("larder.swap"));
  EXPECT_EQ(c().variables("train"), (std::vector<std::string>{"y"}));
}

INSTANTIATE_TEST_SUITE_P(Drivers, CollectionTest, ::testing::ValuesIn(larder::testing::drivers()),
                         driver_name);

TEST(Split, FractionCountsSumToTheRowsAndStayWithinOneRow) {
  for (std::int64_t rows : {0, 1, 2, 3, 7, 10, 999, 1000001}) {
    const auto plan = Split::fractions({0.7, 0.2, 0.1}).plan(rows);
    std::int64_t sum = 0;
    const double want[] = {0.7, 0.2, 0.1};
    for (std::size_t i = 0; i < plan.size(); ++i) {
      sum += plan[i].second;
      EXPECT_LE(std::abs(static_cast<double>(plan[i].second) - want[i] * static_cast<double>(rows)),
                1.0);
    }
    EXPECT_EQ(sum, rows);
  }
  EXPECT_EQ(Split::fractions({0.5, 0.5}, {"a", "b"}).plan(3).front().first, "a");
  EXPECT_EQ(error_of([] {
              Split::fractions({0.25, 0.25, 0.25, 0.25});
            }),
            ErrorCode::invalid_argument);  // four parts, three default phases
}

}  // namespace
}  // namespace larder::collection
