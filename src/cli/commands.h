// The subcommands of `larder`, each defined in <name>_command.cpp. Each adds
// itself to the app; its callback throws larder::Error on failure and
// main() turns that into one line on stderr and exit status 1.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

namespace larder::cli {

void add_cat_command(CLI::App& app);
void add_codecs_command(CLI::App& app);
void add_cp_command(CLI::App& app);
void add_cut_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_epoch_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_trace_command(CLI::App& app);
void add_pspace_command(CLI::App& app);
void add_verify_command(CLI::App& app);
void add_tree_command(CLI::App& app);
void add_select_command(CLI::App& app);

// `larder info` of FILE (at PATH inside it), as the command prints it.
void print_info(const std::string& file, const std::string& path, bool json, bool attrs);

}  // namespace larder::cli

namespace larder::tree {
class DataManager;
}

namespace larder::cli {

// The options `larder tree` and `larder select` share: the data directory,
// the load config, groups to create and the group map; load() runs the
// config with a progress bar and prints the warnings.
struct TreeLoadOptions {
  explicit TreeLoadOptions(CLI::App& cmd);
  std::unique_ptr<tree::DataManager> load() const;

  std::string data_dir;
  std::string cfg;
  std::vector<std::string> create_groups;
  std::vector<std::string> group_map;
};

}  // namespace larder::cli
