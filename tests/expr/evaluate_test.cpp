#include "larder/expr/evaluate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "array_helpers.h"
#include "error_of.h"
#include "larder/core/error.h"
#include "larder/expr/cut.h"
#include "larder/ragged/ragged.h"
#include "larder/store/store.h"
#include "store/drivers.h"
#include "store/temp_dir.h"

namespace larder::expr {
namespace {

using larder::testing::values_of;

using larder::testing::Driver;
using larder::testing::error_of;

template <class T>
void put(store::Group& g, const std::string& path, const std::vector<T>& values,
         std::int64_t chunk = 0) {
  store::DatasetOptions options{.dtype = dtype_of<T>(),
                                .shape = Shape{static_cast<std::int64_t>(values.size())},
                                .extendable = chunk > 0};
  if (chunk > 0) options.chunks = {chunk};
  auto ds = g.create_dataset(path, options);
  if (!values.empty()) ds->write(Selection(), Array::from_values(std::span<const T>(values)));
}

void put_bool(store::Group& g, const std::string& path, const std::vector<int>& values) {
  std::vector<std::uint8_t> bytes(values.begin(), values.end());
  Array a = Array::empty(DType::boolean(), Shape{static_cast<std::int64_t>(values.size())});
  std::memcpy(a.data(), bytes.data(), bytes.size());
  g.create_dataset(path, {.dtype = DType::boolean(), .shape = a.shape()})->write(Selection(), a);
}

std::vector<std::int64_t> ids(store::Group& g, std::string_view text,
                              const nlohmann::json& constants = nlohmann::json::object()) {
  return values_of<std::int64_t>(select(g, Expression::parse(text), {.constants = constants}));
}

Array eval(store::Group& g, std::string_view text) {
  return evaluate(g, Expression::parse(text));
}

class ExprMemoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> store_ = store::Store::memory();
  store::Group& g() { return *store_->root(); }
};

TEST_F(ExprMemoryTest, CanonicalCut) {
  put<std::int32_t>(g(), "nJets", {6, 7, 5, 8, 6});
  put<std::int16_t>(g(), "nBTags_77", {2, 1, 3, 2, 0});
  EXPECT_EQ(ids(g(), "nJets >= 6 & nBTags_77 >= 2"), (std::vector<std::int64_t>{0, 3}));
  EXPECT_EQ(count(g(), Expression::parse("nJets >= 6 & nBTags_77 >= 2")), 2);
  EXPECT_EQ(ids(g(), "nJets >= n and not nBTags_77 > 1", {{"n", 7}}),
            (std::vector<std::int64_t>{1}));
  const Array mask = eval(g(), "nJets > 6");
  EXPECT_EQ(mask.dtype(), DType::boolean());
  EXPECT_EQ(values_of<bool>(mask), (std::vector<bool>{false, true, false, true, false}));
}

TEST_F(ExprMemoryTest, NumpyTypePromotion) {
  put<float>(g(), "f", {1.5F, -2.0F});
  put<std::int8_t>(g(), "i8", {-128, 100});
  put<std::uint8_t>(g(), "u8", {255, 1});
  put<std::int64_t>(g(), "i64", {1, 2});
  put<std::uint64_t>(g(), "u64", {1, 2});
  put<std::int16_t>(g(), "i16", {4, 9});
  put_bool(g(), "flag", {1, 0});
  struct Case {
    const char* text;
    DType type;
  };
  for (const Case& c : std::vector<Case>{
           {"f * 2.5", DType::float32()},    // a float scalar keeps float32 (value-based)
           {"f * 1e300", DType::float64()},  // ... unless it does not fit
           {"i8 + 1", DType::int8()},
           {"i8 + 200", DType::int16()},
           {"u8 + 1", DType::uint8()},
           {"u8 + -1", DType::int16()},
           {"i8 + u8", DType::int16()},
           {"i64 + u64", DType::float64()},
           {"i8 * 2.5", DType::float64()},
           {"i8 / i8", DType::float64()},
           {"f / 2", DType::float32()},
           {"i16 + f", DType::float32()},
           {"i64 + f", DType::float64()},
           {"sqrt(i16)", DType::float32()},
           {"sqrt(i64)", DType::float64()},
           {"round(i16)", DType::int16()},
           {"floor(i64)", DType::float64()},
           {"abs(i8)", DType::int8()},
           {"maximum(i8, 300)", DType::int16()},
           {"where(f > 0, i8, 1.5)", DType::float64()},
           {"i64 + (1 + 2)", DType::int64()},
           {"flag + 1", DType::int64()},
           {"flag & (i8 > 0)", DType::boolean()},
           {"flag * f", DType::float32()},
           {"(i8 > 0) + 1", DType::int64()},
       }) {
    EXPECT_EQ(eval(g(), c.text).dtype(), c.type) << c.text;
  }
  EXPECT_EQ(values_of<std::int8_t>(eval(g(), "i8 - 1")), (std::vector<std::int8_t>{127, 99}));
  EXPECT_EQ(values_of<std::int8_t>(eval(g(), "abs(i8)")), (std::vector<std::int8_t>{-128, 100}));
  EXPECT_EQ(values_of<std::int16_t>(eval(g(), "i8 + 200")), (std::vector<std::int16_t>{72, 300}));
  EXPECT_EQ(values_of<std::uint8_t>(eval(g(), "u8 * 2")), (std::vector<std::uint8_t>{254, 2}));
}

TEST_F(ExprMemoryTest, IntegerDivisionFollowsNumpy) {
  put<std::int8_t>(g(), "a", {-128, 7, -7, 7, -7, 5});
  put<std::int8_t>(g(), "b", {-1, 2, 2, -2, -2, 0});
  EXPECT_EQ(values_of<std::int8_t>(eval(g(), "a // b")),
            (std::vector<std::int8_t>{-128, 3, -4, -4, 3, 0}));
  EXPECT_EQ(values_of<std::int8_t>(eval(g(), "a % b")),
            (std::vector<std::int8_t>{0, 1, 1, -1, -1, 0}));
  EXPECT_EQ(values_of<std::int8_t>(eval(g(), "b ** 3")),
            (std::vector<std::int8_t>{-1, 8, 8, -8, -8, 0}));
}

TEST_F(ExprMemoryTest, FloatFloorDivisionAndRemainderFollowNumpy) {
  put<double>(g(), "x", {1.0, -1.0, 0.0, 5.5, -5.5});
  const auto div0 = values_of<double>(eval(g(), "x // 0.0"));
  EXPECT_EQ(div0[0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(div0[1], -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(div0[2]));
  EXPECT_TRUE(std::isnan(values_of<double>(eval(g(), "x % 0.0"))[0]));
  EXPECT_EQ(values_of<double>(eval(g(), "x // -2.0")), (std::vector<double>{-1, 0, -0.0, -3, 2}));
  EXPECT_EQ(values_of<double>(eval(g(), "x % -2.0")),
            (std::vector<double>{-1, -1, -0.0, -0.5, -1.5}));
  EXPECT_TRUE(std::signbit(values_of<double>(eval(g(), "x % -2.0"))[2]));
}

TEST_F(ExprMemoryTest, NanAndInfCompareAsNumpy) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  put<double>(g(), "x", {nan, inf, -inf, 1.0});
  EXPECT_EQ(ids(g(), "x > 0"), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(ids(g(), "x != x"), (std::vector<std::int64_t>{0}));
  EXPECT_EQ(ids(g(), "isnan(x) | ~isfinite(x)"), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(ids(g(), "x == inf"), (std::vector<std::int64_t>{1}));
  EXPECT_TRUE(std::isnan(values_of<double>(eval(g(), "minimum(x, 0)"))[0]));
}

TEST_F(ExprMemoryTest, BindErrorsNameTheNearestNames) {
  put<std::int32_t>(g(), "nJets", {1});
  put<std::int32_t>(g(), "nBTags_77", {1});
  std::string why;
  EXPECT_EQ(error_of([&] { ids(g(), "nJets >= 6 & nBtags_77 >= 2"); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("unknown name 'nBtags_77'"), std::string::npos) << why;
  EXPECT_NE(why.find("column 14"), std::string::npos) << why;
  EXPECT_NE(why.find("nearest: nBTags_77"), std::string::npos) << why;
  error_of([&] { ids(g(), "sqr(nJets) > 1"); }, &why);
  EXPECT_NE(why.find("unknown function 'sqr'"), std::string::npos) << why;
  EXPECT_NE(why.find("sqrt"), std::string::npos) << why;
  error_of([&] { ids(g(), "sqrt(nJets, 2) > 1"); }, &why);
  EXPECT_NE(why.find("takes 1 argument"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { ids(g(), "nJets + 1"); }, &why), ErrorCode::type_mismatch);
  EXPECT_NE(why.find("not a condition"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { ids(g(), "(nJets * 1.5) & 1"); }), ErrorCode::type_mismatch);
  EXPECT_EQ(error_of([&] { ids(g(), "true"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ids(g(), "nJets > c", {{"c", "text"}}); }), ErrorCode::invalid_argument);
  put<std::int32_t>(g(), "short", {1, 2});
  error_of([&] { ids(g(), "nJets > short"); }, &why);
  EXPECT_NE(why.find("equal length"), std::string::npos) << why;
  g().create_dataset("m", {.dtype = DType::float32(), .shape = Shape{1, 2}});
  EXPECT_EQ(error_of([&] { ids(g(), "m > 0"); }), ErrorCode::type_mismatch);
  g().create_group("sub");
  EXPECT_EQ(error_of([&] { ids(g(), "sub > 0"); }), ErrorCode::type_mismatch);
}

TEST_F(ExprMemoryTest, QuotedPathsAndConstants) {
  auto jets = g().create_group("jets");
  put<float>(*jets, "pt", {10, 40, 25});
  put<float>(g(), "a b", {1, 2, 3});
  EXPECT_EQ(ids(g(), "\"jets/pt\" > cut", {{"cut", 20}}), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(ids(g(), "'a b' >= 2"), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(ids(*jets, "pt < 30"), (std::vector<std::int64_t>{0, 2}));
}

class JaggedTest : public ExprMemoryTest {
 protected:
  void SetUp() override {
    // Row 1 has no jets; row 3 one.
    auto pt = ragged::Ragged::create(g(), "jet_pt", {.dtype = DType::float32()});
    const std::vector<float> pts = {50, 20, 35, 10, 60, 45, 31};
    const std::vector<std::int64_t> lengths = {3, 0, 2, 1, 1};
    pt->extend(Array::from_values(std::span<const float>(pts)), lengths);
    auto eta = ragged::Ragged::create(g(), "jet_eta", {.dtype = DType::float64()});
    const std::vector<double> etas = {0.5, 3.0, -1.0, 2.6, 0.1, 1.0, -2.0};
    eta->extend(Array::from_values(std::span<const double>(etas)), lengths);
    auto tags = ragged::Ragged::create(g(), "jet_tag", {.dtype = DType::int32()});
    const std::vector<std::int32_t> tag = {1, 0, 1, 0, 1, 1, 0};
    tags->extend(Array::from_values(std::span<const std::int32_t>(tag)), lengths);
    put<double>(g(), "ht", {300, 100, 200, 50, 400});
  }
};

TEST_F(JaggedTest, ReductionsAndLengths) {
  EXPECT_EQ(values_of<std::int64_t>(eval(g(), "len(jet_pt)")),
            (std::vector<std::int64_t>{3, 0, 2, 1, 1}));
  EXPECT_EQ(values_of<float>(eval(g(), "sum(jet_pt)")), (std::vector<float>{105, 0, 70, 45, 31}));
  EXPECT_EQ(values_of<std::int64_t>(eval(g(), "sum(jet_tag)")),
            (std::vector<std::int64_t>{2, 0, 1, 1, 0}));
  EXPECT_EQ(ids(g(), "any(jet_pt > 30)"), (std::vector<std::int64_t>{0, 2, 3, 4}));
  EXPECT_EQ(ids(g(), "all(jet_pt > 30)"), (std::vector<std::int64_t>{1, 3, 4}));  // empty: true
  EXPECT_EQ(values_of<float>(eval(g(), "sum(jet_pt * (abs(jet_eta) < 2.5))")),
            (std::vector<float>{85, 0, 60, 45, 31}));
  EXPECT_EQ(ids(g(), "any(jet_pt > ht / 10)"), (std::vector<std::int64_t>{0, 2, 3}));
  EXPECT_EQ(ids(g(), "sum((jet_pt > 30) & (jet_tag == 1)) >= 1"),
            (std::vector<std::int64_t>{0, 2, 3}));
}

TEST_F(JaggedTest, EmptyRecordsAndShortRecordsFollowTheStatedRules) {
  const auto mins = values_of<float>(eval(g(), "min(jet_pt)"));
  EXPECT_EQ(mins[0], 20);
  EXPECT_TRUE(std::isnan(mins[1]));  // min/max of an empty float record: NaN
  const auto tag_max = values_of<std::int32_t>(eval(g(), "max(jet_tag)"));
  EXPECT_EQ(tag_max[1], std::numeric_limits<std::int32_t>::min());  // integers: the identity
  const auto second = values_of<float>(eval(g(), "jet_pt[1]"));
  EXPECT_EQ(second[0], 20);
  EXPECT_TRUE(std::isnan(second[1]));  // too short: NaN for floats
  EXPECT_TRUE(std::isnan(second[3]));
  EXPECT_EQ(values_of<std::int32_t>(eval(g(), "jet_tag[-1]")),
            (std::vector<std::int32_t>{1, 0, 1, 1, 0}));  // too short: 0 for integers
  EXPECT_EQ(ids(g(), "jet_pt[0] > 40"), (std::vector<std::int64_t>{0, 3}));
}

TEST_F(JaggedTest, MisuseIsABindError) {
  std::string why;
  EXPECT_EQ(error_of([&] { ids(g(), "jet_pt > 30"); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("outside a reduction"), std::string::npos) << why;
  error_of([&] { ids(g(), "sum(ht) > 1"); }, &why);
  EXPECT_NE(why.find("reads no jagged column"), std::string::npos) << why;
  error_of([&] { ids(g(), "any(sum(jet_pt) > 1)"); }, &why);
  EXPECT_NE(why.find("inside another reduction"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { ids(g(), "len(ht) > 1"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ids(g(), "ht[0] > 1"); }), ErrorCode::invalid_argument);
  auto other = ragged::Ragged::create(g(), "other", {.dtype = DType::float32()});
  const std::vector<float> v = {1, 2, 3, 4, 5};
  other->extend(Array::from_values(std::span<const float>(v)),
                std::vector<std::int64_t>{1, 1, 1, 1, 1});
  error_of([&] { ids(g(), "any(jet_pt > other)"); }, &why);
  EXPECT_NE(why.find("differ in length"), std::string::npos) << why;
}

// A bool column whose bytes are not all 0 or 1 (any nonzero byte is true,
// as numpy takes it), of a length that is not a multiple of eight: the
// count and the selected rows agree with a byte-by-byte loop.
TEST_F(ExprMemoryTest, BoolBytesOtherThanOneCountAsTrue) {
  const std::vector<int> bytes = {0, 2, 255, 1, 0, 0, 128, 3, 0, 1, 0,
                                  0, 0, 64,  0, 7, 9, 0,   0, 1, 0};
  put_bool(g(), "flag", bytes);
  std::vector<std::int64_t> expected;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != 0) expected.push_back(static_cast<std::int64_t>(i));
  EXPECT_EQ(ids(g(), "flag"), expected);
  EXPECT_EQ(count(g(), Expression::parse("flag")), static_cast<std::int64_t>(expected.size()));
}

// A large column in many blocks and reads, against a plain loop.
TEST_F(ExprMemoryTest, ManyBlocksMatchALoop) {
  const std::int64_t n = 300007;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> a(n), b(n);
  for (std::int64_t i = 0; i < n; ++i) {
    a[static_cast<std::size_t>(i)] = u(rng);
    b[static_cast<std::size_t>(i)] = u(rng);
  }
  put(g(), "a", a, 4096);
  put(g(), "b", b, 4096);
  std::vector<std::int64_t> expected;
  for (std::int64_t i = 0; i < n; ++i) {
    const float x = a[static_cast<std::size_t>(i)], y = b[static_cast<std::size_t>(i)];
    if ((x > 0.5F) & ((y < 0.2F) | (x * x + y * y < 1.0F))) expected.push_back(i);
  }
  const Expression e = Expression::parse("(a > 0.5) & ((b < 0.2) | (a*a + b*b < 1.0))");
  EXPECT_EQ(values_of<std::int64_t>(select(g(), e, {.rows_per_read = 10000})), expected);
  EXPECT_EQ(count(g(), e), static_cast<std::int64_t>(expected.size()));
  const auto flow = count_flow(g(), {Expression::parse("a > 0.5"), e, Expression::parse("b > 2")});
  std::int64_t first = 0;
  for (float x : a)
    first += x > 0.5F;
  EXPECT_EQ(flow,
            (std::vector<std::int64_t>{first, static_cast<std::int64_t>(expected.size()), 0}));
}

// Many records in many reads and blocks, some longer than a block of items,
// against a plain loop: reductions carry across blocks of items.
TEST_F(ExprMemoryTest, JaggedAcrossBlocksMatchesALoop) {
  const std::int64_t rows = 20011;
  std::mt19937_64 rng(11);
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(rows));
  std::vector<float> pt;
  std::vector<double> ht(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto r = static_cast<std::size_t>(i);
    lengths[r] = i % 997 == 0 ? 40000 : static_cast<std::int64_t>(rng() % 7);  // some > a block
    for (std::int64_t k = 0; k < lengths[r]; ++k)
      pt.push_back(static_cast<float>(rng() % 1000) / 10);
    ht[r] = static_cast<double>(rng() % 5000) / 10;
  }
  auto jets = ragged::Ragged::create(g(), "pt", {.dtype = DType::float32()});
  jets->extend(Array::from_values(std::span<const float>(pt)), lengths);
  put(g(), "ht", ht);
  std::vector<double> sums(static_cast<std::size_t>(rows));
  std::vector<std::int64_t> any_ids;
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto r = static_cast<std::size_t>(i);
    bool any = false;
    for (std::int64_t k = 0; k < lengths[r]; ++k, ++at) {
      const float x = pt[static_cast<std::size_t>(at)];
      sums[r] += x > 50.0F ? x : 0.0F;
      any = any || static_cast<double>(x) > ht[r] / 5;
    }
    if (any) any_ids.push_back(i);
  }
  const EvaluateOptions options{.rows_per_read = 3000};
  EXPECT_EQ(values_of<std::int64_t>(select(g(), Expression::parse("any(pt > ht / 5)"), options)),
            any_ids);
  const auto got =
      values_of<float>(evaluate(g(), Expression::parse("sum(pt * (pt > 50))"), options));
  ASSERT_EQ(got.size(), sums.size());
  for (std::size_t r = 0; r < sums.size(); ++r) {
    ASSERT_FLOAT_EQ(got[r], static_cast<float>(sums[r])) << "row " << r;
  }
  const auto lens = values_of<std::int64_t>(evaluate(g(), Expression::parse("len(pt)"), options));
  EXPECT_EQ(lens, lengths);
}

// ---- every driver: evaluation and the cut cache ----

class CutTest : public ::testing::TestWithParam<Driver> {
 protected:
  void SetUp() override { open("w"); }
  void open(std::string_view mode) {
    store_.reset();
    store_ = store::Store::open(GetParam().where(dir_.path()), mode, GetParam().options);
  }
  store::Group& g() { return *store_->root(); }
  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(CutTest, CacheHitMissAndInvalidation) {
  put<std::int32_t>(g(), "nJets", {6, 7, 5, 8, 6, 9}, 4);
  put<double>(g(), "met", {10, 50, 70, 20, 80, 5}, 4);
  auto pt = ragged::Ragged::create(g(), "jet_pt", {.dtype = DType::float32()});
  const std::vector<float> pts = {50, 20, 35, 10, 60, 45};
  pt->extend(Array::from_values(std::span<const float>(pts)),
             std::vector<std::int64_t>{1, 1, 1, 1, 1, 1});
  const std::string text = "nJets >= 6 & met > m & any(jet_pt > 15)";
  const CutOptions options{.constants = {{"m", 15}}};

  CutResult first = cut(g(), text, options);
  EXPECT_FALSE(first.from_cache);
  EXPECT_TRUE(first.stored);
  EXPECT_EQ(first.total, 6);
  EXPECT_EQ(values_of<std::int64_t>(first.rows), (std::vector<std::int64_t>{1, 4}));
  EXPECT_TRUE(
      g().contains((GetParam().name == "zarr" ? "_larder/cuts/" : ".larder/cuts/") + first.key));

  CutResult second = cut(g(), "(nJets>=6)&(met>m) & any(jet_pt>15)", options);  // same normalized
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(values_of<std::int64_t>(second.rows), (std::vector<std::int64_t>{1, 4}));

  CutResult other = cut(g(), text, {.constants = {{"m", 60}}});  // other constants: other entry
  EXPECT_FALSE(other.from_cache);
  EXPECT_EQ(values_of<std::int64_t>(other.rows), (std::vector<std::int64_t>{4}));

  EXPECT_FALSE(cut(g(), text, {.constants = options.constants, .recreate = true}).from_cache);
  EXPECT_TRUE(cut(g(), text, options).from_cache);

  // A changed column invalidates the entry.
  g().open_dataset("met")->write(
      Selection{AxisSelection::index(0)},
      Array::from_values(std::span<const double>(std::vector<double>{99})));
  CutResult changed = cut(g(), text, options);
  EXPECT_FALSE(changed.from_cache);
  EXPECT_EQ(values_of<std::int64_t>(changed.rows), (std::vector<std::int64_t>{0, 1, 4}));
  EXPECT_TRUE(cut(g(), text, options).from_cache);

  // So does a changed jagged column.
  pt->append(Array::from_values(std::span<const float>(std::vector<float>{1})));
  g().open_dataset("nJets")->resize(Shape{7});
  g().open_dataset("met")->resize(Shape{7});
  EXPECT_FALSE(cut(g(), text, options).from_cache);

  // Without the cache nothing is stored.
  CutResult plain = cut(g(), "nJets > 100", {.cache = false});
  EXPECT_TRUE(plain.key.empty());
  EXPECT_EQ(plain.rows.num_elements(), 0);
  EXPECT_FALSE(g().contains("_larder/cuts/" + cut_key(g(), Expression::parse("nJets > 100"), {})));

  // An empty selection is cached too.
  EXPECT_FALSE(cut(g(), "nJets > 100").from_cache);
  CutResult empty = cut(g(), "nJets > 100");
  EXPECT_TRUE(empty.from_cache);
  EXPECT_EQ(empty.rows.num_elements(), 0);

  const CutFlow flow = cut_flow(g(), {"nJets >= 6", "met > 15", "any(jet_pt > 15)"});
  EXPECT_EQ(flow.total, 7);
  ASSERT_EQ(flow.steps.size(), 3U);
  EXPECT_EQ(flow.steps[0].passing, 5);
  EXPECT_EQ(flow.steps[1].passing, 4);
  EXPECT_EQ(flow.steps[2].passing, 3);
}

TEST_P(CutTest, ReadOnlyStoreEvaluatesWithoutCaching) {
  if (!GetParam().can.persistent) GTEST_SKIP() << "the store does not outlive its handle";
  put<double>(g(), "x", {1, 2, 3}, 2);
  open("r");
  CutResult r = cut(g(), "x > 1");
  EXPECT_FALSE(r.stored);
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(values_of<std::int64_t>(r.rows), (std::vector<std::int64_t>{1, 2}));
  EXPECT_FALSE(g().contains("_larder"));
}

TEST_P(CutTest, EmptyColumns) {
  put<float>(g(), "x", {});
  EXPECT_EQ(cut(g(), "x > 0").rows.num_elements(), 0);
  EXPECT_EQ(count(g(), Expression::parse("x > 0")), 0);
  EXPECT_EQ(evaluate(g(), Expression::parse("x * 2")).num_elements(), 0);
}

std::string driver_name(const ::testing::TestParamInfo<Driver>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Drivers, CutTest, ::testing::ValuesIn(larder::testing::drivers()),
                         driver_name);

}  // namespace
}  // namespace larder::expr
