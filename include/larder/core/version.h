// The version of larder this library was built as ("0.1.0").
#pragma once

#include <string_view>

namespace larder {

std::string_view version() noexcept;

}  // namespace larder
