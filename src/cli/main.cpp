// `larder` — the command-line face of the larder engine.
//
// Exit status: 0 success, 1 an error (one line on stderr), 2 a usage error.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "commands.h"
#include "larder/core/error.h"
#include "larder/core/version.h"

int main(int argc, char** argv) {
  CLI::App app{"larder: arrays larger than memory, in standard files", "larder"};
  app.set_version_flag("--version", std::string(larder::version()));
  app.require_subcommand(1);
  app.fallthrough(false);
  larder::cli::add_cat_command(app);
  larder::cli::add_codecs_command(app);
  larder::cli::add_cp_command(app);
  larder::cli::add_cut_command(app);
  larder::cli::add_demo_command(app);
  larder::cli::add_epoch_command(app);
  larder::cli::add_info_command(app);
  larder::cli::add_trace_command(app);
  larder::cli::add_pspace_command(app);
  larder::cli::add_verify_command(app);
  larder::cli::add_tree_command(app);
  larder::cli::add_select_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "larder: usage error: %s\nRun 'larder --help' for usage.\n", e.what());
    return 2;
  } catch (const larder::Error& e) {
    std::fprintf(stderr, "larder: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "larder: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
