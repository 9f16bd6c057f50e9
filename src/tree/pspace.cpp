// Parameter spaces: dimensions are found by walking the mapping (into lists
// too, as paramspace does), checked, sorted by (order, path) and named by
// paramspace's unique-name rule; points are enumerated as mixed-radix state
// numbers over the active (unmasked) states.
#include "larder/tree/pspace.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>

#include "larder/core/error.h"
#include "larder/store/group.h"

namespace larder::tree {
namespace {

// More values than any sweep has; a typo (range: [1000000000]) fails
// instead of filling memory.
constexpr std::int64_t kMaxValues = 1'000'000;
// points() materializes every point; larger spaces are refused.
constexpr std::int64_t kMaxPoints = 10'000'000;

constexpr std::string_view kDimTags[] = {"!pdim", "!sweep"};
constexpr std::string_view kCoupledTags[] = {"!coupled-pdim", "!coupled-sweep"};

bool is_one_of(std::string_view tag, std::span<const std::string_view> tags) {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

std::string path_text(const std::vector<std::string>& path) {
  return path.empty() ? std::string("(root)") : fmt::format("{}", fmt::join(path, "."));
}

[[noreturn]] void fail(ErrorCode code, std::string_view origin, std::string message) {
  throw Error(code, std::move(message), std::string(origin));
}

bool is_index(const std::string& segment) {
  return !segment.empty() &&
         std::all_of(segment.begin(), segment.end(), [](char c) { return c >= '0' && c <= '9'; });
}

double number_of(const Value& v, std::string_view what, std::string_view origin,
                 const std::vector<std::string>& path) {
  if (!v.is_number())
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: {} must be a number, got {}", path_text(path),
                     what, v.dump()));
  return v.get<double>();
}

// numpy.linspace(start, stop, num=50, endpoint=True): arange(num) * step +
// start, with the last value set to stop.
std::vector<double> linspace(const Value& args, std::string_view origin,
                             const std::vector<std::string>& path, std::string_view key) {
  if (!args.is_array() || args.size() < 2 || args.size() > (key == "logspace" ? 5u : 4u))
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: {} takes [start, stop, num], got {}",
                     path_text(path), key, args.dump()));
  double start = number_of(args[0], key, origin, path);
  double stop = number_of(args[1], key, origin, path);
  std::int64_t num = 50;
  if (args.size() > 2) {
    if (!args[2].is_number_integer() || args[2].get<std::int64_t>() < 0 ||
        args[2].get<std::int64_t>() > kMaxValues)
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("parameter dimension at {}: {} num must be a count, got {}", path_text(path),
                       key, args[2].dump()));
    num = args[2].get<std::int64_t>();
  }
  bool endpoint = args.size() > 3 ? args[3].is_boolean() && args[3].get<bool>() : true;
  if (args.size() > 3 && !args[3].is_boolean())
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: {} endpoint must be true or false",
                     path_text(path), key));
  std::vector<double> out(static_cast<std::size_t>(num));
  double div = endpoint ? static_cast<double>(num - 1) : static_cast<double>(num);
  double step = div > 0 ? (stop - start) / div : 0;
  for (std::int64_t i = 0; i < num; ++i)
    out[i] = static_cast<double>(i) * step + start;
  if (endpoint && num > 1) out.back() = stop;
  if (key == "logspace") {
    double base = args.size() > 4 ? number_of(args[4], "logspace base", origin, path) : 10.0;
    for (double& v : out)
      v = std::pow(base, v);
  }
  return out;
}

