// .npy/.npz, CSV and tables: the readers against hand-made bytes (the forms
// numpy writes are covered against numpy itself in tests/python/test_files.py),
// and tables on every driver.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "../../src/store/fixed_strings.h"
#include "../array_helpers.h"
#include "../error_of.h"
#include "drivers.h"
#include "larder/store/csv.h"
#include "larder/store/npy.h"
#include "larder/store/store.h"
#include "larder/store/table.h"
#include "temp_dir.h"

namespace larder::store {
namespace {

using testing::error_of;

std::vector<std::byte> bytes_of(std::string_view text) {
  const auto* p = reinterpret_cast<const std::byte*>(text.data());
  return {p, p + text.size()};
}

// An .npy file with `header` (padded) and `data`, as numpy lays it out.
std::vector<std::byte> npy_file(std::string header, std::string_view data) {
  header.append(63 - (10 + header.size()) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY\x01";
  out.push_back('\0');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return bytes_of(out + header + std::string(data));
}

TEST(Npy, RoundTripsThroughItsWriter) {
  const Array a = testing::array_of<float>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  const Array back = parse_npy(encode_npy(a), "mem");
  EXPECT_EQ(back.shape(), (Shape{2, 3}));
  EXPECT_EQ(back.dtype(), DType::float32());
  EXPECT_EQ(testing::values_of<float>(back), testing::values_of<float>(a));
}

TEST(Npy, FortranOrderBecomesCOrder) {
  // Column-major (2, 3) of int16: columns (1, 4), (2, 5), (3, 6).
  const std::int16_t stored[] = {1, 4, 2, 5, 3, 6};
  const std::string data(reinterpret_cast<const char*>(stored), sizeof stored);
  const Array a =
      parse_npy(npy_file("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }", data), "f");
  EXPECT_EQ(testing::values_of<std::int16_t>(a), (std::vector<std::int16_t>{1, 2, 3, 4, 5, 6}));
}

TEST(Npy, BigEndianBecomesNative) {
  const std::string data("\x00\x00\x01\x02\xff\xff\xff\xfe", 8);
  const Array a =
      parse_npy(npy_file("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", data), "b");
  EXPECT_TRUE(a.dtype().is_native());
  EXPECT_EQ(testing::values_of<std::int32_t>(a), (std::vector<std::int32_t>{258, -2}));
}

TEST(Npy, RefusesWhatItMustNotTrust) {
  std::string why;
  EXPECT_EQ(error_of([] { parse_npy(bytes_of("NUMPY not really"), "x"); }), ErrorCode::corrupt);
  // A shape far larger than the bytes that follow: refused before allocating.
  EXPECT_EQ(error_of(
                [] {
                  parse_npy(
                      npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, "
                               "1000000000), }",
                               "12345678"),
                      "huge");
                },
                &why),
            ErrorCode::corrupt);
  EXPECT_NE(why.find("huge"), std::string::npos);
  EXPECT_EQ(error_of([] {
              parse_npy(
                  npy_file("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "12345678"),
                  "o");
            }),
            ErrorCode::unsupported);
  EXPECT_EQ(
      error_of([] {
        parse_npy(
            npy_file("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", "1234"),
            "s");
      }),
      ErrorCode::unsupported);
  EXPECT_EQ(error_of([] { parse_npz(bytes_of("PK not a zip at all"), "z.npz"); }),
            ErrorCode::corrupt);
}

TEST(Npy, WritesFilesAtomically) {
  const testing::TempDir dir;
  const Array a = testing::array_of<std::int64_t>({7, 8, 9}, Shape{3});
  write_npy(dir / "a.npy", a);
  EXPECT_EQ(testing::values_of<std::int64_t>(read_npy(dir / "a.npy")),
            (std::vector<std::int64_t>{7, 8, 9}));
  EXPECT_FALSE(std::filesystem::exists(dir / "a.npy.tmp"));
  EXPECT_EQ(error_of([&] { read_npy(dir / "missing.npy"); }), ErrorCode::not_found);
}

TEST(Csv, TypesEachColumnByItsCells) {
  const Table t = parse_csv(
      ",count,x,flag,\"quoted, \"\"name\"\"\"\n0,1,0.5,True,\"2.5\"\n1,-2,,False,1e3\n", "t.csv");
  ASSERT_EQ(t.names,
            (std::vector<std::string>{"Unnamed: 0", "count", "x", "flag", "quoted, \"name\""}));
  EXPECT_EQ(t.column("count").dtype(), DType::int64());
  EXPECT_EQ(testing::values_of<std::int64_t>(t.column("count")),
            (std::vector<std::int64_t>{1, -2}));
  EXPECT_EQ(t.column("x").dtype(), DType::float64());
  EXPECT_TRUE(std::isnan(testing::values_of<double>(t.column("x"))[1]));
  EXPECT_EQ(t.column("flag").dtype(), DType::boolean());
  std::string why;
  // The quoted cell holds text: an error naming its line and column.
  EXPECT_EQ(error_of([] { parse_csv("a,b\n1,2\n3,\"x\"\"y\"\n", "bad.csv"); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("line 3, column 'b'"), std::string::npos) << why;
  EXPECT_EQ(error_of([] { parse_csv("a,b\n1\n", "short.csv"); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("line 2 has 1 fields"), std::string::npos) << why;
  EXPECT_EQ(error_of([] { parse_csv("a\n\"open\n", "open.csv"); }), ErrorCode::invalid_argument);
}

TEST(Csv, TextColumnsWhenAskedFor) {
  const std::string text = "name,x\nalpha,1\n\"b, \"\"c\"\"\",2\n,3\n";
  const Table t = parse_csv(text, "t.csv", {.text = true});
  EXPECT_EQ(t.column("name").dtype(), DType::string(6));  // the longest cell, b, "c"
  EXPECT_EQ(unpack_fixed_strings(t.column("name")),
            (std::vector<std::string>{"alpha", "b, \"c\"", ""}));
  EXPECT_EQ(t.column("x").dtype(), DType::int64());  // numbers stay numbers
  EXPECT_EQ(error_of([&] { parse_csv(text, "t.csv"); }), ErrorCode::invalid_argument);

  // One long cell among many short ones: refused before 130 MB of padding.
  std::string uneven = "a,b\n" + std::string(65536, 'x') + ",1\n";
  for (int i = 0; i < 2000; ++i)
    uneven += ",1\n";
  std::string why;
  EXPECT_EQ(error_of([&] { parse_csv(uneven, "uneven.csv", {.text = true}); }, &why),
            ErrorCode::unsupported);
  EXPECT_NE(why.find("column 'a': 2001 text cells of up to 65536 bytes"), std::string::npos) << why;
}

TEST(Csv, OptionsForDelimiterAndHeaderlessFiles) {
  const Table t = parse_csv("1;2\r\n3;4\r\n", "h.csv", {.delimiter = ';', .header = false});
  EXPECT_EQ(t.names, (std::vector<std::string>{"column_0", "column_1"}));
  EXPECT_EQ(testing::values_of<std::int64_t>(t.column("column_1")),
            (std::vector<std::int64_t>{2, 4}));
}

class TableOnEveryDriver : public ::testing::TestWithParam<testing::Driver> {};

TEST_P(TableOnEveryDriver, RoundTripsInColumnOrder) {
  const testing::TempDir dir;
  const auto store = Store::open(GetParam().where(dir.path()), "w", GetParam().options);
  Table t;
  t.names = {"z", "a"};
  t.columns.push_back(testing::array_of<double>({1.5, 2.5, 3.5}, Shape{3}));
  t.columns.push_back(testing::array_of<std::int32_t>({1, 2, 3}, Shape{3}));
  write_table(*store->root(), "runs/summary", t);
  const Table back = read_table(*store->root(), "runs/summary");
  EXPECT_EQ(back.names, t.names);
  EXPECT_EQ(back.rows(), 3);
  EXPECT_EQ(testing::values_of<std::int32_t>(back.column("a")),
            (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_TRUE(is_table(*store->root()->open_group("runs/summary")));
  EXPECT_FALSE(is_table(*store->root()->open_group("runs")));
  EXPECT_EQ(error_of([&] { read_table(*store->root(), "runs"); }), ErrorCode::type_mismatch);

  Table uneven;
  uneven.names = {"a", "b"};
  uneven.columns.push_back(testing::array_of<double>({1}, Shape{1}));
  uneven.columns.push_back(testing::array_of<double>({1, 2}, Shape{2}));
  EXPECT_EQ(error_of([&] { write_table(*store->root(), "bad", uneven); }),
            ErrorCode::invalid_argument);
  EXPECT_FALSE(store->root()->contains("bad"));
}

std::string driver_name(const ::testing::TestParamInfo<testing::Driver>& driver) {
  return driver.param.name;
}

INSTANTIATE_TEST_SUITE_P(Drivers, TableOnEveryDriver, ::testing::ValuesIn(testing::drivers()),
                         driver_name);

}  // namespace
}  // namespace larder::store
