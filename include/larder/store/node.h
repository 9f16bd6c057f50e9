// Node — what Group and Dataset share: a path inside a store and attributes.
//
// Nodes are handed out as shared_ptr by their Group; a node stays usable
// while its store is open, and raises Error(invalid_argument) once the store
// is closed. Paths are absolute inside the store ("/a/b"); the store's
// file path is store_path().
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "larder/store/attributes.h"

namespace larder::store {

enum class NodeKind { group, dataset };

// Which object a node is, where several links can reach one object: HDF5's
// hard links (which can even make a group its own descendant).
struct ObjectId {
  std::uint64_t file = 0;
  std::uint64_t address = 0;
  bool operator==(const ObjectId&) const = default;
};

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
  // Set where links can share objects (HDF5); nullopt where each path is
  // its own object (directories, memory).
  virtual std::optional<ObjectId> object_id() const { return std::nullopt; }
};

// The groups a recursive walk is inside of, outermost first. A walk that
// enters a group already on it would never end (a cycle of hard links):
// enter() then returns false and adds nothing.
class WalkPath {
 public:
  bool enter(const Node& group);
  void leave() { ids_.pop_back(); }

 private:
  std::vector<std::optional<ObjectId>> ids_;
};

// The path of member `name` of the group at `base`: "/" + "a" -> "/a";
// "/a" + "b" -> "/a/b".
std::string join_path(const std::string& base, const std::string& name);

}  // namespace larder::store
