// `larder pspace FILE` — the parameter space in a YAML file: its dims, shape
// and volume, then one line per point with its state name, state number and
// coordinates.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>
#include <memory>
#include <string>

#include "commands.h"
#include "larder/core/error.h"
#include "larder/tree/pspace.h"
#include "larder/tree/yaml.h"

namespace larder::cli {
namespace {

using tree::Value;

// A coordinate as it reads best in a table: strings bare, numbers as JSON.
std::string text_of(const Value& v) {
  return v.is_string() ? v.get<std::string>()
                       : v.dump(-1, ' ', false, Value::error_handler_t::replace);
}

std::string list_text(const std::vector<Value>& values) {
  std::vector<std::string> parts;
  for (const auto& v : values)
    parts.push_back(text_of(v));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

}  // namespace

void add_pspace_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "pspace",
      "List the points of a parameter space (!pspace) in a YAML file with their state "
      "numbers");
  auto file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "YAML file (paramspace's !pspace / !pdim tags)")->required();
  cmd->add_option("--key", *key,
                  "Path of the parameter space in the file (a/b); default: the document itself "
                  "if it is one, else the first !pspace found");
  cmd->add_flag("--json", *json, "Print JSON instead of text");
  cmd->callback([file, key, json] {
    const Value doc = tree::read_yaml(*file);
    std::string where;
    const Value* node = tree::find_param_space(doc, *key, *file, &where);
    if (!node)
      throw Error(ErrorCode::not_found, "no !pspace in the file (give --key for a plain mapping)",
                  *file);
    const auto space = tree::ParamSpace::from_value(*node, *file);
    const auto points = space.points();

    if (*json) {
      Value out = Value::object();
      out["file"] = *file;
      out["key"] = where;
      auto dim_json = [&space](const tree::ParamDim& d) {
        Value j = {
            {"name", d.name}, {"path", d.path}, {"default", d.default_value}, {"values", d.values}};
        if (d.coupled()) j["target"] = space.dims()[*d.target].name;
        return j;
      };
      out["dims"] = Value::array();
      for (const auto& d : space.dims())
        out["dims"].push_back(dim_json(d));
      out["coupled_dims"] = Value::array();
      for (const auto& d : space.coupled_dims())
        out["coupled_dims"].push_back(dim_json(d));
      out["shape"] = space.shape();
      out["volume"] = space.volume();
      out["max_state_no"] = space.max_state_no();
      out["points"] = Value::array();
      for (const auto& p : points) {
        Value coords = Value::object();
        for (std::size_t i = 0; i < space.dims().size(); ++i)
          coords[space.dims()[i].name] = p.coords[i];
        out["points"].push_back(
            {{"state_no", p.state_no}, {"state_name", p.state_name}, {"coords", coords}});
      }
      fmt::print("{}\n", out.dump(2, ' ', false, Value::error_handler_t::replace));
      return;
    }

    fmt::print("parameter space: {}\n",
               where.empty()  ? std::string("the whole document")
               : key->empty() ? fmt::format("{} (the first !pspace in the file)", where)
                              : where);
    std::vector<std::string> shape;
    for (auto n : space.shape())
      shape.push_back(std::to_string(n));
    fmt::print("dims: {}  shape: ({}{})  volume: {}  max state number: {}\n", space.dims().size(),
               fmt::join(shape, ", "), shape.size() == 1 ? "," : "", space.volume(),
               space.max_state_no());
    std::size_t width = 4;
    for (const auto& d : space.dims())
      width = std::max(width, d.name.size());
    for (const auto& d : space.coupled_dims())
      width = std::max(width, d.name.size());
    for (const auto& d : space.dims())
      fmt::print("  {:<{}}  default {}  values {}\n", d.name, width, text_of(d.default_value),
                 list_text(d.values));
    for (const auto& d : space.coupled_dims())
      fmt::print("  {:<{}}  follows {}  default {}  values {}\n", d.name, width,
                 space.dims()[*d.target].name, text_of(d.default_value), list_text(d.values));

    std::vector<std::string> header = {"state", "number"};
    for (const auto& d : space.dims())
      header.push_back(d.name);
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : points) {
      std::vector<std::string> row = {p.state_name, std::to_string(p.state_no)};
      for (const auto& c : p.coords)
        row.push_back(text_of(c));
      rows.push_back(std::move(row));
    }
    std::vector<std::size_t> widths;
    for (const auto& h : header)
      widths.push_back(h.size());
    for (const auto& row : rows)
      for (std::size_t i = 0; i < row.size(); ++i)
        widths[i] = std::max(widths[i], row[i].size());
    auto print_row = [&](const std::vector<std::string>& row) {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i)
        line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], widths[i]) : row[i];
      fmt::print("{}\n", line);
    };
    print_row(header);
    for (const auto& row : rows)
      print_row(row);
  });
}

}  // namespace larder::cli
