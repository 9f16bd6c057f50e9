// Trace — a folder of named variables on disk and the record of the steps
// that made them, so a chain of operations re-runs only what changed.
//
// Trace::create(working_folder) makes trace_XXXX/ (a fresh four-digit code)
// holding trace.h5 (the variables, one HDF5 group per trace group),
// trace.json (variables, groups, seed and each group's operation graph,
// replaced atomically) and trace_files/, trace_readings/, trace_outputs/
// with a folder per group (docs/formats/trace.md). All state is in the
// object: two Traces are independent. A Trace is used by one thread at a
// time. Bad input raises Error and leaves trace.h5 and trace.json as they were.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/array.h"
#include "larder/core/selection.h"
#include "larder/store/dataset.h"
#include "larder/store/table.h"
#include "larder/trace/graph.h"
#include "larder/trace/operation.h"
#include "larder/trace/variable.h"

namespace larder::trace {

struct TraceOptions {
  std::optional<std::uint64_t> seed{};  // none: from the random device
};

struct LinkOptions {
  // Inspect only: nothing on disk changes. Variables and graph are those of
  // trace.json as last written (at every apply, flush and close), so a
  // trace another process is writing can be inspected; a step left running
  // is reported as running. trace.h5 is opened read-only when data is first
  // read (HDF5's lock refuses that while a writer has it open). Writes
  // raise Error.
  bool read_only = false;
};

struct ApplyOptions {
  std::vector<std::string> inputs{};
  std::vector<std::string> outputs{};
  nlohmann::json params = nlohmann::json::object();
  bool force = false;  // run even when a finished step matches
};

struct ApplyResult {
  Node node;             // the step run, or the finished one reused
  bool skipped = false;  // outputs were up to date: nothing ran
};

class Trace {
 public:
  // group: the trace group to start in ("" -> "main").
  static std::unique_ptr<Trace> create(const std::filesystem::path& working_folder,
                                       std::string_view group = "",
                                       const TraceOptions& options = {});
  // Opens trace_folder; a step left running by a killed process is marked
  // interrupted and its outputs removed. Error(not_found) when the folder
  // is no trace, Error(corrupt) naming trace.json when it is damaged.
  static std::unique_ptr<Trace> link(const std::filesystem::path& trace_folder,
                                     std::string_view group = "", const LinkOptions& options = {});
  ~Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  const std::filesystem::path& folder() const;
  std::string code() const;
  std::uint64_t seed() const;

  // Groups: separate namespaces of variables and graphs.
  void create_group(std::string_view group);  // also makes it current
  void change_group(std::string_view group);  // Error(not_found) listing groups
  const std::string& group() const;
  std::vector<std::string> groups() const;
  std::filesystem::path files_folder();
  std::filesystem::path readings_folder();
  std::filesystem::path outputs_folder();

  // Variables of the current group. Setting replaces what the name held.
  void set_array(std::string_view name, ArrayView value);
  void set_scalar(std::string_view name, ArrayView value);  // value is 0-d
  void set_dict(std::string_view name, const Dict& value);
  // Numeric (or bool) columns; Error naming the column otherwise.
  void set_table(std::string_view name, const store::Table& table);
  // A link to the array at `path` in the HDF5 file `file` (no copy).
  // Error(not_found) when the target is missing.
  void set_link(std::string_view name, const std::filesystem::path& file, std::string_view path);

  bool exists(std::string_view name) const;
  VariableInfo info(std::string_view name) const;  // Error(not_found) listing names
  std::vector<VariableInfo> variables() const;
  void remove(std::string_view name);

  // An array, scalar or link as a stored dataset (reads only what is asked).
  std::shared_ptr<store::Dataset> dataset(std::string_view name);
  Array get(std::string_view name, const Selection& selection = {});
  Dict get_dict(std::string_view name);
  DictValue read_key(std::string_view name, std::string_view key);
  void write_key(std::string_view name, std::string_view key, const DictValue& value);
  store::Table get_table(std::string_view name);

  // Runs operation `operation` on the current group, or reuses the outputs
  // of a finished step with the same operation, version, params and input
  // hashes whose outputs still hold what it wrote.
  ApplyResult apply(std::string_view operation, const ApplyOptions& options);
  ApplyResult apply(Operation& operation, const ApplyOptions& options);

  Graph graph() const;  // the current group's
  Lineage lineage(std::string_view variable) const;

  // Writes trace.json and flushes trace.h5 (also done by apply and on
  // destruction).
  void flush();
  // flush(), then closes trace.h5 and linked files; later calls raise
  // Error(invalid_argument).
  void close();

  struct State;

 private:
  explicit Trace(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Draws a fresh four-digit code for `working_folder`: no trace_XXXX or
// data_XXXX.h5 holds it. Claiming it (creating the folder or file
// exclusively) is the caller's job.
std::string fresh_code(const std::filesystem::path& working_folder);

}  // namespace larder::trace
