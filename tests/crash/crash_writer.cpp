// larder-crash-writer — appends to a dataset until it is killed.
//
//   larder-crash-writer FILE SEED CODEC KEY [--max-rows N] [--rewrite-last]
//                       [--flush-every N]
//
// Opens FILE (mode "a"; an .h5 file or an .lmm store, the driver follows
// the suffix), creates the dataset "x" (shape (0, 8) int64, chunks
// (64, 8), CODEC) when it is missing, then appends batches of 1..300 rows
// (sizes drawn from SEED) whose values depend only on the global row index:
// x[r, c] = (r * 8 + c) ^ KEY. KEY has bit 62 set, so no written value is
// ever zero (zeros are what a lost chunk reads back as). It reports on
// stdout, one write(2) per line, so a line is either whole in the pipe or
// absent:
//   ready ROWS           the dataset exists and holds ROWS committed rows
//   begin FROM TO        an append of rows [FROM, TO) is about to start
//   ack TO               that append returned: rows [0, TO) are acknowledged
//   done ROWS            MAX_ROWS reached, the file was closed
// and runs until it is killed or MAX_ROWS (default 4,000,000) is reached.
// With --rewrite-last it first overwrites the last committed row with its
// own values through Dataset::write (which folds the unfinished block back
// into the dataset), between "rewrite ROW" and "rewritten ROW". With
// --flush-every N it calls Store::flush() after every N-th append (which
// writes an mmap array's sidecar), between "flush" and "flushed".
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>
#include <string>

#include "crash_common.h"
#include "larder/core/array.h"
#include "larder/core/error.h"
#include "larder/core/selection.h"
#include "larder/store/store.h"

namespace {

void say(const std::string& line) {
  const std::string text = line + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::_Exit(3);  // the driver is gone
    done += static_cast<std::size_t>(n);
  }
}

int run(int argc, char** argv) {
  const auto usage = [&] {
    std::fprintf(stderr,
                 "usage: %s FILE SEED CODEC KEY [--max-rows N] [--rewrite-last] "
                 "[--flush-every N]\n",
                 argv[0]);
    return 2;
  };
  if (argc < 5) return usage();
  const std::string file = argv[1];
  const std::uint64_t seed = std::strtoull(argv[2], nullptr, 0);
  const std::string codec = argv[3];
  const std::uint64_t key = std::strtoull(argv[4], nullptr, 0);
  std::int64_t max_rows = 4'000'000;
  bool rewrite_last = false;
  std::int64_t flush_every = 0;
  for (int i = 5; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--max-rows" && i + 1 < argc) {
      max_rows = std::strtoll(argv[++i], nullptr, 0);
    } else if (arg == "--flush-every" && i + 1 < argc) {
      flush_every = std::strtoll(argv[++i], nullptr, 0);
    } else if (arg == "--rewrite-last") {
      rewrite_last = true;
    } else {
      return usage();
    }
  }

  using namespace larder;
  auto store = store::Store::open(file, "a");
  auto root = store->root();
  std::shared_ptr<store::Dataset> x;
  if (root->contains(larder::crash::kDataset)) {
    x = root->open_dataset(larder::crash::kDataset);
  } else {
    x = root->create_dataset(larder::crash::kDataset,
                             {.dtype = DType::int64(),
                              .shape = Shape{0, larder::crash::kColumns},
                              .chunks = {larder::crash::kChunkRows, larder::crash::kColumns},
                              .codec = {.id = codec},
                              .extendable = true});
  }
  std::int64_t rows = x->rows();
  say("ready " + std::to_string(rows));

  if (rewrite_last && rows > 0) {
    Array row = Array::empty(DType::int64(), Shape{larder::crash::kColumns});
    auto values = row.values<std::int64_t>();
    for (std::int64_t c = 0; c < larder::crash::kColumns; ++c) {
      values[static_cast<std::size_t>(c)] = larder::crash::expected(rows - 1, c, key);
    }
    say("rewrite " + std::to_string(rows - 1));
    x->write(Selection{AxisSelection::index(rows - 1)}, row.view());
    say("rewritten " + std::to_string(rows - 1));
  }

  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> batch(1, 300);
  for (std::int64_t appends = 1; rows < max_rows; ++appends) {
    const std::int64_t n = batch(rng);
    Array block = Array::empty(DType::int64(), Shape{n, larder::crash::kColumns});
    auto values = block.values<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t c = 0; c < larder::crash::kColumns; ++c) {
        values[static_cast<std::size_t>(i * larder::crash::kColumns + c)] =
            larder::crash::expected(rows + i, c, key);
      }
    }
    say("begin " + std::to_string(rows) + " " + std::to_string(rows + n));
    x->append(block.view());
    rows += n;
    say("ack " + std::to_string(rows));
    if (flush_every > 0 && appends % flush_every == 0) {
      say("flush");
      store->flush();
      say("flushed");
    }
  }
  store->close();
  say("done " + std::to_string(rows));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "larder-crash-writer: %s\n", e.what());
    return 1;
  }
}
