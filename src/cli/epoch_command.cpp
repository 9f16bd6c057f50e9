// `larder epoch STORE[:GROUP] --vars a,b` — read every batch of one or more
// epochs through a Loader and report rows per second.
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <sstream>

#include "commands.h"
#include "larder/core/error.h"
#include "larder/loader/loader.h"
#include "larder/ragged/ragged.h"
#include "larder/store/store.h"
#include "location.h"

namespace larder::cli {
namespace {

struct EpochArgs {
  std::string where;
  std::string vars;
  std::int64_t batch = 256;
  std::string shuffle = "none";
  std::uint64_t seed = 0;
  int epochs = 1;
  int threads = 2;
  int prefetch = 4;
  std::vector<std::string> pads;
  bool clip = false;
  std::size_t cache_mb = 0;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, separator))
    if (!part.empty()) parts.push_back(part);
  return parts;
}

// "name=width:fill" (fill: a number, nan, inf, -inf; default 0).
std::pair<std::string, loader::Pad> parse_pad(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("--pad '{}' is not name=width[:fill]", text));
  }
  const std::string spec = text.substr(eq + 1);
  const auto colon = spec.find(':');
  loader::Pad pad;
  try {
    std::size_t used = 0;
    const std::string width = spec.substr(0, colon);
    pad.width = std::stoll(width, &used);
    if (used != width.size()) throw std::invalid_argument(width);
    if (colon != std::string::npos) {
      const std::string fill = spec.substr(colon + 1);
      const double value = std::stod(fill, &used);
      if (used != fill.size()) throw std::invalid_argument(fill);
      pad.fill = value;
    }
  } catch (const std::logic_error&) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("--pad '{}' is not name=width[:fill]", text));
  }
  return {text.substr(0, eq), pad};
}

void run(const EpochArgs& args) {
  const Location at = parse_location(args.where);
  store::StoreOptions store_options;
  if (args.cache_mb > 0) store_options.chunk_cache_bytes = args.cache_mb << 20;
  auto store = store::Store::open(at.file, "r", store_options);
  auto group = at.path.empty() ? store->root() : store->root()->open_group(at.path);
  std::vector<loader::Column> columns;
  for (const std::string& var : split(args.vars, ',')) {
    if (ragged::Ragged::is_ragged(*group, var)) {
      columns.push_back({var, std::shared_ptr<ragged::Ragged>(ragged::Ragged::open(*group, var))});
    } else {
      columns.push_back({var, group->open_dataset(var)});
    }
  }
  loader::LoaderOptions options{
      .batch_size = args.batch,
      .sampler = {.shuffle = loader::shuffle_from_string(args.shuffle),
                  .seed = args.seed,
                  .block_size = 0},
      .clip = args.clip,
      .prefetch = args.prefetch,
      .threads = args.threads,
  };
  for (const std::string& text : args.pads)
    options.pad.insert(parse_pad(text));
  auto loader = loader::Loader::create(std::move(columns), options);

  std::int64_t rows = 0;
  std::int64_t batches = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int e = 0; e < args.epochs; ++e) {
    auto epoch = loader->start();
    while (auto batch = epoch->next()) {
      rows += batch->rows();
      ++batches;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("{} epoch(s), shuffle {}, batch {}: {} rows, {} batches, {:.3f} s, {:.0f} rows/s\n",
             args.epochs, args.shuffle, args.batch, rows, batches, seconds,
             seconds > 0 ? static_cast<double>(rows) / seconds : 0.0);
}

}  // namespace

void add_epoch_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("epoch", "Read shuffled batches of variables and report rows/s");
  auto args = std::make_shared<EpochArgs>();
  cmd->add_option("STORE[:GROUP]", args->where, "The store, and the group holding the variables")
      ->required();
  cmd->add_option("--vars", args->vars, "Variables (arrays in the group), comma-separated")
      ->required();
  cmd->add_option("--batch", args->batch, "Rows per batch")->capture_default_str();
  cmd->add_option("--shuffle", args->shuffle, "none, full or block")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Shuffle seed")->capture_default_str();
  cmd->add_option("--epochs", args->epochs, "Epochs to read")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Background threads reading batches")
      ->capture_default_str();
  cmd->add_option("--prefetch", args->prefetch, "Batches read ahead")->capture_default_str();
  cmd->add_option("--pad", args->pads, "Pad a ragged variable: name=width[:fill]");
  cmd->add_flag("--clip", args->clip, "Cut records longer than their pad width");
  cmd->add_option("--cache-mb", args->cache_mb, "Chunk cache of the store in MiB (0: default)");
  cmd->callback([args] { run(*args); });
}

}  // namespace larder::cli
