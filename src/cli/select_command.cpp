// `larder select DIR --cfg load.yml --field data/random_walk --out result.h5`
// — loads a sweep, gathers one field of every run into one N-D array and
// writes it, with its dims and coords, into any store.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "larder/store/store.h"
#include "larder/tree/data_manager.h"
#include "larder/tree/select.h"
#include "location.h"

namespace larder::cli {

void add_select_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "select", "Gather a field of every run of a sweep into one N-D array and write it");
  auto options = std::make_shared<TreeLoadOptions>(*cmd);
  auto field = std::make_shared<std::string>();
  auto group = std::make_shared<std::string>();
  auto subspace = std::make_shared<std::string>();
  auto method = std::make_shared<std::string>("concat");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--field", *field, "The field's path inside each run (data/random_walk)")
      ->required();
  cmd->add_option("--group", *group, "The ParamSpaceGroup (default: the first one in the tree)");
  cmd->add_option("--subspace", *subspace,
                  "JSON: {dim: [values]} or {dim: {\"idx\": [...]}} to select part of the space");
  cmd->add_option("--method", *method, "concat (every run present) or merge (missing -> NaN)")
      ->check(CLI::IsMember({"concat", "merge"}));
  cmd->add_option("--out", *out,
                  "FILE[:PATH] to write (any store; PATH defaults to the field's name)")
      ->required();
  cmd->callback([=] {
    const auto dm = options->load();
    tree::Group* target =
        group->empty() ? tree::find_param_space_group(dm->root()) : &dm->root().group(*group);
    if (target == nullptr) {
      throw Error(ErrorCode::not_found, "no ParamSpaceGroup in the tree (use --group)");
    }
    tree::SelectOptions select_options{.method = tree::combine_method(*method)};
    if (!subspace->empty()) {
      select_options.subspace = tree::Value::parse(*subspace, nullptr, false);
      if (select_options.subspace.is_discarded()) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("--subspace '{}' is not JSON", *subspace));
      }
    }
    const auto combined = tree::select(*target, *field, select_options);
    const Location where = parse_location(*out, false);
    std::string path = where.path;
    if (path.empty()) path = field->substr(field->find_last_of('/') + 1);
    auto store = store::Store::open(where.file, "a");
    tree::write_combined(*store->root(), path, combined);
    store->close();
    std::string dims;
    for (std::size_t i = 0; i < combined.dims.size(); ++i)
      dims += fmt::format("{}{}: {}", i ? ", " : "", combined.dims[i], combined.values.shape()[i]);
    fmt::print("{}:{} <- {} of {} ({}), {}\n", where.file, path, *field, target->path(), dims,
               combined.values.dtype().name());
  });
}

}  // namespace larder::cli
