// Loaders on real files: npy/npz, csv, hdf5_proxy (lazy) and a custom loader.
#include "larder/tree/loaders.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>

#include "error_of.h"
#include "larder/store/npy.h"
#include "larder/store/store.h"
#include "larder/tree/data_manager.h"
#include "store/temp_dir.h"

namespace larder::tree {
namespace {

using larder::testing::error_of;
using larder::testing::TempDir;

TEST(Loaders, NumpyCsvAndCustom) {
  TempDir dir;
  const std::vector<std::int32_t> values{3, 1, 4, 1, 5};
  store::write_npy(dir / "a.npy", Array::from_values<std::int32_t>(values));
  std::ofstream(dir / "t.csv") << "n,x\n1,0.5\n2,\n";
  std::ofstream(dir / "w.txt") << "hello";
  LoaderRegistry::global().add(
      "test_upper", {[](const LoadRequest& r) {
        std::ifstream in(r.file);
        std::string text;
        std::getline(in, text);
        for (auto& c : text)
          c = static_cast<char>(std::toupper(c));
        return std::static_pointer_cast<Node>(std::make_shared<StringLeaf>(r.name, text));
      }});
  DataManager dm(dir.path(), {.out_dir = std::nullopt});
  dm.load("a", Value{{"loader", "numpy_binary"}, {"glob_str", "a.npy"}});
  dm.load("t", Value{{"loader", "csv"}, {"glob_str", "t.csv"}});
  dm.load("w", Value{{"loader", "test_upper"}, {"glob_str", "w.txt"}});
  const auto& a = dynamic_cast<ArrayLeaf&>(dm["a"]);
  EXPECT_EQ(a.dtype(), DType::int32());
  EXPECT_EQ(std::vector<std::int32_t>(a.data().values<std::int32_t>().begin(),
                                      a.data().values<std::int32_t>().end()),
            values);
  auto& table = dm.root().group("t");
  EXPECT_EQ(table.keys(), (std::vector<std::string>{"n", "x"}));
  EXPECT_EQ(dynamic_cast<ArrayLeaf&>(table.at("n")).dtype(), DType::int64());
  EXPECT_TRUE(std::isnan(dynamic_cast<ArrayLeaf&>(table.at("x")).data().values<double>()[1]));
  EXPECT_EQ(dynamic_cast<StringLeaf&>(dm["w"]).text(), "HELLO");
  EXPECT_EQ(error_of([&] { LoaderRegistry::global().get("nope"); }), ErrorCode::not_found);
}

TEST(Loaders, Hdf5ProxyReadsOnFirstAccess) {
  TempDir dir;
  {
    auto store = store::Store::open(dir / "d.h5", "w");
    auto ds = store->root()->create_dataset("g/x", {.dtype = DType::float64(), .shape = Shape{3}});
    ds->write(Selection(), Array::from_values<double>(std::vector<double>{1, 2, 3}));
    ds->attrs().set("units", "m");
    store->close();
  }
  DataManager dm(dir.path(), {.out_dir = std::nullopt});
  dm.load("d", Value{{"loader", "hdf5_proxy"}, {"glob_str", "d.h5"}, {"lower_case_keys", true}});
  const auto& x = dynamic_cast<ArrayLeaf&>(dm["d/g/x"]);
  EXPECT_FALSE(x.loaded());
  EXPECT_EQ(x.shape(), (Shape{3}));
  EXPECT_EQ(x.attrs()["units"], "m");
  EXPECT_EQ(x.data().values<double>()[2], 3.0);
  EXPECT_TRUE(x.loaded());
  EXPECT_EQ(error_of([&] {
              dm.load("e", Value{{"loader", "hdf5"},
                                 {"glob_str", "d.h5"},
                                 {"required", true},
                                 {"enable_mapping", 1}});
            }),
            ErrorCode::invalid_argument);
}

TEST(Loaders, NonStringMapFromAttrIsRefused) {
  TempDir dir;
  {
    auto store = store::Store::open(dir / "d.h5", "w");
    store->root()->require_group("g")->attrs().set("content", "time_series");
    store->close();
  }
  DataManager dm(dir.path(), {.out_dir = std::nullopt});
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  dm.load("d", Value{{"loader", "hdf5"},
                                     {"glob_str", "d.h5"},
                                     {"required", true},
                                     {"enable_mapping", true},
                                     {"map_from_attr", 3}});
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("map_from_attr"), std::string::npos) << why;
  EXPECT_NE(why.find("d.h5"), std::string::npos) << why;
  EXPECT_FALSE(dm.contains("d"));
}

}  // namespace
}  // namespace larder::tree
