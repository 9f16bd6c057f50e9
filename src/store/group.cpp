#include "larder/store/group.h"

#include <fmt/format.h>

#include <algorithm>

#include "larder/core/error.h"
#include "larder/store/dataset.h"

namespace larder::store {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    const std::size_t end = std::min(path.find('/', pos), path.size());
    const std::string_view part = path.substr(pos, end - pos);
    if (part == "." || part == "..") {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("path '{}' has a '{}' segment; use plain names", path, part));
    }
    if (!part.empty()) parts.emplace_back(part);
    pos = end + 1;
  }
  return parts;
}

std::string join_path(const std::string& base, const std::string& name) {
  return base == "/" ? "/" + name : base + "/" + name;
}

std::string Node::name() const {
  const std::string& p = path();
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

void check_initial_data(const Group& group, std::string_view path, const DatasetOptions& options,
                        const ArrayView& data) {
  if (data.shape() != options.shape) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("the data to create {} with has shape {}, the dataset {}", path,
                            data.shape().to_string(), options.shape.to_string()),
                group.store_path().string(), group.path());
  }
}

std::shared_ptr<Dataset> Group::create_dataset_from(std::string_view path,
                                                    const DatasetOptions& options, ArrayView data) {
  check_initial_data(*this, path, options, data);
  auto dataset = create_dataset(path, options);
  if (options.shape.num_elements() > 0) dataset->write(Selection(), data);
  return dataset;
}

std::shared_ptr<Group> Group::open_group(std::string_view path) {
  auto node = open(path);
  if (node->kind() != NodeKind::group) {
    throw Error(ErrorCode::type_mismatch, "this is a dataset, not a group",
                node->store_path().string(), node->path());
  }
  return std::static_pointer_cast<Group>(node);
}

std::shared_ptr<Dataset> Group::open_dataset(std::string_view path) {
  auto node = open(path);
  if (node->kind() != NodeKind::dataset) {
    throw Error(ErrorCode::type_mismatch, "this is a group, not a dataset",
                node->store_path().string(), node->path());
  }
  return std::static_pointer_cast<Dataset>(node);
}

bool WalkPath::enter(const Node& group) {
  const auto id = group.object_id();
  if (id && std::find(ids_.begin(), ids_.end(), id) != ids_.end()) return false;
  ids_.push_back(id);
  return true;
}

namespace {

void visit_below(Group& group, const std::string& prefix, WalkPath& walk,
                 const std::function<void(const std::string&, NodeKind)>& visit) {
  for (const auto& member : group.members()) {
    const std::string path = prefix + member.name;
    visit(path, member.kind);
    if (member.kind != NodeKind::group) continue;
    auto child = group.open_group(member.name);
    if (!walk.enter(*child)) continue;  // a link back to a group the walk is in
    visit_below(*child, path + "/", walk, visit);
    walk.leave();
  }
}

}  // namespace

void Group::visit(const std::function<void(const std::string&, NodeKind)>& visit) {
  WalkPath walk;
  walk.enter(*this);
  visit_below(*this, "", walk, visit);
}

}  // namespace larder::store
