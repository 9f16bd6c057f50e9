// Tree printouts as dantro draws them: one line per node with its class and
// info ("<ParamSpaceStateGroup, 3 members, 0 attributes>"), the full tree or a
// condensed one where long member lists show their ends around
// "... (N more) ...". Pure functions of the tree; thread-safe for a tree no
// one modifies meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "larder/tree/node.h"

namespace larder::tree {

// How many lines a group's members may take at `level` (0: the members of the
// group printed), given `members` of them and `total` counted so far along the
// branch; nullopt: all. Values below 3 count as 3 (two ends and the "more" line).
using CondenseRule =
    std::function<std::optional<std::int64_t>(int level, std::int64_t members, std::int64_t total)>;

struct PrintOptions {
  int max_level = -1;       // deepest level printed; -1: no limit
  CondenseRule condense{};  // empty: print every member
  int width = 100;          // line width the columns are laid out for
  double info_ratio = 0.6;  // share of the width for the "<...>" part
  std::string title{};      // the first line's name ("Tree of <title>, ...")
};

// The full tree below `group`.
std::string tree_text(const Group& group, const PrintOptions& options = {});
// The condensed tree: max level 10 and the DataManager's rule (level 1 shows
// 3 lines of more than 3 members, level >= 4 shows 5 of more than 15, and any
// level 7 once 100 members were counted along the branch).
std::string condensed_tree_text(const Group& group, PrintOptions options = {});
// That rule, for PrintOptions::condense.
CondenseRule default_condense_rule();

}  // namespace larder::tree