// Python's range(*args).
std::vector<Value> python_range(const Value& args, std::string_view origin,
                                const std::vector<std::string>& path) {
  Value list = args.is_array() ? args : Value::array({args});
  bool ints = std::all_of(list.begin(), list.end(), [](const Value& v) {
    return v.is_number_integer() &&
           !(v.is_number_unsigned() &&
             v.get<std::uint64_t>() > std::uint64_t{std::numeric_limits<std::int64_t>::max()});
  });
  if (list.empty() || list.size() > 3 || !ints)
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: range takes 1 to 3 (64-bit) integers, got {}",
                     path_text(path), args.dump()));
  std::int64_t start = 0, stop = 0, step = 1;
  if (list.size() == 1) {
    stop = list[0].get<std::int64_t>();
  } else {
    start = list[0].get<std::int64_t>();
    stop = list[1].get<std::int64_t>();
    if (list.size() == 3) step = list[2].get<std::int64_t>();
  }
  if (step == 0)
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: range step must not be zero", path_text(path)));
  // The count first (in unsigned arithmetic, which cannot overflow here),
  // so a long range fails before it is built and no value steps past int64.
  std::uint64_t count = 0;
  if (step > 0 && start < stop)
    count = (static_cast<std::uint64_t>(stop) - static_cast<std::uint64_t>(start) - 1) /
                static_cast<std::uint64_t>(step) +
            1;
  if (step < 0 && start > stop)
    count = (static_cast<std::uint64_t>(start) - static_cast<std::uint64_t>(stop) - 1) /
                (0 - static_cast<std::uint64_t>(step)) +
            1;
  if (count > static_cast<std::uint64_t>(kMaxValues))
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: range too long ({} values, at most {})",
                     path_text(path), count, kMaxValues));
  std::vector<Value> out;
  out.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i)
    out.emplace_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(start) +
                                               i * static_cast<std::uint64_t>(step)));
  return out;
}

std::string python_str(const Value& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_null()) return "None";
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    std::string text = fmt::format("{}", d);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
  }
  return v.dump();
}

Value cast_to(const Value& v, const std::string& type, std::string_view origin,
              const std::vector<std::string>& path) {
  auto bad = [&] {
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: cannot cast {} with as_type {}", path_text(path),
                     v.dump(), type));
  };
  if (type == "str") return Value(python_str(v));
  if (type == "float") {
    if (v.is_number() || v.is_boolean())
      return Value(v.is_boolean() ? double(v.get<bool>()) : v.get<double>());
    bad();
  }
  if (type == "int") {
    if (v.is_number_integer()) return v;
    if (v.is_boolean()) return Value(std::int64_t{v.get<bool>()});
    if (v.is_number_float() && std::isfinite(v.get<double>()) && std::abs(v.get<double>()) < 9e18)
      return Value(static_cast<std::int64_t>(std::trunc(v.get<double>())));
    bad();
  }
  if (type == "bool") {
    if (v.is_boolean()) return v;
    if (v.is_number()) return Value(v.get<double>() != 0);
    if (v.is_string()) return Value(!v.get<std::string>().empty());
    if (v.is_structured()) return Value(!v.empty());
    return Value(false);
  }
  fail(ErrorCode::invalid_argument, origin,
       fmt::format("parameter dimension at {}: as_type must be str, int, float or bool, got {}",
                   path_text(path), type));
}

// A key equal for values Python's == (paramspace's uniqueness check, a set)
// takes for equal: numbers and bools by value (1, 1.0 and true alike),
// anything else as data; empty for NaN, which equals nothing.
std::string unique_key(const Value& v) {
  if (v.is_boolean()) return v.get<bool>() ? "n1" : "n0";
  if (v.is_number_integer()) return "n" + v.dump();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isnan(d)) return {};
    if (std::trunc(d) == d && d >= -0x1p63 && d < 0x1p63)
      return "n" + std::to_string(static_cast<std::int64_t>(d));
    if (std::trunc(d) == d && d >= 0 && d < 0x1p64)
      return "n" + std::to_string(static_cast<std::uint64_t>(d));
    return "f" + v.dump();
  }
  return "j" + v.dump();
}

