// select on a ParamSpaceGroup: one field of every state gathered into one
// N-D array with dims (sweep dims..., data dims...) and coordinates, as
// dantro's ParamSpaceGroup.select does.
//
// The group's parameter space is its attribute "pspace" (set by a
// yaml_to_object entry with load_as_attr). A state's field is the ArrayLeaf
// at `field` inside the member named by the state's zero-padded number; its
// data dims come from its "dims" attribute, else dim_0, dim_1, ... Lazy leaves
// are read on the thread pool. Reads only; safe while no one modifies the tree.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "larder/tree/combine.h"
#include "larder/tree/node.h"
#include "larder/tree/pspace.h"

namespace larder::tree {

// The parameter space of a ParamSpaceGroup; Error(not_found) when it has no
// "pspace" attribute, Error(type_mismatch) when `group` is not one.
ParamSpace param_space_of(const Group& group);

// The first ParamSpaceGroup at or below `group`, depth first; nullptr when none.
Group* find_param_space_group(Group& group);

struct SelectOptions {
  Value subspace{};  // null: the whole space; else {dim: values | {idx: [...]}, ...}
  CombineMethod method = CombineMethod::concat;
};

Combined select(Group& group, std::string_view field, const SelectOptions& options = {});

// One of several fields to select: the result's key, the field's path in
// each state, and optionally the names of its data dims (instead of the
// leaf's "dims" attribute; Error(invalid_argument) when they do not match
// the field's rank).
struct FieldSpec {
  std::string name{};
  std::string path{};
  std::vector<std::string> dims{};
};

// Several fields at once, in the order given.
std::vector<std::pair<std::string, Combined>> select_fields(Group& group,
                                                            const std::vector<FieldSpec>& fields,
                                                            const SelectOptions& options = {});

}  // namespace larder::tree
