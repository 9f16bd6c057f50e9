#include "larder/codec/registry.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "codec/test_data.h"
#include "larder/core/error.h"

namespace larder::codec {
namespace {

using nlohmann::json;

// Runs `f`, expecting an Error with `code` whose message contains every one of `words`.
template <class F>
void expect_error(F&& f, ErrorCode code, std::initializer_list<std::string_view> words) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (std::string_view word : words) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos)
          << "'" << e.what() << "' does not name '" << word << "'";
    }
  }
}

const CodecRegistry& builtin() {
  return CodecRegistry::builtin();
}

TEST(CodecRegistry, ListsEveryBuiltinCodecSortedById) {
  std::vector<std::string> ids;
  for (const auto& info : builtin().list())
    ids.push_back(info.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"bitshuffle", "blosc-blosclz", "blosc-lz4",
                                           "blosc-lz4hc", "blosc-zlib", "blosc-zstd", "gzip", "lz4",
                                           "lzf", "none", "zstd"}));
  for (const auto& id : ids)
    EXPECT_TRUE(builtin().contains(id)) << id;
  EXPECT_FALSE(builtin().contains("brotli"));
}

TEST(CodecRegistry, InfoNamesTheHdf5FilterAndNumcodecsId) {
  for (const auto& info : builtin().list()) {
    SCOPED_TRACE(info.id);
    EXPECT_FALSE(info.description.empty());
    const auto codec = builtin().make({.id = info.id});
    EXPECT_EQ(codec->hdf5_filter(1024).id, info.hdf5_filter_id);
    if (info.numcodecs_id.empty() && info.id != "none") {  // HDF5 only: lzf, bitshuffle
      expect_error([&] { (void)codec->numcodecs_config(); }, ErrorCode::unsupported, {info.id});
      continue;
    }
    // lz4's default framing is HDF5's; numcodecs has its own.
    const json config =
        info.id == "lz4" ? builtin().make({.id = "lz4", .format = "numcodecs"})->numcodecs_config()
                         : codec->numcodecs_config();
    EXPECT_EQ(config.is_null() ? "" : config["id"].get<std::string>(), info.numcodecs_id);
  }
}

TEST(CodecRegistry, UnknownIdIsNotFoundAndListsTheKnownOnes) {
  expect_error([] { builtin().make({.id = "brotli"}); }, ErrorCode::not_found,
               {"brotli", "blosc-lz4", "zstd", "gzip"});
}

TEST(CodecRegistry, RejectsSettingsNamingFieldAndValue) {
  expect_error([] { make_codec({.id = "zstd", .level = 99}); }, ErrorCode::invalid_argument,
               {"zstd level 99 is outside -131072..22"});
  expect_error([] { make_codec({.id = "blosc-lz4", .level = 10}); }, ErrorCode::invalid_argument,
               {"blosc-lz4", "level 10"});
  expect_error([] { make_codec({.id = "blosc-zstd", .typesize = 0}); }, ErrorCode::invalid_argument,
               {"typesize 0"});
  expect_error([] { make_codec({.id = "blosc-zstd", .typesize = 256}); },
               ErrorCode::invalid_argument, {"typesize 256", "1..255"});
  expect_error([] { make_codec({.id = "lz4", .level = 0}); }, ErrorCode::invalid_argument,
               {"lz4", "acceleration", "0"});
  expect_error([] { make_codec({.id = "lz4", .format = "frame"}); }, ErrorCode::invalid_argument,
               {"format 'frame'"});
  expect_error([] { make_codec({.id = "lz4", .block_size = std::size_t{3} << 30}); },
               ErrorCode::invalid_argument, {"block_size 3221225472"});
  expect_error([] { make_codec({.id = "gzip", .level = 10}); }, ErrorCode::invalid_argument,
               {"gzip level 10", "0..9"});
  expect_error([] { make_codec({.id = "gzip", .format = "bzip2"}); }, ErrorCode::invalid_argument,
               {"format 'bzip2'"});
  expect_error([] { make_codec({.id = "zstd", .format = "hdf5"}); }, ErrorCode::invalid_argument,
               {"format 'hdf5'"});
}

