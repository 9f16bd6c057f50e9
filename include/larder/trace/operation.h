// Operations — named, versioned steps a Trace applies to its variables.
//
// An Operation reads named input variables and writes named outputs. A
// streaming operation works on stored datasets through its OperationContext
// (input(i) is a store::Dataset of the trace or of a linked Data file;
// create_output(i, ...) makes the dataset of output i in trace.h5), so an
// input larger than memory is never read whole. An ArrayOperation is the
// convenience for steps that work in RAM: it gets whole input arrays and
// returns output arrays (Python operations take this path).
//
// The registry maps a name to a factory; it holds no trace state and is
// safe to use from several threads. Parameters are JSON, so an applied step
// is rebuilt from (name, version, params) alone: no pickled code.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/array.h"
#include "larder/core/random.h"
#include "larder/store/dataset.h"

namespace larder::trace {

// What an operation sees while it runs. Owned by Trace::apply; valid only
// during Operation::apply, from the thread that called it.
class OperationContext {
 public:
  virtual ~OperationContext() = default;

  virtual const nlohmann::json& params() const = 0;
  virtual std::size_t input_count() const = 0;
  virtual std::size_t output_count() const = 0;
  // Input i as a stored dataset (a link resolves to its target).
  // Error(type_mismatch) naming the variable for a dict or table input.
  virtual std::shared_ptr<store::Dataset> input(std::size_t i) = 0;
  virtual const std::string& input_name(std::size_t i) const = 0;
  virtual const std::string& output_name(std::size_t i) const = 0;
  // Creates output i as a dataset in trace.h5 (replacing what the name held
  // before the step) and returns it for writing.
  virtual std::shared_ptr<store::Dataset> create_output(std::size_t i,
                                                        const store::DatasetOptions& options) = 0;
  // Output i from an array in RAM (0-d arrays are stored as arrays).
  virtual void set_output(std::size_t i, ArrayView values) = 0;
  // The trace's seed, and a generator drawn from it and this step's
  // operation and parameters: the same step gives the same numbers.
  virtual std::uint64_t seed() const = 0;
  virtual Random random() const = 0;
  // The current group's folders (created when first asked for).
  virtual std::filesystem::path files_folder() = 0;
  virtual std::filesystem::path readings_folder() = 0;
  virtual std::filesystem::path outputs_folder() = 0;
};

class Operation {
 public:
  virtual ~Operation() = default;
  virtual std::string name() const = 0;
  virtual int version() const = 0;
  // Runs the step: reads the inputs, writes every output. Throwing marks
  // the step failed; its outputs are removed.
  virtual void apply(OperationContext& context) = 0;
};

// An operation that works on whole arrays in RAM.
class ArrayOperation : public Operation {
 public:
  void apply(OperationContext& context) final;
  // One array per output, in order.
  virtual std::vector<Array> compute(std::vector<Array> inputs, const nlohmann::json& params,
                                     OperationContext& context) = 0;
};

using OperationFactory = std::function<std::unique_ptr<Operation>()>;

// The process-wide map from names to factories.
class OperationRegistry {
 public:
  static OperationRegistry& instance();
  // Replaces a factory of the same name. Error(invalid_argument) for an
  // empty name.
  void add(std::string name, OperationFactory factory);
  bool contains(std::string_view name) const;
  // Error(not_found) naming `name` and listing the registered ones.
  std::unique_ptr<Operation> make(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  OperationRegistry() = default;
  struct State;
  State& state() const;
};

// A registered operation from a function over whole arrays.
using ArrayFunction = std::function<std::vector<Array>(
    std::vector<Array> inputs, const nlohmann::json& params, OperationContext& context)>;
void register_array_operation(std::string name, int version, ArrayFunction function);

}  // namespace larder::trace
