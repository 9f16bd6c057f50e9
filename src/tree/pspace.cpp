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
#include <utility>

#include "larder/core/error.h"

namespace larder::tree {
namespace {

constexpr std::string_view kDimTags[] = {"!pdim", "!sweep"};
constexpr std::string_view kCoupledTags[] = {"!coupled-pdim", "!coupled-sweep"};
constexpr std::string_view kSpaceTags[] = {"!pspace", "!pspace-unsorted"};

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
        args[2].get<std::int64_t>() > 100'000'000)
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
  bool ints =
      std::all_of(list.begin(), list.end(), [](const Value& v) { return v.is_number_integer(); });
  if (list.empty() || list.size() > 3 || !ints)
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {}: range takes 1 to 3 integers, got {}",
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
  std::vector<Value> out;
  for (std::int64_t v = start; step > 0 ? v < stop : v > stop; v += step) {
    out.emplace_back(v);
    if (out.size() > 100'000'000)
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("parameter dimension at {}: range too long", path_text(path)));
  }
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

// A dimension from its tagged node's mapping.
ParamDim parse_dim(const Value& node, std::vector<std::string> path, bool coupled,
                   std::string_view origin) {
  const Value& spec = node["value"];
  ParamDim dim;
  dim.path = std::move(path);
  dim.coupled = coupled;
  dim.spec = node;
  dim.order = std::numeric_limits<double>::infinity();
  const std::string where = path_text(dim.path);
  if (!spec.is_object())
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("parameter dimension at {} must be a mapping", where));

  static const std::set<std::string, std::less<>> dim_keys = {
      "default", "values", "range", "linspace", "logspace", "order", "name", "as_type", "mask"};
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
    if (target.is_string()) {
      dim.target = target.get<std::string>();
    } else if (target.is_array() && !target.empty() &&
               std::all_of(target.begin(), target.end(),
                           [](const Value& t) { return t.is_string(); })) {
      for (const auto& t : target)
        dim.target_keys.push_back(t.get<std::string>());
    } else {
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("coupled parameter dimension at {} needs a target_name (a name or a list "
                       "of keys)",
                       where));
    }
  }
  return dim;
}