TEST(CodecRegistry, MadeCodecsCarryTheirDefaults) {
  EXPECT_EQ(make_codec({.id = "zstd"})->spec(), (CodecSpec{.id = "zstd", .level = 3}));
  EXPECT_EQ(make_codec({.id = "blosc-lz4", .typesize = 4})->spec(),
            (CodecSpec{.id = "blosc-lz4", .level = 5, .shuffle = Shuffle::byte, .typesize = 4}));
  EXPECT_EQ(make_codec({.id = "lz4"})->spec(),
            (CodecSpec{.id = "lz4", .level = 1, .block_size = 1u << 30, .format = "hdf5"}));
  EXPECT_EQ(make_codec({.id = "gzip"})->spec(),
            (CodecSpec{.id = "gzip", .level = 6, .format = "zlib"}));
  // Settings a codec does not use are dropped, so any spec may carry the item size.
  EXPECT_EQ(make_codec({.id = "zstd", .shuffle = Shuffle::bit, .typesize = 8})->spec(),
            (CodecSpec{.id = "zstd", .level = 3}));
  EXPECT_EQ(make_codec({.id = "none", .level = 4, .typesize = 2})->spec(), CodecSpec{});
}

TEST(CodecRegistry, OwnRegistryAddsACodec) {
  CodecRegistry mine = builtin();
  const auto info = [](std::string id) {
    return CodecInfo{.id = std::move(id),
                     .description = "stores as is, louder",
                     .hdf5_filter_id = 0,
                     .numcodecs_id = ""};
  };
  mine.add(info("shout"), [](const CodecSpec&) { return make_codec({.id = "none"}); });
  EXPECT_TRUE(mine.contains("shout"));
  EXPECT_FALSE(builtin().contains("shout"));
  EXPECT_EQ(mine.make({.id = "shout"})->spec().id, "none");
  expect_error([&] { mine.add(info("zstd"), [](const CodecSpec&) { return nullptr; }); },
               ErrorCode::invalid_argument, {"'zstd' is already registered"});
  expect_error([&] { mine.add(info(""), [](const CodecSpec&) { return nullptr; }); },
               ErrorCode::invalid_argument, {"empty"});
}

std::vector<CodecSpec> specs_with_hdf5_filters() {
  std::vector<CodecSpec> specs;
  for (const char* id : {"blosc-blosclz", "blosc-lz4", "blosc-lz4hc", "blosc-zstd", "blosc-zlib"}) {
    for (Shuffle shuffle : {Shuffle::none, Shuffle::byte, Shuffle::bit}) {
      specs.push_back({.id = id, .level = 7, .shuffle = shuffle, .typesize = 8});
    }
  }
  for (int level : {-50, 1, 3, 22})
    specs.push_back({.id = "zstd", .level = level});
  specs.push_back({.id = "lz4"});
  specs.push_back({.id = "lz4", .block_size = 65536});
  for (int level : {0, 6, 9})
    specs.push_back({.id = "gzip", .level = level});
  specs.push_back({.id = "none"});
  return specs;
}

TEST(CodecRegistry, SpecFromHdf5InvertsHdf5Filter) {
  for (const CodecSpec& asked : specs_with_hdf5_filters()) {
    const auto codec = make_codec(asked);
    const Hdf5Filter filter = codec->hdf5_filter(1 << 20);
    SCOPED_TRACE(codec->spec().to_json().dump());
    EXPECT_EQ(builtin().spec_from_hdf5(filter.id, filter.cd_values), codec->spec());
  }
}

TEST(CodecRegistry, Hdf5FiltersAreTheRegisteredOnes) {
  const auto blosc =
      make_codec({.id = "blosc-zstd", .level = 4, .shuffle = Shuffle::bit, .typesize = 8});
  const Hdf5Filter b = blosc->hdf5_filter(65536);
  EXPECT_EQ(b.id, 32001u);
  EXPECT_EQ(b.name, "blosc");
  EXPECT_EQ(b.cd_values, (std::vector<unsigned>{2, 2, 8, 65536, 4, 2, 5}));
  EXPECT_EQ(make_codec({.id = "zstd", .level = 7})->hdf5_filter(10).cd_values,
            std::vector<unsigned>{7});
  EXPECT_EQ(make_codec({.id = "lz4"})->hdf5_filter(10).cd_values, std::vector<unsigned>{1u << 30});
  const Hdf5Filter deflate = make_codec({.id = "gzip", .level = 4})->hdf5_filter(10);
  EXPECT_EQ(deflate.id, 1u);
  EXPECT_EQ(deflate.name, "deflate");
  EXPECT_EQ(deflate.cd_values, std::vector<unsigned>{4});
  EXPECT_EQ(make_codec({.id = "none"})->hdf5_filter(10).id, 0u);
}

