// `larder verify FILE` — is this file safe to open, and does every byte of
// it decode? Walks the file in a child process first (a file that crashes
// or hangs the HDF5 library is reported, not fatal), then reads every
// dataset in full through larder. A memory-mapped store (.lmm) opened this
// way checks each array's block checksums against its data as it opens it.
#include <fmt/format.h>

#include "commands.h"
#include "larder/store/store.h"
#include "location.h"
#include "terminal_progress.h"

namespace larder::cli {

void add_verify_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("verify", "Check that a file opens safely and that all its data decodes");
  auto file = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "The store")->required();
  cmd->add_flag("--follow-external", *follow, "Also follow external links into other files");
  cmd->callback([file, follow] {
    auto st = store::Store::open(*file, "r", {.untrusted = true, .follow_external = *follow});
    auto root = st->root();
    std::int64_t groups = 0, datasets = 0;
    std::uint64_t bytes = 0;
    std::vector<std::string> paths;
    root->visit([&](const std::string& path, store::NodeKind kind) {
      if (kind == store::NodeKind::group) {
        ++groups;
      } else {
        paths.push_back(path);
      }
    });
    TerminalProgress progress;
    {
      ProgressScope scope(progress, "verify", static_cast<std::int64_t>(paths.size()));
      for (const auto& path : paths) {
        auto ds = root->open_dataset(path);
        const Shape shape = ds->shape();
        // Row blocks of about 64 MiB: never the whole dataset in memory.
        const std::int64_t rows = shape.rank() == 0 ? 1 : shape[0];
        const std::size_t row_bytes = std::max<std::size_t>(
            1,
            static_cast<std::size_t>(shape.rank() == 0 ? 1 : shape.without_first().num_elements()) *
                std::max<std::size_t>(ds->dtype().item_size(), 8));
        const std::int64_t block = std::max<std::int64_t>(
            1, static_cast<std::int64_t>((std::size_t{64} << 20) / row_bytes));
        for (std::int64_t begin = 0; begin < rows; begin += block) {
          const Selection sel =
              shape.rank() == 0
                  ? Selection()
                  : Selection{AxisSelection::slice(begin, std::min(rows, begin + block))};
          if (ds->dtype().is_fixed_size()) {
            bytes += ds->read(sel).nbytes();
          } else {
            bytes += ds->read_strings(sel).size();
          }
        }
        for (const auto& name : ds->attrs().names())
          ds->attrs().get(name);
        ++datasets;
        scope.advance(1);
      }
    }
    fmt::print("{}: ok — {} groups, {} datasets, {} of data decoded\n", *file, groups + 1, datasets,
               human_bytes(static_cast<double>(bytes)));
  });
}

}  // namespace larder::cli
