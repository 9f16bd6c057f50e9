// parse_yaml reads users' load configs and sweeps, ParamSpace::from_value
// what they hold: with small limits, neither may crash, hang or eat memory,
// whatever the bytes; what parses writes back (to_yaml) and parses again to
// the same value.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "larder/core/error.h"
#include "larder/tree/pspace.h"
#include "larder/tree/yaml.h"

namespace {

// NaN != NaN, so compare the YAML texts of values that hold one.
bool same(const larder::tree::Value& a, const larder::tree::Value& b) {
  return a == b || larder::tree::to_yaml(a) == larder::tree::to_yaml(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const larder::tree::YamlLimits limits{
      .max_bytes = 1 << 16, .max_depth = 32, .max_nodes = 20'000, .max_aliases = 1'000};
  larder::tree::Value value;
  try {
    value = larder::tree::parse_yaml(text, "fuzz.yml", limits);
  } catch (const larder::Error&) {
    return 0;
  }
  const larder::tree::Value again =
      larder::tree::parse_yaml(larder::tree::to_yaml(value), "again.yml");
  if (!same(value, again)) std::abort();
  try {
    const auto space = larder::tree::ParamSpace::from_value(value, "fuzz.yml");
    if (space.max_state_no() < 10'000) {
      const auto points = space.points();
      if (static_cast<std::int64_t>(points.size()) != std::max<std::int64_t>(space.volume(), 1))
        std::abort();
      // Every point's parameters resolve (coupled dims through their target).
      for (const auto& point : points)
        if (!space.params_of(point).is_object()) std::abort();
    }
  } catch (const larder::Error&) {
  }
  return 0;
}