TEST(CodecRegistry, SpecFromHdf5FillsTheFilterDefaults) {
  // hdf5-blosc as h5py/PyTables often leave it: only the first four values.
  const std::vector<unsigned> short_blosc{2, 2, 4, 40000};
  EXPECT_EQ(
      builtin().spec_from_hdf5(32001, short_blosc),
      (CodecSpec{.id = "blosc-blosclz", .level = 5, .shuffle = Shuffle::byte, .typesize = 4}));
  // Items over 255 bytes are not shuffled by blosc: typesize 1.
  const std::vector<unsigned> wide{2, 2, 1000, 40000, 5, 1, 1};
  EXPECT_EQ(builtin().spec_from_hdf5(32001, wide).typesize, 1);
  EXPECT_EQ(builtin().spec_from_hdf5(32015, {}), (CodecSpec{.id = "zstd", .level = 3}));
  EXPECT_EQ(builtin().spec_from_hdf5(32004, {}), make_codec({.id = "lz4"})->spec());
}

TEST(CodecRegistry, SpecFromHdf5RejectsWhatItDoesNotRead) {
  expect_error([] { builtin().spec_from_hdf5(307, {}); }, ErrorCode::unsupported, {"307", "bzip2"});
  expect_error([] { builtin().spec_from_hdf5(32008, {}); }, ErrorCode::invalid_argument,
               {"32008", "bitshuffle"});
  expect_error([] { builtin().spec_from_hdf5(77777, {}); }, ErrorCode::unsupported, {"77777"});
  const std::vector<unsigned> snappy{2, 2, 4, 40000, 5, 1, 3};
  expect_error([&] { builtin().spec_from_hdf5(32001, snappy); }, ErrorCode::unsupported,
               {"snappy"});
  const std::vector<unsigned> level_12{2, 2, 4, 40000, 12, 1, 1};
  expect_error([&] { builtin().spec_from_hdf5(32001, level_12); }, ErrorCode::invalid_argument,
               {"32001", "level 12"});
  const std::vector<unsigned> deflate_12{12};
  expect_error([&] { builtin().spec_from_hdf5(1, deflate_12); }, ErrorCode::invalid_argument,
               {"level 12"});
}

TEST(CodecRegistry, FormatsWithoutAnHdf5FilterOrNumcodecsCodecSaySo) {
  expect_error([] { make_codec({.id = "gzip", .format = "gzip"})->hdf5_filter(10); },
               ErrorCode::unsupported, {"gzip"});
  expect_error([] { make_codec({.id = "lz4", .format = "numcodecs"})->hdf5_filter(10); },
               ErrorCode::unsupported, {"numcodecs"});
  expect_error([] { make_codec({.id = "lz4"})->numcodecs_config(); }, ErrorCode::unsupported,
               {"hdf5"});
  expect_error([] { make_codec({.id = "blosc-lz4"})->hdf5_filter(std::size_t{5} << 30); },
               ErrorCode::unsupported, {"5368709120"});
}

std::vector<CodecSpec> specs_with_numcodecs_configs() {
  std::vector<CodecSpec> specs;
  for (const char* id : {"blosc-blosclz", "blosc-lz4", "blosc-lz4hc", "blosc-zstd", "blosc-zlib"}) {
    for (Shuffle shuffle : {Shuffle::none, Shuffle::byte, Shuffle::bit}) {
      specs.push_back({.id = id, .level = 3, .shuffle = shuffle, .typesize = 4});
    }
  }
  specs.push_back({.id = "blosc-lz4", .typesize = 2, .block_size = 8192});
  for (int level : {-5, 1, 3, 22})
    specs.push_back({.id = "zstd", .level = level});
  specs.push_back({.id = "lz4", .format = "numcodecs"});
  specs.push_back({.id = "lz4", .level = 9, .format = "numcodecs"});
  specs.push_back({.id = "gzip", .level = 1});
  specs.push_back({.id = "gzip", .level = 9, .format = "gzip"});
  specs.push_back({.id = "none"});
  return specs;
}

