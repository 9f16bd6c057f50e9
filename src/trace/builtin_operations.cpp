// The built-in operations of a Trace: the streaming volume operations of
// volume.h under their registered names, each checking its parameters.
#include "builtin_operations.h"

#include <fmt/format.h>

#include <fstream>
#include <set>

#include "larder/core/error.h"
#include "larder/trace/volume.h"

namespace larder::trace {
namespace {

// The parameters of one step, checked: unknown keys and wrong types are
// errors naming the operation, the key and the value.
class Params {
 public:
  Params(const nlohmann::json& params, std::string operation, std::set<std::string> known)
      : params_(params), operation_(std::move(operation)) {
    if (!params_.is_object() && !params_.is_null())
      fail(fmt::format("parameters must be an object, not {}", params_.dump()));
    if (params_.is_object()) {
      for (const auto& [key, value] : params_.items()) {
        if (!known.contains(key)) {
          fail(fmt::format("has no parameter '{}' (it takes: {})", key, fmt::join(known, ", ")));
        }
      }
    }
  }

  bool has(const std::string& key) const {
    return params_.is_object() && params_.contains(key) && !params_.at(key).is_null();
  }
  double number(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const nlohmann::json& v = params_.at(key);
    if (!v.is_number()) fail(fmt::format("parameter '{}' must be a number, not {}", key, v.dump()));
    return v.get<double>();
  }
  bool flag(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const nlohmann::json& v = params_.at(key);
    if (!v.is_boolean())
      fail(fmt::format("parameter '{}' must be true or false, not {}", key, v.dump()));
    return v.get<bool>();
  }
  // Three positive integers, or one for all three axes.
  std::array<std::int64_t, 3> triple(const std::string& key,
                                     std::array<std::int64_t, 3> fallback) const {
    if (!has(key)) return fallback;
    const nlohmann::json& v = params_.at(key);
    if (v.is_number_integer() && v.get<std::int64_t>() > 0) {
      const auto n = v.get<std::int64_t>();
      return {n, n, n};
    }
    if (v.is_array() && v.size() == 3 &&
        std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) {
          return e.is_number_integer() && e.get<std::int64_t>() > 0;
        }))
      return {v[0].get<std::int64_t>(), v[1].get<std::int64_t>(), v[2].get<std::int64_t>()};
    fail(fmt::format("parameter '{}' must be three positive integers (z, y, x), not {}", key,
                     v.dump()));
  }
  void require(const std::string& key) const {
    if (!has(key)) fail(fmt::format("needs parameter '{}'", key));
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::invalid_argument, fmt::format("operation {} {}", operation_, what));
  }

 private:
  const nlohmann::json& params_;
  std::string operation_;
};

void check_arity(OperationContext& context, const std::string& name, std::size_t inputs,
                 std::size_t outputs) {
  if (context.input_count() != inputs || context.output_count() != outputs) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("operation {} takes {} input{} and {} output{}, not {} and {}", name,
                            inputs, inputs == 1 ? "" : "s", outputs, outputs == 1 ? "" : "s",
                            context.input_count(), context.output_count()));
  }
}

MakeOutput output(OperationContext& context, std::size_t i) {
  return [&context, i](const store::DatasetOptions& options) {
    return context.create_output(i, options);
  };
}

VolumeOptions volume_options(const Params& p) {
  VolumeOptions options;
  if (p.has("memory_mb"))
    options.memory_bytes = static_cast<std::int64_t>(p.number("memory_mb", 256) * (1 << 20));
  options.codec = {.id = "blosc-lz4", .level = 5};
  return options;
}

// A streaming operation from a function of its context.
class Builtin final : public Operation {
 public:
  using Body = std::function<void(OperationContext&)>;
  Builtin(std::string name, Body body) : name_(std::move(name)), body_(std::move(body)) {}
  std::string name() const override { return name_; }
  int version() const override { return 1; }
  void apply(OperationContext& context) override { body_(context); }

 private:
  std::string name_;
  Body body_;
};

void threshold_step(OperationContext& context) {
  check_arity(context, "threshold", 1, 1);
  const Params p(context.params(), "threshold", {"value", "memory_mb"});
  threshold(*context.input(0), output(context, 0), p.number("value", 0.5), volume_options(p));
}

void patches_step(OperationContext& context) {
  check_arity(context, "patches", 1, 2);
  const Params p(context.params(), "patches", {"shape", "stride", "min_fill", "memory_mb"});
  p.require("shape");
  PatchOptions patch{.shape = p.triple("shape", {}), .stride = p.triple("stride", {0, 0, 0})};
  if (p.has("min_fill")) patch.min_fill = p.number("min_fill", 0);
  extract_patches(*context.input(0), output(context, 0), output(context, 1), patch,
                  volume_options(p));
}

void patch_fft_step(OperationContext& context) {
  check_arity(context, "patch_fft", 1, 1);
  const Params p(context.params(), "patch_fft", {"memory_mb"});
  patch_fft(*context.input(0), output(context, 0), volume_options(p));
}

void standardize_step(OperationContext& context) {
  check_arity(context, "standardize", 1, 1);
  const Params p(context.params(), "standardize", {"per_feature", "memory_mb"});
  const Standardization stats = standardize(*context.input(0), output(context, 0),
                                            p.flag("per_feature", false), volume_options(p));
  // The statistics, to standardize other data the same way.
  const nlohmann::json record = {
      {"input", context.input_name(0)}, {"mean", stats.mean}, {"std", stats.std}};
  std::ofstream(context.files_folder() / fmt::format("standardize_{}.json", context.output_name(0)))
      << record.dump(2) << '\n';
}

}  // namespace

void register_builtin_operations(OperationRegistry& registry) {
  const std::pair<const char*, Builtin::Body> builtins[] = {{"threshold", threshold_step},
                                                            {"patches", patches_step},
                                                            {"patch_fft", patch_fft_step},
                                                            {"standardize", standardize_step}};
  for (const auto& builtin : builtins) {
    const std::string name = builtin.first;
    const Builtin::Body body = builtin.second;
    registry.add(name, [name, body] { return std::make_unique<Builtin>(name, body); });
  }
}

}  // namespace larder::trace