// A dimension from its tagged node's mapping. A coupled dimension's
// target_name goes to `target_name`, resolved by from_value().
ParamDim parse_dim(const Value& node, std::vector<std::string> path, bool coupled,
                   std::string_view origin, Value* target_name) {
  const Value& spec = node["value"];
  ParamDim dim;
  dim.path = std::move(path);
  dim.order = std::numeric_limits<double>::infinity();
  const std::string where = path_text(dim.path);
  if (!spec.is_object())
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {} must be a mapping", where));

  static const std::set<std::string, std::less<>> dim_keys = {
      "default", "values", "range",   "linspace",      "logspace",
      "order",   "name",   "as_type", "assert_unique", "mask"};
  static const std::set<std::string, std::less<>> coupled_keys = {"default",
                                                                  "values",
                                                                  "range",
                                                                  "linspace",
                                                                  "logspace",
                                                                  "order",
                                                                  "name",
                                                                  "as_type",
                                                                  "target_name",
                                                                  "use_coupled_default",
                                                                  "use_coupled_values"};
  const auto& allowed = coupled ? coupled_keys : dim_keys;
  std::vector<std::string> value_keys;
  for (const auto& [key, value] : spec.items()) {
    if (!allowed.contains(key))
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("parameter dimension at {}: unknown key '{}' (allowed: {})", where, key,
                       fmt::join(allowed, ", ")));
    if (key == "values" || key == "range" || key == "linspace" || key == "logspace")
      value_keys.push_back(key);
  }
  if (value_keys.size() > 1)
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: give one of values, range, linspace, logspace, "
                     "not {}",
                     where, fmt::join(value_keys, " and ")));
  if (value_keys.empty() && !coupled)
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {} has no values (give values, range, linspace or "
                     "logspace)",
                     where));
  if (!coupled && !spec.contains("default"))
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {} has no default", where));
  if (spec.contains("default")) dim.default_value = spec["default"];

  if (!value_keys.empty()) {
    const std::string& key = value_keys[0];
    const Value& arg = spec[key];
    if (key == "values") {
      if (!arg.is_array())
        fail(ErrorCode::invalid_argument, origin,
             fmt::format("parameter dimension at {}: values must be a list, got {}", where,
                         arg.dump()));
      dim.values.assign(arg.begin(), arg.end());
    } else if (key == "range") {
      dim.values = python_range(arg, origin, dim.path);
    } else {
      for (double v : linspace(arg, origin, dim.path, key))
        dim.values.emplace_back(v);
    }
    if (dim.values.empty())
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("parameter dimension at {}: {} gives no values", where, key));
  }
  if (spec.contains("as_type")) {
    if (!spec["as_type"].is_string())
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("parameter dimension at {}: as_type must be a string", where));
    std::string type = spec["as_type"].get<std::string>();
    for (auto& v : dim.values)
      v = cast_to(v, type, origin, dim.path);
    if (spec.contains("default") && !dim.default_value.is_null())
      dim.default_value = cast_to(dim.default_value, type, origin, dim.path);
  }
  // paramspace refuses duplicate values unless assert_unique is false
  // (coupled dimensions follow their target and may repeat).
  if (!coupled) {
    bool assert_unique = true;
    if (spec.contains("assert_unique")) {
      if (!spec["assert_unique"].is_boolean())
        fail(ErrorCode::invalid_argument, origin,
             fmt::format("parameter dimension at {}: assert_unique must be true or false, got {}",
                         where, spec["assert_unique"].dump()));
      assert_unique = spec["assert_unique"].get<bool>();
    }
    // By key, not pairwise: a dim may have a million values.
    std::unordered_map<std::string, std::size_t> seen;
    for (std::size_t j = 0; assert_unique && j < dim.values.size(); ++j) {
      std::string key = unique_key(dim.values[j]);
      if (key.empty()) continue;
      const auto [it, inserted] = seen.emplace(std::move(key), j);
      if (!inserted)
        fail(ErrorCode::invalid_argument, origin,
             fmt::format("parameter dimension at {}: value {} appears twice (at {} and {}); "
                         "values must be unique unless assert_unique: false",
                         where, dim.values[j].dump(), it->second, j));
    }
  }
  if (spec.contains("order")) dim.order = number_of(spec["order"], "order", origin, dim.path);
  if (spec.contains("name") && !spec["name"].is_null()) {
    if (!spec["name"].is_string() || spec["name"].get<std::string>().find('.') != std::string::npos)
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("parameter dimension at {}: name must be a string without '.', got {}",
                       where, spec["name"].dump()));
    dim.name = spec["name"].get<std::string>();
  }
  dim.mask.assign(dim.values.size(), false);
  if (spec.contains("mask")) {
    const Value& mask = spec["mask"];
    if (mask.is_boolean()) {
      dim.mask.assign(dim.values.size(), mask.get<bool>());
    } else if (mask.is_array() && mask.size() == dim.values.size() &&
               std::all_of(mask.begin(), mask.end(),
                           [](const Value& m) { return m.is_boolean(); })) {
      for (std::size_t i = 0; i < mask.size(); ++i)
        dim.mask[i] = mask[i].get<bool>();
    } else if (!mask.is_null()) {
      fail(
          ErrorCode::invalid_argument, origin,
          fmt::format("parameter dimension at {}: mask must be true/false or one per value, got {}",
                      where, mask.dump()));
    }
  }
  if (coupled) {
    const Value& target = spec.contains("target_name") ? spec["target_name"] : Value();
    if (target.is_string() ||
        (target.is_array() && !target.empty() &&
         std::all_of(target.begin(), target.end(), [](const Value& t) { return t.is_string(); }))) {
      *target_name = target;
    } else {
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("coupled parameter dimension at {} needs a target_name (a name or a list "
                       "of keys)",
                       where));
    }
  }
  return dim;
}

