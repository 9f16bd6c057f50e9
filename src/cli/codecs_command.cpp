// `larder codecs` — the codecs larder can read and write.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "larder/codec/registry.h"

namespace larder::cli {

void add_codecs_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "codecs", "List the codecs with their ids, HDF5 filters and numcodecs names");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON instead of a table");
  cmd->callback([json] {
    const auto codecs = codec::CodecRegistry::builtin().list();
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& c : codecs) {
        out.push_back({{"id", c.id},
                       {"description", c.description},
                       {"hdf5_filter", c.hdf5_filter_id},
                       {"numcodecs", c.numcodecs_id}});
      }
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("{:<14} {:>11}  {:<10} {}\n", "id", "hdf5 filter", "numcodecs", "description");
    for (const auto& c : codecs) {
      fmt::print("{:<14} {:>11}  {:<10} {}\n", c.id,
                 c.hdf5_filter_id == 0 ? std::string("-") : std::to_string(c.hdf5_filter_id),
                 c.numcodecs_id.empty() ? "-" : c.numcodecs_id, c.description);
    }
  });
}

}  // namespace larder::cli
