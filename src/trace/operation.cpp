#include "larder/trace/operation.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <mutex>

#include "builtin_operations.h"
#include "larder/core/error.h"

namespace larder::trace {

void ArrayOperation::apply(OperationContext& context) {
  std::vector<Array> inputs;
  for (std::size_t i = 0; i < context.input_count(); ++i)
    inputs.push_back(context.input(i)->read());
  std::vector<Array> outputs = compute(std::move(inputs), context.params(), context);
  if (outputs.size() != context.output_count()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("operation {} returned {} arrays for {} outputs", name(),
                            outputs.size(), context.output_count()));
  }
  for (std::size_t i = 0; i < outputs.size(); ++i)
    context.set_output(i, outputs[i]);
}

struct OperationRegistry::State {
  mutable std::mutex mutex;
  std::map<std::string, OperationFactory, std::less<>> factories;
};

OperationRegistry& OperationRegistry::instance() {
  static OperationRegistry registry = [] {
    OperationRegistry built_in;
    register_builtin_operations(built_in);
    return built_in;
  }();
  return registry;
}

OperationRegistry::State& OperationRegistry::state() const {
  static State state;
  return state;
}

void OperationRegistry::add(std::string name, OperationFactory factory) {
  if (name.empty()) throw Error(ErrorCode::invalid_argument, "an operation needs a name");
  std::lock_guard lock(state().mutex);
  state().factories[std::move(name)] = std::move(factory);
}

bool OperationRegistry::contains(std::string_view name) const {
  std::lock_guard lock(state().mutex);
  return state().factories.find(name) != state().factories.end();
}

std::unique_ptr<Operation> OperationRegistry::make(std::string_view name) const {
  OperationFactory factory;
  {
    std::lock_guard lock(state().mutex);
    const auto it = state().factories.find(name);
    if (it == state().factories.end()) {
      std::vector<std::string> known;
      for (const auto& [n, f] : state().factories)
        known.push_back(n);
      throw Error(ErrorCode::not_found,
                  fmt::format("no operation named \"{}\" is registered (registered: {})", name,
                              known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
    }
    factory = it->second;
  }
  return factory();
}

std::vector<std::string> OperationRegistry::names() const {
  std::lock_guard lock(state().mutex);
  std::vector<std::string> known;
  for (const auto& [n, f] : state().factories)
    known.push_back(n);
  return known;
}

namespace {

class FunctionOperation final : public ArrayOperation {
 public:
  FunctionOperation(std::string name, int version, ArrayFunction function)
      : name_(std::move(name)), version_(version), function_(std::move(function)) {}
  std::string name() const override { return name_; }
  int version() const override { return version_; }
  std::vector<Array> compute(std::vector<Array> inputs, const nlohmann::json& params,
                             OperationContext& context) override {
    return function_(std::move(inputs), params, context);
  }

 private:
  std::string name_;
  int version_;
  ArrayFunction function_;
};

}  // namespace

void register_array_operation(std::string name, int version, ArrayFunction function) {
  auto shared = std::make_shared<ArrayFunction>(std::move(function));
  std::string copy = name;
  OperationRegistry::instance().add(std::move(name), [copy, version, shared] {
    return std::make_unique<FunctionOperation>(copy, version, *shared);
  });
}

}  // namespace larder::trace
