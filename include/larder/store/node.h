// Node — what Group and Dataset share: a path inside a store and attributes.
//
// Nodes are handed out as shared_ptr by their Group; a node stays usable
// while its store is open, and raises Error(invalid_argument) once the store
// is closed. Paths are absolute inside the store ("/a/b"); the store's
// file path is store_path().
#pragma once

#include <filesystem>
#include <string>

#include "larder/store/attributes.h"

namespace larder::store {

enum class NodeKind { group, dataset };

class Node {
 public:
  virtual ~Node() = default;
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual NodeKind kind() const = 0;
  virtual const std::string& path() const = 0;  // "/" for the root
  virtual const std::filesystem::path& store_path() const = 0;
  virtual Attributes& attrs() = 0;

  // The last path segment ("" for the root).
  std::string name() const;
};

// The path of member `name` of the group at `base`: "/" + "a" -> "/a";
// "/a" + "b" -> "/a/b".
std::string join_path(const std::string& base, const std::string& name);

}  // namespace larder::store