// A coupled dimension as read, before its target is resolved.
struct CoupledSpec {
  ParamDim dim;
  Value target_name;  // a name, or a list of keys
};

void collect(const Value& node, std::vector<std::string>& path, std::vector<ParamDim>& dims,
             std::vector<CoupledSpec>& coupled, std::string_view origin, int depth) {
  if (depth > 256) fail(ErrorCode::invalid_argument, origin, "parameter space nested too deep");
  std::string_view tag = tag_of(node);
  if (is_one_of(tag, kDimTags)) {
    dims.push_back(parse_dim(node, path, false, origin, nullptr));
    return;
  }
  if (is_one_of(tag, kCoupledTags)) {
    CoupledSpec c;
    c.dim = parse_dim(node, path, true, origin, &c.target_name);
    coupled.push_back(std::move(c));
    return;
  }
  if (is_param_space(node))
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("a parameter space inside a parameter space, at {}", path_text(path)));
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      path.push_back(key);
      collect(value, path, dims, coupled, origin, depth + 1);
      path.pop_back();
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      path.push_back(std::to_string(i));
      collect(node[i], path, dims, coupled, origin, depth + 1);
      path.pop_back();
    }
  }
}

// Python's ordering of (order, path) tuples; list indices compare as numbers.
bool path_less(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] == b[i]) continue;
    bool ai = is_index(a[i]), bi = is_index(b[i]);
    if (ai && bi) {
      // As numbers, without converting (a key may have any number of digits).
      auto x = std::string_view(a[i]).substr(std::min(a[i].find_first_not_of('0'), a[i].size()));
      auto y = std::string_view(b[i]).substr(std::min(b[i].find_first_not_of('0'), b[i].size()));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      return a[i] < b[i];  // "07" and "7": any fixed order
    }
    if (ai != bi) return ai;
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

