// Random selections of every kind (everything, an index, slices with any
// step, index lists with repeats, masks) over a shape, for the
// differential tests of the drivers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "larder/core/selection.h"

namespace larder::testing {

inline Selection random_selection(std::mt19937_64& rng, const Shape& shape) {
  std::vector<AxisSelection> axes;
  for (std::size_t a = 0; a < shape.rank(); ++a) {
    const std::int64_t n = shape[a];
    std::uniform_int_distribution<std::int64_t> pos(-n, n - 1);
    switch (rng() % 5) {
      case 0:
        axes.push_back(AxisSelection::all());
        break;
      case 1:
        axes.push_back(AxisSelection::index(pos(rng)));
        break;
      case 2: {
        std::int64_t step = static_cast<std::int64_t>(rng() % 4) + 1;
        if (rng() % 2) step = -step;
        axes.push_back(AxisSelection::slice(pos(rng), pos(rng), step));
        break;
      }
      case 3: {
        std::vector<std::int64_t> list(rng() % 12);
        for (auto& i : list)
          i = pos(rng);
        axes.push_back(AxisSelection::indices(list));
        break;
      }
      default: {
        std::vector<bool> mask(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < mask.size(); ++i)
          mask[i] = rng() % 3 == 0;
        axes.push_back(AxisSelection::mask(mask));
      }
    }
  }
  return Selection(axes);
}

// Whether `selection` names a position twice on some axis: a write through
// it then has no defined winner (numpy's last-write-wins holds only without
// repeats on several axes at once), so write tests skip such selections.
inline bool has_repeats(const Selection& selection, const Shape& shape) {
  for (const auto& axis : selection.resolve(shape)) {
    std::vector<std::int64_t> seen;
    for (std::int64_t k = 0; k < axis.count; ++k)
      seen.push_back(axis.source_index(k));
    std::sort(seen.begin(), seen.end());
    if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) return true;
  }
  return false;
}

}  // namespace larder::testing
