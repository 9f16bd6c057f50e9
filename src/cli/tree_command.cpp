// `larder tree DIR --cfg load.yml [--condensed]` — loads a data directory
// from a dantro load config and prints its tree.
#include <fmt/format.h>

#include "commands.h"
#include "larder/tree/data_manager.h"
#include "terminal_progress.h"

namespace larder::cli {

TreeLoadOptions::TreeLoadOptions(CLI::App& cmd) {
  cmd.add_option("DIR", data_dir, "The data directory")->required();
  cmd.add_option("--cfg", cfg, "The load config (YAML, dantro's keys)")->required();
  cmd.add_option("--create-group", create_groups,
                 "PATH[=Class]: a group made before loading (e.g. simulations=ParamSpaceGroup)");
  cmd.add_option("--group-map", group_map,
                 "VALUE=Class: the group class for an attribute value under enable_mapping, "
                 "added to the DataManager's default map (time_series=TimeSeriesGroup)");
}

std::unique_ptr<tree::DataManager> TreeLoadOptions::load() const {
  tree::DataManagerOptions options{.load_cfg = cfg, .out_dir = std::nullopt};
  const auto split = [](const std::string& text) {
    const auto eq = text.find('=');
    return std::pair{text.substr(0, eq), eq == std::string::npos ? "" : text.substr(eq + 1)};
  };
  for (const auto& spec : create_groups) {
    const auto [path, cls] = split(spec);
    options.create_groups.push_back(
        {path, cls.empty() ? tree::GroupClass::ordered : tree::group_class_from(cls)});
  }
  for (const auto& spec : group_map) {
    const auto [value, cls] = split(spec);
    options.group_map[value] = tree::group_class_from(cls);
  }
  auto dm = std::make_unique<tree::DataManager>(data_dir, std::move(options));
  TerminalProgress progress;
  dm->load_from_cfg({}, {}, tree::ExistsAction::raise, progress);
  for (const auto& warning : dm->warnings())
    fmt::print(stderr, "warning: {}\n", warning);
  return dm;
}

void add_tree_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("tree", "Load a data directory from a load config; print its tree");
  auto options = std::make_shared<TreeLoadOptions>(*cmd);
  auto condensed = std::make_shared<bool>(false);
  cmd->add_flag("--condensed", *condensed, "Elide long member lists");
  cmd->callback([options, condensed] {
    const auto dm = options->load();
    fmt::print("{}", *condensed ? dm->tree_condensed() : dm->tree());
  });
}

}  // namespace larder::cli