TEST(CodecRegistry, SpecFromNumcodecsInvertsNumcodecsConfig) {
  for (const CodecSpec& asked : specs_with_numcodecs_configs()) {
    const auto codec = make_codec(asked);
    SCOPED_TRACE(codec->spec().to_json().dump());
    EXPECT_EQ(builtin().spec_from_numcodecs(codec->numcodecs_config(), codec->spec().typesize),
              codec->spec());
  }
}

TEST(CodecRegistry, NumcodecsConfigsAreNumcodecsOwn) {
  EXPECT_EQ(
      make_codec({.id = "blosc-zstd", .level = 3, .shuffle = Shuffle::bit})->numcodecs_config(),
      json::parse(R"({"id":"blosc","cname":"zstd","clevel":3,"shuffle":2,"blocksize":0})"));
  EXPECT_EQ(make_codec({.id = "zstd", .level = 5})->numcodecs_config(),
            json::parse(R"({"id":"zstd","level":5})"));
  EXPECT_EQ(make_codec({.id = "lz4", .format = "numcodecs"})->numcodecs_config(),
            json::parse(R"({"id":"lz4","acceleration":1})"));
  EXPECT_EQ(make_codec({.id = "gzip"})->numcodecs_config(),
            json::parse(R"({"id":"zlib","level":6})"));
  EXPECT_EQ(make_codec({.id = "gzip", .format = "gzip"})->numcodecs_config(),
            json::parse(R"({"id":"gzip","level":6})"));
  EXPECT_TRUE(make_codec({.id = "none"})->numcodecs_config().is_null());
}

TEST(CodecRegistry, NumcodecsAutoshuffleDependsOnItemSize) {
  const json config = json::parse(R"({"id":"blosc","cname":"lz4","clevel":5,"shuffle":-1})");
  EXPECT_EQ(builtin().spec_from_numcodecs(config, 1).shuffle, Shuffle::bit);
  EXPECT_EQ(builtin().spec_from_numcodecs(config, 4).shuffle, Shuffle::byte);
  EXPECT_EQ(builtin().spec_from_numcodecs(config, 4).typesize, 4);
}

TEST(CodecRegistry, NumcodecsDefaultsApplyToMissingSettings) {
  EXPECT_EQ(builtin().spec_from_numcodecs(json::parse(R"({"id":"blosc"})"), 8),
            (CodecSpec{.id = "blosc-lz4", .level = 5, .shuffle = Shuffle::byte, .typesize = 8}));
  EXPECT_EQ(builtin().spec_from_numcodecs(json::parse(R"({"id":"zlib"})"), 1),
            (CodecSpec{.id = "gzip", .level = 1, .format = "zlib"}));
  EXPECT_EQ(
      builtin().spec_from_numcodecs(json::parse(R"({"id":"zstd","level":4,"checksum":false})"), 1),
      (CodecSpec{.id = "zstd", .level = 4}));
}

TEST(CodecRegistry, SpecFromNumcodecsRejectsWhatItDoesNotRead) {
  expect_error([] { builtin().spec_from_numcodecs(json::parse(R"({"id":"bz2"})"), 1); },
               ErrorCode::unsupported, {"'bz2'"});
  expect_error(
      [] { builtin().spec_from_numcodecs(json::parse(R"({"id":"blosc","cname":"snappy"})"), 1); },
      ErrorCode::unsupported, {"'snappy'"});
  expect_error([] { builtin().spec_from_numcodecs(json::parse(R"({"level":1})"), 1); },
               ErrorCode::invalid_argument, {"'id'"});
  expect_error(
      [] { builtin().spec_from_numcodecs(json::parse(R"({"id":"zstd","level":"max"})"), 1); },
      ErrorCode::invalid_argument, {"'level'", "\"max\""});
  expect_error(
      [] { builtin().spec_from_numcodecs(json::parse(R"({"id":"blosc","shuffle":3})"), 4); },
      ErrorCode::invalid_argument, {"shuffle 3"});
}

}  // namespace
}  // namespace larder::codec
