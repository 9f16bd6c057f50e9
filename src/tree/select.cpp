#include "larder/tree/select.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <unordered_map>

#include "larder/core/error.h"
#include "larder/core/parallel.h"

namespace larder::tree {
namespace {

// The state group of `point`: named by its zero-padded number as paramspace
// writes it, or by the bare number; nullptr when missing.
Group* state_group(Group& group, const Point& point) {
  for (const std::string& name : {point.state_name, std::to_string(point.state_no)}) {
    if (!group.contains(name)) continue;
    Node& node = group.at(name);
    if (node.is_group()) return static_cast<Group*>(&node);
  }
  return nullptr;
}

const ArrayLeaf& field_leaf(Group& state, std::string_view field) {
  Node& node = state.at(field);
  const auto* leaf = dynamic_cast<const ArrayLeaf*>(&node);
  if (leaf == nullptr) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("field '{}' of state '{}' is a {}, not an array", field, state.path(),
                            node.class_name()));
  }
  return *leaf;
}

std::vector<std::string> data_dims_of(const ArrayLeaf& leaf) {
  const auto it = leaf.attrs().find("dims");
  if (it == leaf.attrs().end() || !it->is_array() || it->size() != leaf.shape().rank()) return {};
  std::vector<std::string> dims;
  for (const auto& d : *it) {
    if (!d.is_string()) return {};
    dims.push_back(d.get<std::string>());
  }
  return dims;
}

}  // namespace

ParamSpace param_space_of(const Group& group) {
  if (group.group_class() != GroupClass::param_space) {
    throw Error(ErrorCode::type_mismatch, fmt::format("'{}' is a {}, not a ParamSpaceGroup",
                                                      group.path(), group.class_name()));
  }
  const auto it = group.attrs().find("pspace");
  if (it == group.attrs().end()) {
    throw Error(ErrorCode::not_found,
                fmt::format("ParamSpaceGroup '{}' has no 'pspace' attribute (load pspace.yml "
                            "with yaml_to_object and load_as_attr)",
                            group.path()));
  }
  return ParamSpace::from_value(*it, group.path());
}

Group* find_param_space_group(Group& group) {
  if (group.group_class() == GroupClass::param_space) return &group;
  for (const auto& member : group.members()) {
    if (!member->is_group()) continue;
    if (Group* found = find_param_space_group(static_cast<Group&>(*member))) return found;
  }
  return nullptr;
}

Combined select(Group& group, std::string_view field, const SelectOptions& options) {
  return std::move(
      select_fields(group, {{.name = std::string(field), .path = std::string(field)}}, options)[0]
          .second);
}

std::vector<std::pair<std::string, Combined>> select_fields(Group& group,
                                                            const std::vector<FieldSpec>& fields,
                                                            const SelectOptions& options) {
  const ParamSpace full = param_space_of(group);
  const ParamSpace space =
      options.subspace.is_null() ? full : full.subspace(options.subspace, group.path());
  const auto points = space.points();

  // Each state's group, once for all fields.
  std::unordered_map<std::int64_t, Group*> states;
  for (const auto& point : points) {
    if (Group* state = state_group(group, point)) states.emplace(point.state_no, state);
  }

  std::vector<std::pair<std::string, Combined>> out;
  for (const auto& [label, field, dims] : fields) {
    // Find every state's leaf first, then read the lazy ones on the pool,
    // without keeping what they read in the tree.
    std::unordered_map<std::int64_t, std::size_t> slot;
    std::vector<const ArrayLeaf*> order;
    for (const auto& point : points) {
      const auto it = states.find(point.state_no);
      if (it == states.end()) continue;
      slot.emplace(point.state_no, order.size());
      order.push_back(&field_leaf(*it->second, field));
    }
    // The data dims, checked before any state's field is read.
    std::vector<std::string> data_dims = dims;
    if (!order.empty()) {
      const std::size_t rank = order.front()->shape().rank();
      if (dims.empty()) {
        data_dims = data_dims_of(*order.front());
      } else if (dims.size() != rank) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("field '{}' names {} dims ({}) for data of rank {}", field,
                                dims.size(), fmt::join(dims, ", "), rank),
                    "", group.path());
      }
    }
    std::vector<std::optional<Array>> arrays(order.size());
    parallel_for(static_cast<std::int64_t>(order.size()), 1, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const auto k = static_cast<std::size_t>(i);
        arrays[k] = order[k]->read();
      }
    });
    auto combined = combine(
        space, points, field,
        [&](const Point& point) -> std::optional<Array> {
          const auto it = slot.find(point.state_no);
          if (it == slot.end()) return std::nullopt;
          // Shares the buffer read: combine copies each field once.
          const Array& data = *arrays[it->second];
          return Array::adopt_read_only(data.dtype(), data.shape(), data.buffer());
        },
        options.method, data_dims);
    out.emplace_back(label, std::move(combined));
  }
  return out;
}

}  // namespace larder::tree
