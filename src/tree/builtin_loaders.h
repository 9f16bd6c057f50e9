// Pieces of the built-in loader registry shared by the loader sources.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "larder/tree/loaders.h"

namespace larder::tree {

// Registers numpy_binary and csv (array_loaders.cpp).
void add_array_file_loaders(LoaderRegistry& registry);

// A boolean loader option, `fallback` when absent or null;
// Error(invalid_argument) for a non-boolean.
bool loader_flag(const Value& options, std::string_view key, bool fallback);

// `text` in lower case (ASCII).
inline std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace larder::tree