// paramspace's unique names: a given name, else the last key (for paths
// through lists, from the key above the first index); names that collide
// (one ends or starts with the other) take more of their path.
void name_dims(std::vector<ParamDim>& dims, std::string_view origin) {
  std::set<std::string> given;
  for (const auto& d : dims)
    if (!d.name.empty() && !given.insert(d.name).second)
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("two parameter dimensions are named '{}'", d.name));
  std::vector<std::vector<std::string>> paths;
  std::vector<bool> locked;
  std::vector<std::string> names;
  for (const auto& d : dims) {
    std::vector<std::string> p = {""};
    p.insert(p.end(), d.path.begin(), d.path.end());
    paths.push_back(p);
    locked.push_back(!d.name.empty());
    if (!d.name.empty()) {
      names.push_back(d.name);
      continue;
    }
    auto first_index = std::find_if(d.path.begin(), d.path.end(), is_index);
    if (first_index == d.path.end()) {
      names.push_back(d.path.empty() ? std::string() : d.path.back());
    } else {
      auto from = first_index == d.path.begin() ? first_index : first_index - 1;
      names.push_back(fmt::format("{}", fmt::join(from, d.path.end(), ".")));
    }
  }
  auto collide = [](const std::string& a, const std::string& b) {
    std::size_t n = std::min(a.size(), b.size());
    return a.compare(a.size() - n, n, b, b.size() - n, n) == 0 || a.compare(0, n, b, 0, n) == 0;
  };
  std::size_t max_len = 0;
  for (const auto& p : paths)
    max_len = std::max(max_len, p.size());
  for (std::size_t round = 0;; ++round) {
    std::set<std::string> seen(names.begin(), names.end());
    if (round > 0 && seen.size() == names.size()) break;
    std::vector<std::size_t> colliding;
    for (std::size_t i = 0; i < names.size(); ++i)
      for (std::size_t j = 0; j < names.size(); ++j)
        if (i != j && collide(names[i], names[j])) {
          colliding.push_back(i);
          break;
        }
    for (std::size_t i : colliding) {
      if (locked[i]) continue;
      if (round > max_len)
        fail(ErrorCode::invalid_argument, origin,
             fmt::format("cannot find a unique name for the parameter dimension at {}; give it a "
                         "name",
                         path_text(dims[i].path)));
      const auto& p = paths[i];
      std::size_t take = std::min(round + 1, p.size());
      std::vector<std::string> segment(p.end() - static_cast<std::ptrdiff_t>(take), p.end());
      std::string candidate = fmt::format("{}", fmt::join(segment, "."));
      if (candidate.size() >= names[i].size()) names[i] = candidate;
    }
    if (round > max_len + 1) break;
  }
  for (std::size_t i = 0; i < dims.size(); ++i)
    dims[i].name = names[i];
}

bool dim_less(const ParamDim& a, const ParamDim& b) {
  if (a.order != b.order) return a.order < b.order;
  return path_less(a.path, b.path);
}

Value* at_path(Value& root, const std::vector<std::string>& path) {
  Value* node = &root;
  for (const auto& key : path)
    node = node->is_array() ? &(*node)[std::stoull(key)] : &(*node)[key];
  return node;
}

bool close(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number() && !a.is_boolean() && !b.is_boolean()) {
    double x = a.get<double>(), y = b.get<double>();
    return std::abs(x - y) <= 1e-8 + 1e-5 * std::abs(y);  // numpy.isclose defaults
  }
  return a == b;
}

}  // namespace

std::int64_t ParamDim::active_size() const {
  auto n = std::count(mask.begin(), mask.end(), false);
  return n == 0 ? 1 : static_cast<std::int64_t>(n);
}

const Value& ParamDim::value_at(std::int64_t state) const {
  return state == 0 ? default_value : values.at(static_cast<std::size_t>(state - 1));
}

