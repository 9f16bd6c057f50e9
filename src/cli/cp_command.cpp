// `larder cp SRC[:PATH] DST[:PATH]` — copy a dataset or a group between
// stores, optionally recompressing.
#include <fmt/format.h>

#include "commands.h"
#include "larder/core/error.h"
#include "larder/store/copy.h"
#include "larder/store/store.h"
#include "location.h"
#include "terminal_progress.h"

namespace larder::cli {

void add_cp_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("cp", "Copy or recompress a dataset or group into another store");
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto codec = std::make_shared<std::string>();
  cmd->add_option("SRC", *from, "FILE or FILE:PATH to copy")->required();
  cmd->add_option("DST", *to, "FILE or FILE:PATH to create (the file is created if missing)")
      ->required();
  cmd->add_option("--codec", *codec,
                  "Recompress with this codec: 'blosc-zstd', 'zstd:3', 'none' or a JSON spec");
  cmd->callback([from, to, codec] {
    const Location source = parse_location(*from);
    const Location target = parse_location(*to, false);
    for (const Location* at : {&source, &target}) {
      if (store::Store::driver_for(at->file) == "memory") {
        throw Error(ErrorCode::invalid_argument,
                    "a memory store lives only inside the process that made it, so larder cp "
                    "cannot copy from or into one (larder.copy() can, in that process)",
                    at->file);
      }
    }
    store::CopyOptions options;
    if (!codec->empty()) options.codec = codec::CodecSpec::parse(*codec);
    auto src = store::Store::open(source.file, "r");
    auto dst = store::Store::open(target.file, "a");
    std::string target_path = target.path;
    if (target_path.empty() && !source.path.empty())
      target_path = src->root()->open(source.path)->name();
    TerminalProgress progress;
    options.progress = &progress;
    ProgressScope scope(progress, "copy", -1);
    store::copy(*src->root(), source.path, *dst->root(), target_path, options);
    dst->close();
  });
}

}  // namespace larder::cli
