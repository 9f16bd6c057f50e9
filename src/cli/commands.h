// The subcommands of `larder`, each defined in <name>_command.cpp. Each adds
// itself to the app; its callback throws larder::Error on failure and
// main() turns that into one line on stderr and exit status 1.
#pragma once

#include <CLI/CLI.hpp>

namespace larder::cli {

void add_codecs_command(CLI::App& app);
void add_demo_command(CLI::App& app);

}  // namespace larder::cli