void collect(const Value& node, std::vector<std::string>& path, std::vector<ParamDim>& dims,
             std::vector<ParamDim>& coupled, std::string_view origin, int depth) {
  if (depth > 256) fail(ErrorCode::invalid_argument, origin, "parameter space nested too deep");
  std::string_view tag = tag_of(node);
  if (is_one_of(tag, kDimTags)) {
    dims.push_back(parse_dim(node, path, false, origin));
    return;
  }
  if (is_one_of(tag, kCoupledTags)) {
    coupled.push_back(parse_dim(node, path, true, origin));
    return;
  }
  if (is_one_of(tag, kSpaceTags))
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
    if (ai && bi) return std::stoull(a[i]) < std::stoull(b[i]);
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

void sort_dims(std::vector<ParamDim>& dims) {
  std::stable_sort(dims.begin(), dims.end(), [](const ParamDim& a, const ParamDim& b) {
    if (a.order != b.order) return a.order < b.order;
    return path_less(a.path, b.path);
  });
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
  const Value* content = &value;
  for (auto tag : kSpaceTags)
    if (const Value* inner = tagged(value, tag)) content = inner;
  if (!content->is_object() || !tag_of(*content).empty())
    fail(ErrorCode::invalid_argument, origin,
         fmt::format("a parameter space must be a mapping (a !pspace node), got {}",
                     tag_of(*content).empty() ? std::string(content->type_name())
                                              : std::string(tag_of(*content))));
  ParamSpace space;
  space.root_ = *content;
  space.origin_ = std::string(origin);
  std::vector<std::string> path;
  collect(space.root_, path, space.dims_, space.coupled_, origin, 0);
  sort_dims(space.dims_);
  sort_dims(space.coupled_);
  name_dims(space.dims_, origin);
  name_dims(space.coupled_, origin);

  for (auto& c : space.coupled_) {
    std::size_t target = space.dims_.size();
    if (!c.target_keys.empty()) {
      // A list of keys: matches the end of a dim's path ("" first: the whole path).
      std::vector<std::string> keys = c.target_keys;
      bool absolute = keys.size() > 1 && keys[0].empty();
      if (absolute) keys.erase(keys.begin());
      for (std::size_t i = 0; i < space.dims_.size(); ++i) {
        const auto& p = space.dims_[i].path;
        bool match = absolute ? p == keys
                              : p.size() >= keys.size() &&
                                    std::equal(keys.begin(), keys.end(), p.end() - keys.size());
        if (!match) continue;
        if (target != space.dims_.size())
          fail(ErrorCode::invalid_argument, origin,
               fmt::format("coupled parameter dimension at {}: target {} is ambiguous",
                           path_text(c.path), fmt::join(keys, ".")));
        target = i;
      }
      c.target = target < space.dims_.size() ? space.dims_[target].name
                                             : fmt::format("{}", fmt::join(keys, "."));
    } else {
      for (std::size_t i = 0; i < space.dims_.size(); ++i)
        if (space.dims_[i].name == c.target) target = i;
    }
    if (target == space.dims_.size()) {
      std::vector<std::string> names;
      for (const auto& d : space.dims_)
        names.push_back(d.name);
      fail(ErrorCode::not_found, origin,
           fmt::format("coupled parameter dimension at {}: no dimension '{}' to follow (there are: "
                       "{})",
                       path_text(c.path), c.target, fmt::join(names, ", ")));
    }
    const ParamDim& t = space.dims_[target];
    if (c.values.empty()) c.values = t.values;
    if (!c.spec["value"].contains("default")) c.default_value = t.default_value;
    if (c.values.size() != t.values.size())
      fail(ErrorCode::invalid_argument, origin,
           fmt::format("coupled parameter dimension at {} has {} values but its target '{}' has {}",
                       path_text(c.path), c.values.size(), t.name, t.values.size()));
    c.mask.assign(c.values.size(), false);
  }
  return space;
}

std::size_t ParamSpace::dim_index(std::string_view name) const {
  for (std::size_t i = 0; i < dims_.size(); ++i)
    if (dims_[i].name == name || path_text(dims_[i].path) == name) return i;
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
  max_state_no();  // checks the states fit 64 bits
  // The active states of every dim (just 0 when all are masked).
  std::vector<std::vector<std::int64_t>> active(dims_.size());
  for (std::size_t i = 0; i < dims_.size(); ++i) {
    for (std::size_t v = 0; v < dims_[i].values.size(); ++v)
      if (!dims_[i].mask[v]) active[i].push_back(static_cast<std::int64_t>(v) + 1);
    if (active[i].empty()) active[i].push_back(0);
  }
  std::vector<std::size_t> target_of(coupled_.size());
  for (std::size_t c = 0; c < coupled_.size(); ++c)
    target_of[c] = dim_index(coupled_[c].target);

  std::vector<Point> out;
  std::vector<std::size_t> at(dims_.size(), 0);
  for (;;) {
    Point p;
    for (std::size_t i = 0; i < dims_.size(); ++i)
      p.indices.push_back(active[i][at[i]]);
    p.state_no = dims_.empty() ? 0 : state_no(p.indices);
    p.state_name = state_name(*this, p.state_no);
    p.params = root_;
    for (std::size_t i = 0; i < dims_.size(); ++i) {
      p.coords.push_back(dims_[i].value_at(p.indices[i]));
      *at_path(p.params, dims_[i].path) = p.coords.back();
    }
    for (std::size_t c = 0; c < coupled_.size(); ++c)
      *at_path(p.params, coupled_[c].path) = coupled_[c].value_at(p.indices[target_of[c]]);
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
    Value node = d.spec;
    bool any = std::any_of(d.mask.begin(), d.mask.end(), [](bool m) { return m; });
    if (any) {
      Value mask = Value::array();
      for (bool m : d.mask)
        mask.push_back(m);
      node["value"]["mask"] = mask;
    } else {
      node["value"].erase("mask");
    }
    *at_path(root, d.path) = node;
  }
  return make_tagged("!pspace", std::move(root));
}

std::string state_name(const ParamSpace& space, std::int64_t state_no) {
  std::size_t width = std::to_string(space.max_state_no()).size();
  return fmt::format("{:0{}d}", state_no, width);
}

}  // namespace larder::tree
