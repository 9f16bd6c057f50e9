// `larder trace show|dot|lineage DIR` — inspect a trace folder without
// changing it: its variables, the chain of operations, Graphviz DOT, and
// how one variable came to be.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <fstream>

#include "commands.h"
#include "larder/core/error.h"
#include "larder/trace/trace.h"

namespace larder::cli {
namespace {

struct TraceArgs {
  std::string folder;
  std::string group;
  std::string output;
  std::string variable;
};

std::unique_ptr<trace::Trace> open_trace(const TraceArgs& args) {
  return trace::Trace::link(args.folder, args.group, {.read_only = true});
}

std::string size_text(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < (1u << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  if (bytes < (1u << 30)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1 << 30));
}

std::string ports_text(const std::vector<trace::Port>& ports) {
  std::vector<std::string> names;
  for (const auto& p : ports)
    names.push_back(p.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

void print_step(const trace::Node& node) {
  std::printf("  #%lld %s v%d %s  (%s) -> (%s)  params %s\n", static_cast<long long>(node.id),
              node.operation.c_str(), node.version, std::string(to_string(node.status)).c_str(),
              ports_text(node.inputs).c_str(), ports_text(node.outputs).c_str(),
              node.params.dump().c_str());
  std::printf("      started %s  finished %s%s\n", node.started.c_str(),
              node.finished.empty() ? "-" : node.finished.c_str(),
              node.error.empty() ? "" : fmt::format("  error: {}", node.error).c_str());
}

void show(const TraceArgs& args) {
  auto t = open_trace(args);
  std::printf("trace %s  code %s  group %s  (groups: %s)  seed %llu\n", t->folder().c_str(),
              t->code().c_str(), t->group().c_str(),
              fmt::format("{}", fmt::join(t->groups(), ", ")).c_str(),
              static_cast<unsigned long long>(t->seed()));
  const auto variables = t->variables();
  std::printf("variables (%zu):\n", variables.size());
  for (const auto& v : variables) {
    std::string detail;
    if (v.kind == trace::VariableKind::dict) {
      const auto keys = v.shape.num_elements();
      detail = fmt::format("{} key{}", keys, keys == 1 ? "" : "s");
    } else if (v.kind == trace::VariableKind::table) {
      detail = fmt::format("{} rows x {} columns", v.shape[0], v.shape[1]);
    } else {
      detail = fmt::format("{} {}", v.dtype.numpy_str(), v.shape.to_string());
    }
    if (v.kind == trace::VariableKind::link)
      detail += fmt::format(" -> {}:{}", v.link_file, v.link_path);
    std::printf("  %-20s %-7s %-30s %10s\n", v.name.c_str(), std::string(to_string(v.kind)).c_str(),
                detail.c_str(), size_text(v.nbytes).c_str());
  }
  const auto graph = t->graph();
  std::printf("operations (%zu):\n", graph.nodes.size());
  for (const auto& node : graph.nodes)
    print_step(node);
}

void dot(const TraceArgs& args) {
  auto t = open_trace(args);
  const std::string text = trace::to_dot(t->graph(), "trace_" + t->code());
  if (args.output.empty() || args.output == "-") {
    std::fputs(text.c_str(), stdout);
    return;
  }
  std::ofstream out(args.output);
  out << text;
  if (!out) throw Error(ErrorCode::io, "cannot write the DOT file", args.output);
}

void lineage(const TraceArgs& args) {
  auto t = open_trace(args);
  const auto l = t->lineage(args.variable);
  std::printf("%s comes from %s through %zu step(s):\n", l.variable.c_str(),
              l.sources.empty() ? "no stored variable"
                                : fmt::format("{}", fmt::join(l.sources, ", ")).c_str(),
              l.steps.size());
  for (const auto& node : l.steps)
    print_step(node);
}

}  // namespace

void add_trace_command(CLI::App& app) {
  auto args = std::make_shared<TraceArgs>();
  auto* cmd = app.add_subcommand("trace", "Inspect a trace folder (trace_XXXX/)");
  cmd->require_subcommand(1);

  auto* show_cmd = cmd->add_subcommand("show", "Variables, then the chain of operations");
  show_cmd->add_option("dir", args->folder, "the trace folder")->required();
  show_cmd->add_option("--group", args->group, "the trace group (default: main)");
  show_cmd->callback([args] { show(*args); });

  auto* dot_cmd = cmd->add_subcommand("dot", "The operation graph as Graphviz DOT");
  dot_cmd->add_option("dir", args->folder, "the trace folder")->required();
  dot_cmd->add_option("--group", args->group, "the trace group (default: main)");
  dot_cmd->add_option("-o,--output", args->output, "write to this file (default: stdout)");
  dot_cmd->callback([args] { dot(*args); });

  auto* lineage_cmd = cmd->add_subcommand("lineage", "The steps a variable comes from");
  lineage_cmd->add_option("dir", args->folder, "the trace folder")->required();
  lineage_cmd->add_option("variable", args->variable, "the variable")->required();
  lineage_cmd->add_option("--group", args->group, "the trace group (default: main)");
  lineage_cmd->callback([args] { lineage(*args); });
}

}  // namespace larder::cli
