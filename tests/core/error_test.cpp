#include "larder/core/error.h"

#include <gtest/gtest.h>

namespace larder {
namespace {

TEST(Error, MessageNamesCodeFilePathAndValue) {
  const Error e(ErrorCode::corrupt, "chunk 3 claims 900 bytes, expected 512", "runs/a.h5", "/x/y");
  EXPECT_STREQ(e.what(), "corrupt: runs/a.h5:/x/y: chunk 3 claims 900 bytes, expected 512");
  EXPECT_EQ(e.code(), ErrorCode::corrupt);
  EXPECT_EQ(e.file(), "runs/a.h5");
  EXPECT_EQ(e.path(), "/x/y");
}

TEST(Error, AtAddsContextButKeepsTheInnermost) {
  const Error bare(ErrorCode::not_found, "no array 'x'");
  EXPECT_STREQ(bare.what(), "not found: no array 'x'");
  const Error placed = bare.at("f.h5", "/g/x");
  EXPECT_STREQ(placed.what(), "not found: f.h5:/g/x: no array 'x'");
  const Error outer = placed.at("other.h5", "/elsewhere");
  EXPECT_EQ(outer.file(), "f.h5");
  EXPECT_EQ(outer.path(), "/g/x");
}

TEST(Error, EveryCodeHasAName) {
  for (ErrorCode c :
       {ErrorCode::not_found, ErrorCode::invalid_argument, ErrorCode::type_mismatch,
        ErrorCode::out_of_range, ErrorCode::corrupt, ErrorCode::io, ErrorCode::unsupported}) {
    EXPECT_NE(to_string(c), "error");
  }
  EXPECT_THROW(throw_error(ErrorCode::io, "disk full"), Error);
}

}  // namespace
}  // namespace larder