ParamSpace ParamSpace::from_value(const Value& value, std::string_view origin) {
  const Value* content = is_param_space(value) ? &value["value"] : &value;
  if (!content->is_object() || !tag_of(*content).empty())
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("a parameter space must be a mapping (a !pspace node), got {}",
                     tag_of(*content).empty() ? std::string(content->type_name())
                                              : std::string(tag_of(*content))));
  ParamSpace space;
  space.root_ = *content;
  space.origin_ = std::string(origin);
  std::vector<std::string> path;
  std::vector<CoupledSpec> coupled;
  collect(space.root_, path, space.dims_, coupled, origin, 0);
  std::stable_sort(space.dims_.begin(), space.dims_.end(), dim_less);
  std::stable_sort(coupled.begin(), coupled.end(), [](const CoupledSpec& a, const CoupledSpec& b) {
    return dim_less(a.dim, b.dim);
  });
  name_dims(space.dims_, origin);
  for (auto& c : coupled)
    space.coupled_.push_back(std::move(c.dim));
  name_dims(space.coupled_, origin);

  for (std::size_t k = 0; k < coupled.size(); ++k) {
    ParamDim& c = space.coupled_[k];
    const Value& target_name = coupled[k].target_name;
    std::size_t target = space.dims_.size();
    std::string wanted;
    if (target_name.is_array()) {
      // A list of keys: matches the end of a dim's path ("" first: the whole path).
      std::vector<std::string> keys;
      for (const auto& key : target_name)
        keys.push_back(key.get<std::string>());
      bool absolute = keys.size() > 1 && keys[0].empty();
      if (absolute) keys.erase(keys.begin());
      wanted = fmt::format("{}", fmt::join(keys, "."));
      for (std::size_t i = 0; i < space.dims_.size(); ++i) {
        const auto& p = space.dims_[i].path;
        bool match = absolute ? p == keys
                              : p.size() >= keys.size() &&
                                    std::equal(keys.begin(), keys.end(), p.end() - keys.size());
        if (!match) continue;
        if (target != space.dims_.size())
          fail(ErrorCode::invalid_argument, origin,
               fmt::format("coupled parameter dimension at {}: target {} is ambiguous",
                           path_text(c.path), wanted));
        target = i;
      }
    } else {
      wanted = target_name.get<std::string>();
      for (std::size_t i = 0; i < space.dims_.size(); ++i)
        if (space.dims_[i].name == wanted) target = i;
    }
    if (target == space.dims_.size()) {
      std::vector<std::string> names;
      for (const auto& d : space.dims_)
        names.push_back(d.name);
      fail(ErrorCode::not_found, origin,
           fmt::format("coupled parameter dimension at {}: no dimension '{}' to follow (there are: "
                       "{})",
                       path_text(c.path), wanted, fmt::join(names, ", ")));
    }
    c.target = target;
    const ParamDim& t = space.dims_[target];
    if (c.values.empty()) c.values = t.values;
    // No default, or default: null, is the target's (paramspace's rule).
    if (c.default_value.is_null()) c.default_value = t.default_value;
    if (c.values.size() != t.values.size())
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("coupled parameter dimension at {} has {} values but its target '{}' has {}",
                       path_text(c.path), c.values.size(), t.name, t.values.size()));
    c.mask.assign(c.values.size(), false);
  }
  return space;
}

std::size_t ParamSpace::dim_index(std::string_view name) const {
  // Names first: a name may be another dim's dotted path.
  for (std::size_t i = 0; i < dims_.size(); ++i)
    if (dims_[i].name == name) return i;
  for (std::size_t i = 0; i < dims_.size(); ++i)
    if (path_text(dims_[i].path) == name) return i;
  std::vector<std::string> names;
  for (const auto& d : dims_)
    names.push_back(d.name);
  fail(ErrorCode::not_found, origin_,
       fmt::format("no parameter dimension '{}' (there are: {})", name, fmt::join(names, ", ")));
}

std::vector<std::int64_t> ParamSpace::shape() const {
  std::vector<std::int64_t> out;
  for (const auto& d : dims_)
    out.push_back(d.active_size());
  return out;
}

std::int64_t ParamSpace::volume() const {
  if (dims_.empty()) return 0;
  std::int64_t v = 1;
  for (const auto& d : dims_)
    v *= d.active_size();
  return v;
}

std::int64_t ParamSpace::max_state_no() const {
  if (dims_.empty()) return 0;
  std::int64_t v = 1;
  for (const auto& d : dims_) {
    auto states = static_cast<std::int64_t>(d.values.size()) + 1;
    if (v > std::numeric_limits<std::int64_t>::max() / states)
      fail(ErrorCode::invalid_argument, origin_, "parameter space has too many states for 64 bits");
    v *= states;
  }
  return v - 1;
}

