// Group — a named container of groups and datasets, addressed by paths.
//
// Paths are "a/b/c" relative to the group, or "/a/b" from the root; "."
// and ".." segments are refused. create_* makes missing intermediate groups.
// A missing path raises Error(not_found) naming the path and the members
// that do exist. One thread at a time per Group object.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "larder/store/dataset.h"
#include "larder/store/node.h"

namespace larder::store {

struct MemberInfo {
  std::string name;
  NodeKind kind;
};

class Group : public Node {
 public:
  NodeKind kind() const final { return NodeKind::group; }

  virtual std::shared_ptr<Group> create_group(std::string_view path) = 0;
  // The group at `path`, created (with its parents) when missing.
  virtual std::shared_ptr<Group> require_group(std::string_view path) = 0;
  // open() of a group; Error(type_mismatch) for a dataset.
  std::shared_ptr<Group> open_group(std::string_view path);
  virtual std::shared_ptr<Dataset> create_dataset(std::string_view path,
                                                  const DatasetOptions& options) = 0;
  // create_dataset with `data` (of the options' shape) as its contents, in
  // one commit where the driver can (the HDF5 driver flushes once, not once
  // to create and again to write). A `data` of another shape is refused
  // before anything is created.
  virtual std::shared_ptr<Dataset> create_dataset_from(std::string_view path,
                                                       const DatasetOptions& options,
                                                       ArrayView data);
  // open() of a dataset; Error(type_mismatch) for a group.
  std::shared_ptr<Dataset> open_dataset(std::string_view path);
  // A group or a dataset.
  virtual std::shared_ptr<Node> open(std::string_view path) = 0;
  virtual bool contains(std::string_view path) = 0;
  virtual void remove(std::string_view path) = 0;
  // Direct members, in name order.
  virtual std::vector<MemberInfo> members() = 0;

  // Every node below this group, depth first in name order; `visit` gets
  // paths relative to this group ("a", "a/b"). A link back to a group the
  // walk is inside of (HDF5 hard links can form cycles) is visited, not
  // entered.
  void visit(const std::function<void(const std::string& path, NodeKind kind)>& visit);
};

// Error(invalid_argument) unless `data` has the shape `options` give (for
// drivers' create_dataset_from).
void check_initial_data(const Group& group, std::string_view path, const DatasetOptions& options,
                        const ArrayView& data);

// Splits "a/b//c" into {"a", "b", "c"}; Error(invalid_argument) for "." or
// ".." segments and for an empty path.
std::vector<std::string> split_path(std::string_view path);

}  // namespace larder::store
