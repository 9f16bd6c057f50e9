// "FILE:PATH" arguments of the store commands. The path is what follows the
// last ':' whose left side names an existing file (paths inside a store may
// not contain ':', file names may); without one, the whole text is the file.
#pragma once

#include <string>

namespace larder::cli {

struct Location {
  std::string file;
  std::string path;  // "" for the root
};

// `must_exist`: a location whose file does not exist is still split at the
// last ':' when the file is to be created (cp's target).
Location parse_location(const std::string& text, bool must_exist = true);

std::string human_bytes(double bytes);

}  // namespace larder::cli