std::int64_t ParamSpace::state_no(const std::vector<std::int64_t>& indices) const {
  if (indices.size() != dims_.size())
    fail(ErrorCode::invalid_argument, origin_,
         fmt::format("{} state indices for {} dimensions", indices.size(), dims_.size()));
  std::int64_t number = 0;
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    auto states = static_cast<std::int64_t>(dims_[i].values.size()) + 1;
    if (indices[i] < 0 || indices[i] >= states)
      fail(ErrorCode::out_of_range, origin_,
           fmt::format("state {} of dimension '{}' outside [0, {}]", indices[i], dims_[i].name,
                       states - 1));
    number = number * states + indices[i];
  }
  return number;
}

std::vector<Point> ParamSpace::points() const {
  const std::size_t width = std::to_string(max_state_no()).size();  // checks the states fit 64 bits
  if (volume() > kMaxPoints)
    fail(ErrorCode::invalid_argument, origin_,
         fmt::format("parameter space of {} points is too large to list (at most {})", volume(),
                     kMaxPoints));
  // The active states of every dim (just 0 when all are masked).
  std::vector<std::vector<std::int64_t>> active(dims_.size());
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    for (std::size_t v = 0; v < dims_[i].values.size(); ++v)
      if (!dims_[i].mask[v]) active[i].push_back(static_cast<std::int64_t>(v) + 1);
    if (active[i].empty()) active[i].push_back(0);
  }

  std::vector<Point> out;
  out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(volume(), 1)));
  std::vector<std::size_t> at(dims_.size(), 0);
  for (;;) {
    Point p;
    for (std::size_t i = 0; i < dims_.size(); ++i) {
      p.indices.push_back(active[i][at[i]]);
      p.coords.push_back(dims_[i].value_at(p.indices.back()));
    }
    p.state_no = dims_.empty() ? 0 : state_no(p.indices);
    p.state_name = fmt::format("{:0{}d}", p.state_no, width);
    out.push_back(std::move(p));
    // The last dimension varies fastest.
    std::size_t i = dims_.size();
    while (i > 0) {
      --i;
      if (++at[i] < active[i].size()) break;
      at[i] = 0;
      if (i == 0) return out;
    }
    if (dims_.empty()) return out;
  }
}

Value ParamSpace::params_of(const Point& point) const {
  if (point.indices.size() != dims_.size())
    fail(ErrorCode::invalid_argument, origin_,
         fmt::format("a point of {} dimensions for a space of {}", point.indices.size(),
                     dims_.size()));
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    const std::int64_t state = point.indices[i];
    if (state < 0 || state > static_cast<std::int64_t>(dims_[i].values.size()))
      fail(ErrorCode::invalid_argument, origin_,
           fmt::format("dimension {} has no state {} (0 to {})", dims_[i].name, state,
                       dims_[i].values.size()));
  }
  Value params = root_;
  for (std::size_t i = 0; i < dims_.size(); ++i)
    *at_path(params, dims_[i].path) = dims_[i].value_at(point.indices[i]);
  for (const auto& c : coupled_)
    *at_path(params, c.path) = c.value_at(point.indices[*c.target]);
  return params;
}

Value ParamSpace::default_params() const {
  Value params = root_;
  for (const auto& d : dims_)
    *at_path(params, d.path) = d.default_value;
  for (const auto& c : coupled_)
    *at_path(params, c.path) = c.default_value;
  return params;
}

