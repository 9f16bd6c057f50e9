// What a call throws: the ErrorCode of the larder::Error `f` raises (and
// its message in `why`). A call that raises nothing fails the test.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "larder/core/error.h"

namespace larder::testing {

inline ErrorCode error_of(const std::function<void()>& f, std::string* why = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (why) *why = e.what();
    return e.code();
  }
  ADD_FAILURE() << "no error raised";
  return ErrorCode::io;
}

}  // namespace larder::testing
