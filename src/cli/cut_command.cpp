// `larder cut STORE[:GROUP] 'EXPR'` — how many rows a cut expression keeps,
// the fraction and the speed; `--flow` for a cut flow of several cuts.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "larder/core/error.h"
#include "larder/expr/cut.h"
#include "larder/store/store.h"
#include "location.h"

namespace larder::cli {
namespace {

struct CutArgs {
  std::string where;
  std::string expression;
  std::vector<std::string> constants;
  std::vector<std::string> flow;
  bool recreate = false;
  bool no_cache = false;
  bool json = false;
};

// NAME=VALUE pairs: VALUE as JSON (a number, true, false), or "nan" / "inf".
nlohmann::json parse_constants(const std::vector<std::string>& pairs) {
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& pair : pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("--const '{}': expected NAME=VALUE, e.g. min_pt=30", pair));
    }
    const std::string name = pair.substr(0, eq), text = pair.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded() || !(value.is_number() || value.is_boolean())) {
      if (text != "nan" && text != "inf" && text != "-inf") {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("--const '{}': the value must be a number or true/false", pair));
      }
      value = text;
    }
    out[name] = value;
  }
  return out;
}

double percent(std::int64_t part, std::int64_t total) {
  return total > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(total) : 0.0;
}

std::string rate_text(double rows, double seconds) {
  const double rate = seconds > 0 ? rows / seconds : 0;
  if (rate >= 1e6) return fmt::format("{:.1f} M rows/s", rate / 1e6);
  if (rate >= 1e3) return fmt::format("{:.1f} k rows/s", rate / 1e3);
  return fmt::format("{:.0f} rows/s", rate);
}

void run_cut(const CutArgs& args) {
  const Location loc = parse_location(args.where);
  if (args.expression.empty() && args.flow.empty()) {
    throw Error(ErrorCode::invalid_argument, "give an expression, or --flow with a list of cuts");
  }
  const nlohmann::json constants = parse_constants(args.constants);
  // The cache needs a writable store; a read-only one still evaluates.
  std::unique_ptr<store::Store> st;
  if (!args.no_cache && args.flow.empty()) {
    try {
      st = store::Store::open(loc.file, "r+");
    } catch (const Error&) {
      st = nullptr;
    }
  }
  if (!st) st = store::Store::open(loc.file, "r");
  std::shared_ptr<store::Group> group =
      loc.path.empty() ? st->root() : st->root()->open_group(loc.path);
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  if (!args.flow.empty()) {
    std::vector<std::string> cuts = args.flow;
    if (!args.expression.empty()) cuts.insert(cuts.begin(), args.expression);
    const expr::CutFlow flow = expr::cut_flow(*group, cuts, constants);
    const double seconds = elapsed();
    if (args.json) {
      nlohmann::json steps = nlohmann::json::array();
      for (const auto& s : flow.steps) {
        steps.push_back({{"expression", s.expression},
                         {"passing", s.passing},
                         {"fraction", flow.total > 0 ? static_cast<double>(s.passing) /
                                                           static_cast<double>(flow.total)
                                                     : 0.0}});
      }
      std::puts(nlohmann::json{
          {"total", flow.total},
          {"steps", steps},
          {"seconds", seconds},
          {"rows_per_second", seconds > 0 ? static_cast<double>(flow.total) / seconds : 0.0}}
                    .dump(2)
                    .c_str());
      return;
    }
    std::size_t width = 10;
    for (const auto& s : flow.steps)
      width = std::max(width, s.expression.size());
    fmt::print("cut flow over {} rows ({:.3f} s, {})\n", flow.total, seconds,
               rate_text(static_cast<double>(flow.total), seconds));
    std::int64_t before = flow.total;
    for (std::size_t i = 0; i < flow.steps.size(); ++i) {
      const auto& s = flow.steps[i];
      fmt::print("  {:>2}. {:<{}}  {:>12}  {:7.3f}%  (of previous {:.3f}%)\n", i + 1, s.expression,
                 width, s.passing, percent(s.passing, flow.total), percent(s.passing, before));
      before = s.passing;
    }
    return;
  }

  const expr::CutResult result =
      expr::cut(*group, args.expression,
                {.constants = constants, .cache = !args.no_cache, .recreate = args.recreate});
  const double seconds = elapsed();
  const std::int64_t selected = result.rows.num_elements();
  const std::string cache = args.no_cache       ? "not cached"
                            : result.from_cache ? "cache hit"
                            : result.stored     ? "cached"
                                                : "not cached (read-only store)";
  if (args.json) {
    std::puts(nlohmann::json{
        {"expression", args.expression},
        {"count", selected},
        {"total", result.total},
        {"fraction", result.total > 0
                         ? static_cast<double>(selected) / static_cast<double>(result.total)
                         : 0.0},
        {"seconds", seconds},
        {"rows_per_second", seconds > 0 ? static_cast<double>(result.total) / seconds : 0.0},
        {"from_cache", result.from_cache},
        {"stored", result.stored},
        {"key", result.key}}
                  .dump(2)
                  .c_str());
    return;
  }
  fmt::print("{} of {} rows ({:.3f}%) in {:.3f} s ({}), {}\n", selected, result.total,
             percent(selected, result.total), seconds,
             rate_text(static_cast<double>(result.total), seconds), cache);
}

}  // namespace

void add_cut_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "cut", "Count the rows a cut expression keeps (cached in the store); --flow for a cut flow");
  auto args = std::make_shared<CutArgs>();
  cmd->add_option("STORE[:GROUP]", args->where, "The store, and the group holding the columns")
      ->required();
  cmd->add_option("EXPR", args->expression,
                  "The cut, e.g. 'nJets >= 6 & nBTags_77 >= 2' (docs/expr.md)");
  cmd->add_option("--const", args->constants, "A named constant, NAME=VALUE (repeatable)");
  cmd->add_option("--flow", args->flow, "Cuts applied in order (after EXPR, if given)");
  cmd->add_flag("--recreate", args->recreate, "Evaluate even when the cache holds the cut");
  cmd->add_flag("--no-cache", args->no_cache, "Neither read nor write the cut cache");
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->callback([args] { run_cut(*args); });
}

}  // namespace larder::cli