ParamSpace ParamSpace::subspace(const Value& selection, std::string_view origin) const {
  if (!selection.is_object())
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("a subspace selection must be a mapping of dimension names, got {}",
                     selection.dump()));
  ParamSpace out = *this;
  for (auto& d : out.dims_)
    d.mask.assign(d.values.size(), false);
  for (const auto& [name, sel] : selection.items()) {
    std::size_t index = dim_index(name);
    ParamDim& d = out.dims_[index];
    std::vector<bool> keep(d.values.size(), false);
    auto as_list = [](const Value& v) { return v.is_array() ? v : Value::array({v}); };
    bool by_index = sel.is_object() && sel.contains("idx");
    bool by_loc = sel.is_object() && sel.contains("loc");
    if (sel.is_object() && (by_index == by_loc || sel.size() != 1))
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("subspace of '{}': give either idx or loc, got {}", name, sel.dump()));
    if (by_index) {
      for (const auto& i : as_list(sel["idx"])) {
        if (!i.is_number_integer() || i.get<std::int64_t>() < 1 ||
            i.get<std::int64_t>() > static_cast<std::int64_t>(d.values.size()))
          fail(ErrorCode::out_of_range, origin,
               fmt::format("subspace of '{}': index {} outside [1, {}] (0 is the default)", name,
                           i.dump(), d.values.size()));
        keep[i.get<std::size_t>() - 1] = true;
      }
    } else {
      for (const auto& v : as_list(by_loc ? sel["loc"] : sel)) {
        bool found = false;
        for (std::size_t k = 0; k < d.values.size(); ++k)
          if (close(v, d.values[k])) keep[k] = found = true;
        if (!found) {
          std::vector<std::string> values;
          for (const auto& x : d.values)
            values.push_back(x.dump());
          fail(ErrorCode::not_found, origin,
               fmt::format("subspace of '{}': value {} is not one of its values [{}]", name,
                           v.dump(), fmt::join(values, ", ")));
        }
      }
    }
    if (std::none_of(keep.begin(), keep.end(), [](bool k) { return k; }))
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("subspace of '{}' selects no value", name));
    for (std::size_t k = 0; k < keep.size(); ++k)
      d.mask[k] = !keep[k];
  }
  return out;
}

Value ParamSpace::to_value() const {
  Value root = root_;
  for (const auto& d : dims_) {
    Value& node = *at_path(root, d.path);  // the dim's tagged node, as read
    bool any = std::any_of(d.mask.begin(), d.mask.end(), [](bool m) { return m; });
    if (any) {
      Value mask = Value::array();
      for (bool m : d.mask)
        mask.push_back(m);
      node["value"]["mask"] = mask;
    } else {
      node["value"].erase("mask");
    }
  }
  return make_tagged("!pspace", std::move(root));
}

bool is_param_space(const Value& value) {
  const std::string_view tag = tag_of(value);
  return tag == "!pspace" || tag == "!pspace-unsorted";
}

namespace {

// The first parameter space node below `node` in document order.
const Value* first_param_space(const Value& node, const std::string& path, std::string* where) {
  if (is_param_space(node)) {
    if (where) *where = path;
    return &node;
  }
  if (!tag_of(node).empty()) return nullptr;
  auto below = [&](const std::string& key) { return path.empty() ? key : path + "/" + key; };
  if (node.is_object()) {
    for (const auto& [key, value] : node.items())
      if (auto* found = first_param_space(value, below(key), where)) return found;
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      if (auto* found = first_param_space(node[i], below(std::to_string(i)), where)) return found;
  }
  return nullptr;
}

}  // namespace

const Value* find_param_space(const Value& doc, std::string_view key, std::string_view origin,
                              std::string* where) {
  if (key.empty()) return first_param_space(doc, "", where);
  const Value* node = &doc;
  for (const auto& part : store::split_path(key)) {
    // List items by their index, as `where` names them.
    if (node->is_array() && is_index(part) && part.size() < 10 && std::stoul(part) < node->size()) {
      node = &(*node)[std::stoul(part)];
      continue;
    }
    if (!node->is_object() || !node->contains(part))
      fail(ErrorCode::not_found, origin, fmt::format("no key '{}' on the way to '{}'", part, key));
    node = &(*node)[part];
  }
  if (where) *where = std::string(key);
  return node;
}

std::string state_name(const ParamSpace& space, std::int64_t state_no) {
  std::size_t width = std::to_string(space.max_state_no()).size();
  return fmt::format("{:0{}d}", state_no, width);
}

}  // namespace larder::tree
