// larder-crash-test — kill -9 an appending writer, then check what is left.
//
// Each trial starts larder-crash-writer on a fresh file (or, one time in
// three, on the file the previous trial left, so reopening and appending to
// a crashed file is exercised; half of those first rewrite the last row
// with Dataset::write), kills it with SIGKILL after a random delay (or,
// one time in five, within 4 ms of its "ready": in the first append, which
// creates or takes over the append journal; the next trial then always
// continues that file, so an append journal such a kill spoilt is found),
// and checks the file with larder in a child process (a file that crashes
// or hangs the checker is a finding, not the end of the run):
//   (1) it opens, without h5clear;
//   (2) every acknowledged row is there with exactly the values written;
//   (3) nothing else is: larder reports the acknowledged rows, or those plus
//       all the rows of the append in flight, never part of it, and every
//       row it reports holds the values written.
// With --format hdf5 (the default) the file is an HDF5 file, each trial
// with one of five codecs, and h5py is asked what it sees (reported, not
// checked: the guarantee is larder's). With --format mmap it is an .lmm
// store (no compression); the checker opens it untrusted, so every block
// checksum, including those recovered from the commit file, is verified
// too; and two writers in three call Store::flush() every 1..64 appends,
// so kills also land while the sidecar is rewritten. Ends with one line:
// trials, kills mid-append, rows checked, failures; exit status 1 when any
// trial failed.
//
//   larder-crash-test [--format hdf5|mmap] [--trials N] [--jobs J] [--seed S]
//                     [--max-delay-ms M] [--max-rows N]
//                     [--reopen-percent P (33)] [--rewrite-percent P (50)]
//                     [--first-append-percent P (20)]
//                     [--dir DIR] [--writer PATH] [--python PATH]
//                     [--h5py-script PATH] [--no-h5py] [--keep] [--verbose]
//   larder-crash-test --check FILE KEY     (the checker, run as a child)
#include <fcntl.h>
#include <hdf5.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crash_common.h"
#include "larder/core/array.h"
#include "larder/core/error.h"
#include "larder/core/selection.h"
#include "larder/store/store.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using larder::crash::kColumns;

constexpr std::array<const char*, 5> kCodecs = {"none", "blosc-lz4", "zstd", "gzip", "lz4"};

bool is_mmap_store(const std::string& file) {
  return file.ends_with(".lmm");
}

// ---- the checker (a child process) ------------------------------------------
//
// Prints "key value..." lines: what larder reports, then what libhdf5 itself
// shows of the extent, the rows that are wrong and the chunks it cannot read.

struct BadElement {
  std::int64_t row, column, want, got;
};

// Row `row` of the rank-2 int64 dataset, as libhdf5 reads it.
std::optional<std::vector<std::int64_t>> hdf5_row(hid_t dataset, std::int64_t row) {
  hid_t space = H5Dget_space(dataset);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (rank != 2 || static_cast<hsize_t>(row) >= dims[0]) {
    H5Sclose(space);
    return std::nullopt;
  }
  const hsize_t start[2] = {static_cast<hsize_t>(row), 0};
  const hsize_t count[2] = {1, dims[1]};
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
  std::vector<std::int64_t> out(static_cast<std::size_t>(kColumns));
  const hsize_t n = out.size();
  hid_t memory = H5Screate_simple(1, &n, nullptr);
  const herr_t status = H5Dread(dataset, H5T_NATIVE_INT64, memory, space, H5P_DEFAULT, out.data());
  H5Sclose(memory);
  H5Sclose(space);
  if (status < 0) return std::nullopt;
  return out;
}

std::string row_text(const std::optional<std::vector<std::int64_t>>& row) {
  if (!row) return "unreadable";
  std::string s;
  for (std::int64_t v : *row)
    s += (s.empty() ? "" : ",") + std::to_string(v);
  return "[" + s + "]";
}

int check_main(const std::string& file, std::uint64_t key) {
  using namespace larder;
  std::vector<BadElement> bad;
  std::vector<std::int64_t> bad_rows;
  std::vector<std::pair<std::int64_t, std::string>> unreadable;  // chunk row, error
  std::int64_t rows = -1;
  std::string stage = "open";
  const bool mmap = is_mmap_store(file);
  try {
    // An mmap store opened untrusted checks every block checksum.
    auto store = store::Store::open(file, "r", {.untrusted = mmap});
    stage = "open_dataset";
    auto root = store->root();
    if (!root->contains(crash::kDataset)) {
      std::printf("nodataset\n");
    } else {
      auto x = root->open_dataset(crash::kDataset);
      stage = "read";
      rows = x->rows();
      const auto codec = x->codec();
      std::printf("rows %" PRId64 "\ncodec %s\n", rows, codec ? codec->id.c_str() : "?");
      if (x->dtype() != DType::int64() || x->shape().rank() != 2 || x->shape()[1] != kColumns) {
        std::printf("error read unexpected dtype %s or shape %s\n", x->dtype().name().c_str(),
                    x->shape().to_string().c_str());
        return 0;
      }
      std::int64_t bad_row_count = 0, zero_rows = 0, unreadable_rows = 0;
      auto compare = [&](std::int64_t begin, const Array& got) {
        const auto values = got.values<std::int64_t>();
        const std::int64_t end = begin + got.shape()[0];
        for (std::int64_t r = begin; r < end; ++r) {
          bool row_bad = false, row_zero = true;
          for (std::int64_t c = 0; c < kColumns; ++c) {
            const std::int64_t v = values[static_cast<std::size_t>((r - begin) * kColumns + c)];
            const std::int64_t want = crash::expected(r, c, key);
            row_zero = row_zero && v == 0;
            if (v != want) {
              row_bad = true;
              if (bad.size() < 8) bad.push_back({r, c, want, v});
            }
          }
          if (row_bad) {
            ++bad_row_count;
            zero_rows += row_zero ? 1 : 0;
            if (bad_rows.size() < 4) bad_rows.push_back(r);
          }
        }
      };
      auto rows_of = [&](std::int64_t begin, std::int64_t end) {
        return x->read(Selection{AxisSelection::slice(begin, end)});
      };
      constexpr std::int64_t kBatch = 1 << 16;
      for (std::int64_t begin = 0; begin < rows; begin += kBatch) {
        const std::int64_t end = std::min(rows, begin + kBatch);
        try {
          compare(begin, rows_of(begin, end));
        } catch (const Error&) {
          // Find the chunks that fail, and check the others.
          for (std::int64_t b = begin; b < end; b += crash::kChunkRows) {
            const std::int64_t e = std::min(end, b + crash::kChunkRows);
            try {
              compare(b, rows_of(b, e));
            } catch (const Error& error) {
              unreadable_rows += e - b;
              if (unreadable.size() < 4)
                unreadable.push_back({b / crash::kChunkRows, error.what()});
            }
          }
        }
      }
      std::printf("unreadablerows %" PRId64 "\n", unreadable_rows);
      for (const auto& [chunk, message] : unreadable) {
        std::string what = message;
        std::replace(what.begin(), what.end(), '\n', ' ');
        std::printf("unreadable chunk %" PRId64 " (rows %" PRId64 "..%" PRId64 ", %s): %s\n", chunk,
                    chunk * crash::kChunkRows, std::min(rows, (chunk + 1) * crash::kChunkRows) - 1,
                    (chunk + 1) * crash::kChunkRows > rows ? "the tail block" : "a full chunk",
                    what.c_str());
      }
      std::printf("checked %" PRId64 "\nbadrows %" PRId64 "\nzerorows %" PRId64 "\n", rows,
                  bad_row_count, zero_rows);
      for (const auto& b : bad) {
        std::printf("bad %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", b.row, b.column,
                    b.want, b.got);
      }
      if (!bad_rows.empty()) {
        std::printf("badrange %" PRId64 "..%" PRId64 "\n", bad_rows.front(), bad_rows.back());
      }
    }
    store->close();
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    std::printf("error %s %s\n", stage.c_str(), what.c_str());
  }
  std::fflush(stdout);
  if (mmap) return 0;

  // What libhdf5 shows, for the report (larder registered its filters above).
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    std::printf("hdf5 cannot open the file\n");
    return 0;
  }
  hid_t x = H5Lexists(f, crash::kDataset, H5P_DEFAULT) > 0
                ? H5Dopen2(f, crash::kDataset, H5P_DEFAULT)
                : H5I_INVALID_HID;
  if (x < 0) {
    std::printf("hdf5 no dataset\n");
    H5Fclose(f);
    return 0;
  }
  hid_t space = H5Dget_space(x);
  hsize_t extent[2] = {0, 0};
  H5Sget_simple_extent_dims(space, extent, nullptr);
  H5Sclose(space);
  std::printf("extent %llu\n", static_cast<unsigned long long>(extent[0]));
  // larder commits appends through its journal (/.larder/tails/...), which
  // libhdf5 shows as raw bytes only: larder's own reading above is the check.
  for (std::int64_t r : bad_rows) {
    const std::int64_t base = rows - rows % larder::crash::kChunkRows;
    std::vector<std::int64_t> want;
    for (std::int64_t c = 0; c < kColumns; ++c)
      want.push_back(larder::crash::expected(r, c, key));
    std::printf("row %" PRId64 " (%s, chunk %" PRId64 ") want %s dataset %s", r,
                r >= base ? "in the tail block" : "in a full chunk", r / larder::crash::kChunkRows,
                row_text(want).c_str(), row_text(hdf5_row(x, r)).c_str());
    std::printf("\n");
  }
  if (!unreadable.empty()) {
    haddr_t eoa = 0;
    H5Fget_eoa(f, &eoa);
    std::error_code ec;
    std::printf("file size %ju, eoa %ju\n", static_cast<std::uintmax_t>(fs::file_size(file, ec)),
                static_cast<std::uintmax_t>(eoa));
  }
  for (const auto& u : unreadable) {
    const hsize_t offset[2] = {static_cast<hsize_t>(u.first * larder::crash::kChunkRows), 0};
    unsigned mask = 0;
    haddr_t address = 0;
    hsize_t size = 0;
    if (H5Dget_chunk_info_by_coord(x, offset, &mask, &address, &size) >= 0) {
      std::printf("chunk %" PRId64 " stored at %ju, %ju bytes, filter mask %u\n", u.first,
                  static_cast<std::uintmax_t>(address), static_cast<std::uintmax_t>(size), mask);
    } else {
      std::printf("chunk %" PRId64 ": hdf5 has no chunk info\n", u.first);
    }
  }
  H5Dclose(x);
  H5Fclose(f);
  return 0;
}

// ---- processes ------------------------------------------------------------------

struct Spawned {
  pid_t pid = -1;
  int out = -1;  // the child's stdout, read end
  int in = -1;   // the child's stdin, write end (when asked for)
};

// Starts argv[0] with stdout to a pipe, stderr to `stderr_path` (or ours)
// and stdin from a pipe or /dev/null. Every fd is close-on-exec, so a child
// another thread starts never holds this child's pipe open.
Spawned spawn(const std::vector<std::string>& args, const std::string& stderr_path,
              bool want_stdin) {
  int out[2], in[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  ::fcntl(out[0], F_SETPIPE_SZ, 1 << 20);  // room for every line between our reads
  if (want_stdin && ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  if (want_stdin) {
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (want_stdin) ::close(in[0]);
  if (rc != 0) {
    ::close(out[0]);
    if (want_stdin) ::close(in[1]);
    throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  return {pid, out[0], want_stdin ? in[1] : -1};
}

// Reads `fd` into `text` until EOF or `deadline`; true at EOF. With `pause`,
// waits that long after each read, so a chatty child wakes us seldom.
bool read_until(int fd, std::string& text, Clock::time_point deadline,
                std::chrono::microseconds pause = {}) {
  char buffer[65536];
  while (true) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return false;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                     static_cast<long>(ns % 1'000'000'000)};
    pollfd p{fd, POLLIN, 0};
    const int ready = ::ppoll(&p, 1, &timeout, nullptr);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // timed out: the loop re-checks the deadline
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    text.append(buffer, static_cast<std::size_t>(n));
    if (pause.count() > 0) {
      std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - Clock::now()));
    }
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) break;  // a fragment without its newline is not a line
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

std::string read_file_text(const std::string& path, std::size_t limit = 4000) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

// A python3 process answering h5py questions (h5py_check.py), restarted if
// it dies.
class H5pyHelper {
 public:
  H5pyHelper(std::string python, std::string script, std::string stderr_path)
      : python_(std::move(python)), script_(std::move(script)), stderr_(std::move(stderr_path)) {}
  ~H5pyHelper() { stop(); }
  H5pyHelper(const H5pyHelper&) = delete;
  H5pyHelper& operator=(const H5pyHelper&) = delete;

  std::string ask(const std::string& file, std::uint64_t key, std::int64_t rows) {
    if (child_.pid < 0) child_ = spawn({python_, script_}, stderr_, true);
    const std::string seq = std::to_string(++seq_);
    const std::string question =
        seq + "\t" + file + "\t" + std::to_string(key) + "\t" + std::to_string(rows) + "\n";
    if (::write(child_.in, question.data(), question.size()) !=
        static_cast<ssize_t>(question.size())) {
      stop();
      return "error the h5py helper died: " + read_file_text(stderr_, 300);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (true) {
      const std::size_t end = buffer_.find('\n');
      if (end != std::string::npos) {
        std::string answer = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        if (!answer.starts_with(seq + " ")) continue;  // not the answer to this question
        return answer.substr(seq.size() + 1);
      }
      if (read_until_some(deadline)) continue;
      stop();
      return "error the h5py helper died or hung: " + read_file_text(stderr_, 300);
    }
  }

 private:
  bool read_until_some(Clock::time_point deadline) {
    char chunk[4096];
    while (Clock::now() < deadline) {
      pollfd p{child_.out, POLLIN, 0};
      const int ready = ::poll(&p, 1, 1000);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) continue;
      const ssize_t n = ::read(child_.out, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  }
  void stop() {
    if (child_.pid < 0) return;
    ::close(child_.in);
    ::kill(child_.pid, SIGKILL);
    ::waitpid(child_.pid, nullptr, 0);
    ::close(child_.out);
    child_ = {};
    buffer_.clear();
  }

  std::string python_, script_, stderr_;
  Spawned child_;
  std::string buffer_;
  std::uint64_t seq_ = 0;
};

// ---- trials --------------------------------------------------------------------------

struct Options {
  bool mmap = false;  // --format mmap
  int trials = 200;
  int jobs = 1;
  std::uint64_t seed = 20240601;
  int max_delay_ms = 300;
  int reopen_percent = 33;        // trials that continue the previous trial's file
  int rewrite_percent = 50;       // of those, the ones that first rewrite the last row
  int first_append_percent = 20;  // trials killed within 4 ms of "ready"
  std::int64_t max_chain_rows = 1'000'000;
  std::int64_t max_rows = 0;  // the writer's --max-rows (0: its default)
  std::string dir;
  std::string writer;
  std::string self;
  std::string python = "/usr/bin/python3";
  std::string h5py_script;
  bool h5py = true;
  bool keep = false;
  bool verbose = false;
};

struct Totals {
  std::mutex mutex;
  int trials = 0, fresh = 0, reopened = 0;
  int mid_append = 0, mid_append_committed = 0, between_appends = 0, before_ready = 0;
  int near_first_append = 0;
  int writer_finished = 0, rewrites = 0, mid_rewrite = 0, flushing = 0, mid_flush = 0;
  std::int64_t rows_checked = 0, appends_acked = 0;
  int failures = 0;
  std::map<std::string, int> failures_by_codec;
  std::map<std::string, int> failures_by_kind;
  int create_phase_unopenable = 0;
  int create_phase_no_file = 0;
  int h5py_checked = 0, h5py_no_filter = 0, h5py_errors = 0;
  int h5py_clean = 0, h5py_tail_only = 0, h5py_full_damage = 0;
  std::int64_t h5py_damaged_rows = 0, h5py_damaged_full_rows = 0;
  std::vector<std::string> h5py_notes;
};

struct Chain {  // the file the next trial may continue
  bool usable = false;
  std::uint64_t key = 0;
  std::string codec;
  std::int64_t rows = 0;
  int length = 0;
  bool continue_next = false;  // the next trial reopens it
};

struct CheckResult {
  bool ran = false;    // the checker exited normally
  std::string status;  // how it ended
  std::string error;   // "stage message" when larder threw
  bool no_dataset = false;
  std::int64_t rows = -1, bad_rows = 0, zero_rows = 0, unreadable_rows = 0;
  std::string report;  // everything it printed
};

CheckResult run_check(const Options& o, const std::string& file, std::uint64_t key,
                      const std::string& stderr_path) {
  CheckResult r;
  Spawned c = spawn({o.self, "--check", file, std::to_string(key)}, stderr_path, false);
  std::string text;
  const bool eof = read_until(c.out, text, Clock::now() + std::chrono::seconds(120));
  if (!eof) ::kill(c.pid, SIGKILL);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  ::close(c.out);
  r.report = text;
  r.status = eof ? describe_status(status) : "hung (killed after 120 s)";
  r.ran = eof && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  for (const auto& line : lines_of(text)) {
    std::istringstream in(line);
    std::string word;
    in >> word;
    if (word == "rows") in >> r.rows;
    if (word == "badrows") in >> r.bad_rows;
    if (word == "zerorows") in >> r.zero_rows;
    if (word == "unreadablerows") in >> r.unreadable_rows;
    if (word == "nodataset") r.no_dataset = true;
    if (word == "error") r.error = line.substr(6);
  }
  if (!r.ran) r.report += "stderr: " + read_file_text(stderr_path);
  return r;
}

void run_worker(const Options& o, int worker, Totals& totals) {
  const fs::path dir = fs::path(o.dir) / ("worker-" + std::to_string(worker));
  fs::create_directories(dir);
  const std::string file = (dir / (o.mmap ? "crash.lmm" : "crash.h5")).string();
  const std::string writer_log = (dir / "writer.stderr").string();
  const std::string check_log = (dir / "check.stderr").string();
  std::optional<H5pyHelper> h5py;
  if (o.h5py) h5py.emplace(o.python, o.h5py_script, (dir / "h5py.stderr").string());
  std::mt19937_64 rng(o.seed * 1'000'003 + static_cast<std::uint64_t>(worker));
  Chain chain;

  for (int trial = worker; trial < o.trials; trial += o.jobs) {
    const bool fresh =
        !chain.usable ||
        (!chain.continue_next &&
         (chain.rows >= o.max_chain_rows || static_cast<int>(rng() % 100) >= o.reopen_percent));
    if (fresh) {
      std::error_code ec;
      fs::remove_all(file, ec);
      chain = {false, larder::crash::make_key(rng()),
               o.mmap ? "none" : kCodecs[static_cast<std::size_t>(trial) % kCodecs.size()], 0, 0};
    }
    const std::int64_t prior_rows = chain.rows;
    const std::uint64_t writer_seed = rng();
    // Sometimes a reopened file first has its last committed row rewritten
    // in place (Dataset::write), which folds the unfinished block back.
    const bool rewrite = !fresh && static_cast<int>(rng() % 100) < o.rewrite_percent;
    const auto delay = std::chrono::microseconds(
        std::uniform_int_distribution<std::int64_t>(0, std::int64_t{o.max_delay_ms} * 1000)(rng));
    const bool near_first_append = static_cast<int>(rng() % 100) < o.first_append_percent;
    const auto after_ready =
        std::chrono::microseconds(std::uniform_int_distribution<std::int64_t>(0, 4000)(rng));
    // mmap: Store::flush() writes the sidecars; let kills land there too.
    const std::int64_t flush_every =
        o.mmap && rng() % 3 != 0 ? static_cast<std::int64_t>(rng() % 64) + 1 : 0;

    // Run the writer, kill it.
    const auto start = Clock::now();
    std::vector<std::string> writer_args{o.writer, file, std::to_string(writer_seed), chain.codec,
                                         std::to_string(chain.key)};
    if (rewrite) writer_args.push_back("--rewrite-last");
    if (flush_every > 0) {
      writer_args.push_back("--flush-every");
      writer_args.push_back(std::to_string(flush_every));
    }
    if (o.max_rows > 0) {
      writer_args.push_back("--max-rows");
      writer_args.push_back(std::to_string(o.max_rows));
    }
    Spawned w = spawn(writer_args, writer_log, false);
    std::string text;
    bool exited_early = false;
    if (near_first_append) {
      const auto give_up = start + std::chrono::seconds(30);
      while (!exited_early && text.find("ready ") == std::string::npos && Clock::now() < give_up)
        exited_early = read_until(w.out, text, Clock::now() + std::chrono::milliseconds(1));
      if (!exited_early) std::this_thread::sleep_for(after_ready);
    } else {
      exited_early = read_until(w.out, text, start + delay, std::chrono::milliseconds(20));
    }
    ::kill(w.pid, SIGKILL);  // a zombie until waited for, so the pid is still ours
    int status = 0;
    ::waitpid(w.pid, &status, 0);
    read_until(w.out, text, Clock::now() + std::chrono::seconds(10));  // acks already in the pipe
    ::close(w.out);

    // What the writer said before it died.
    bool ready = false, done = false, in_flight = false, rewriting = false, flushing = false;
    std::int64_t ready_rows = -1;
    std::int64_t acked = prior_rows, flight_from = -1, flight_to = -1, acks = 0;
    for (const auto& line : lines_of(text)) {
      std::istringstream in(line);
      std::string word;
      in >> word;
      if (word == "ready") {
        ready = true;
        in >> ready_rows;
        acked = ready_rows;
      } else if (word == "begin") {
        in >> flight_from >> flight_to;
        in_flight = true;
      } else if (word == "ack") {
        in >> acked;
        in_flight = false;
        ++acks;
      } else if (word == "rewrite") {
        rewriting = true;
      } else if (word == "rewritten") {
        rewriting = false;
      } else if (word == "flush") {
        flushing = true;
      } else if (word == "flushed") {
        flushing = false;
      } else if (word == "done") {
        done = true;
      }
    }
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;

    struct Failure {
      std::string kind;  // tallied in the summary
      std::string detail;
    };
    std::vector<Failure> failures;
    if (!killed && !done) {
      const std::string kind = !ready      ? "writer error: opening the file"
                               : rewriting ? "writer error: Dataset::write into the unfinished "
                                             "block of a crashed file"
                               : acks == 0 && !fresh
                                   ? "writer error: first append after reopening a crashed file"
                                   : "writer error";
      failures.push_back({kind, "the writer " + describe_status(status) +
                                    (exited_early ? " before it was killed" : "") + ": " +
                                    read_file_text(writer_log, 1000)});
    }
    if (ready && !fresh && ready_rows != prior_rows) {
      failures.push_back({"reopen", "the reopened file reported " + std::to_string(ready_rows) +
                                        " rows to the writer, the last check saw " +
                                        std::to_string(prior_rows)});
    }
    if (in_flight && flight_from != acked) {
      failures.push_back({"protocol", "writer protocol: append in flight from " +
                                          std::to_string(flight_from) + " after ack " +
                                          std::to_string(acked)});
    }

    // Check the file.
    const CheckResult check = run_check(o, file, chain.key, check_log);
    const bool create_phase = fresh && !ready;  // killed before the dataset existed
    std::int64_t rows_checked = 0;
    if (!check.ran) {
      failures.push_back({"checker crashed or hung", "the checker " + check.status});
    } else if (!check.error.empty()) {
      if (create_phase && check.error.starts_with("open ")) {
        std::lock_guard lock(totals.mutex);
        // Reported, not a failure: no append had begun. larder creates a file
        // under a temporary name and renames it, so this should be "no file".
        ++(fs::exists(file) ? totals.create_phase_unopenable : totals.create_phase_no_file);
      } else {
        failures.push_back(
            {check.error.starts_with("open ") ? "file does not open" : "larder error",
             "larder: " + check.error});
      }
    } else if (check.no_dataset) {
      if (!create_phase) failures.push_back({"dataset missing", "larder: the dataset is missing"});
    } else {
      rows_checked = check.rows - check.unreadable_rows;
      const bool ok_rows = check.rows == acked || (in_flight && check.rows == flight_to);
      if (!ok_rows) {
        failures.push_back(
            {check.rows < acked ? "acknowledged rows lost" : "unacknowledged rows",
             "larder reports " + std::to_string(check.rows) + " rows; acknowledged " +
                 std::to_string(acked) +
                 (in_flight ? ", append in flight [" + std::to_string(flight_from) + ", " +
                                  std::to_string(flight_to) + ")"
                            : std::string(", no append in flight")) +
                 (check.rows < acked ? " — acknowledged rows lost" : " — unacknowledged rows")});
      }
      if (check.unreadable_rows > 0) {
        failures.push_back(
            {"committed chunk unreadable",
             "larder cannot read " + std::to_string(check.unreadable_rows) + " committed rows"});
      }
      if (check.bad_rows > 0) {
        failures.push_back({check.zero_rows > 0 ? "zero-filled rows" : "wrong values",
                            std::to_string(check.bad_rows) + " rows hold wrong values (" +
                                std::to_string(check.zero_rows) + " all zeros)"});
      }
    }

    // What h5py sees (a report, not a verdict).
    std::string h5py_answer;
    if (h5py && (ready || !fresh)) {
      h5py_answer = h5py->ask(file, chain.key, check.rows >= 0 ? check.rows : acked);
    }

    // Tally, report.
    const bool failed = !failures.empty();
    {
      std::lock_guard lock(totals.mutex);
      ++totals.trials;
      ++(fresh ? totals.fresh : totals.reopened);
      totals.rewrites += rewrite ? 1 : 0;
      totals.flushing += flush_every > 0 ? 1 : 0;
      totals.near_first_append += near_first_append ? 1 : 0;
      if (!ready) {
        ++totals.before_ready;
      } else if (rewriting) {
        ++totals.mid_rewrite;
      } else if (flushing) {
        ++totals.mid_flush;
      } else if (done) {
        ++totals.writer_finished;
      } else if (in_flight) {
        ++totals.mid_append;
        if (check.rows == flight_to) ++totals.mid_append_committed;
      } else {
        ++totals.between_appends;
      }
      totals.rows_checked += rows_checked;
      totals.appends_acked += acks;
      if (!h5py_answer.empty()) {
        ++totals.h5py_checked;
        if (h5py_answer.starts_with("nofilter")) {
          ++totals.h5py_no_filter;
        } else if (h5py_answer.starts_with("error")) {
          ++totals.h5py_errors;
          if (totals.h5py_notes.size() < 5) {
            totals.h5py_notes.push_back("trial " + std::to_string(trial) + " (" + chain.codec +
                                        "): " + h5py_answer);
          }
        } else {
          std::map<std::string, std::int64_t> field;
          std::istringstream in(h5py_answer.substr(3));
          std::string item;
          while (in >> item) {
            const auto eq = item.find('=');
            if (eq != std::string::npos)
              field[item.substr(0, eq)] = std::strtoll(item.c_str() + eq + 1, nullptr, 10);
          }
          const std::int64_t damaged = field["zero"] + field["wrong"] + field["unreadable"];
          const std::int64_t damaged_full = field["full"] + field["unreadable_full"];
          totals.h5py_damaged_rows += damaged;
          totals.h5py_damaged_full_rows += damaged_full;
          if (damaged_full > 0) {
            ++totals.h5py_full_damage;
          } else if (damaged > 0) {
            ++totals.h5py_tail_only;
          } else {
            ++totals.h5py_clean;
          }
          if (damaged_full > 0 && totals.h5py_notes.size() < 8) {
            totals.h5py_notes.push_back("trial " + std::to_string(trial) + " (" + chain.codec +
                                        "): " + h5py_answer);
          }
        }
      }
      if (failed) {
        ++totals.failures;
        ++totals.failures_by_codec[chain.codec];
        // Details (and a copy of the file) for the first few of each kind.
        bool detailed = o.verbose;
        std::string kinds;
        for (const auto& f : failures) {
          detailed = detailed || ++totals.failures_by_kind[f.kind] <= 5;
          kinds += (kinds.empty() ? "" : "; ") + f.kind;
        }
        if (!detailed) {
          std::printf("FAIL trial %d: codec %s, %s file: %s\n", trial, chain.codec.c_str(),
                      fresh ? "fresh" : "reopened", kinds.c_str());
          std::fflush(stdout);
        }
        std::string kept = "-";
        const fs::path failures_dir = fs::path(o.dir) / "failures";
        std::error_code ec;
        fs::create_directories(failures_dir, ec);
        const fs::path copy = failures_dir / ("trial-" + std::to_string(trial) + "-" + chain.codec +
                                              (o.mmap ? ".lmm" : ".h5"));
        if (detailed && fs::exists(file)) {
          fs::copy(file, copy, fs::copy_options::overwrite_existing | fs::copy_options::recursive,
                   ec);
          if (!ec) kept = copy.string();
        }
        if (detailed) {
          std::printf("FAIL trial %d: codec %s, %s file (chain %d, %" PRId64
                      " rows before), killed after %.1f ms (%s), acknowledged %" PRId64
                      " rows in %" PRId64 " appends%s\n",
                      trial, chain.codec.c_str(),
                      fresh     ? "fresh"
                      : rewrite ? "reopened (last row rewritten first)"
                                : "reopened",
                      chain.length, prior_rows, static_cast<double>(delay.count()) / 1000.0,
                      describe_status(status).c_str(), acked, acks,
                      in_flight ? (", in flight [" + std::to_string(flight_from) + ", " +
                                   std::to_string(flight_to) + ")")
                                      .c_str()
                                : ", none in flight");
          for (const auto& f : failures)
            std::printf("  - %s\n", f.detail.c_str());
          std::printf("  checker (%s):\n", check.status.c_str());
          for (const auto& line : lines_of(check.report))
            std::printf("    %s\n", line.c_str());
          if (!h5py_answer.empty()) std::printf("  h5py: %s\n", h5py_answer.c_str());
          std::printf("  file kept: %s\n", kept.c_str());
          std::fflush(stdout);
        }
      } else if (o.verbose) {
        std::printf("ok trial %d: %s %s, %.1f ms, acked %" PRId64 ", %s, larder rows %" PRId64
                    ", h5py %s\n",
                    trial, chain.codec.c_str(),
                    fresh     ? "fresh"
                    : rewrite ? "reopened+rewrite"
                              : "reopened",
                    static_cast<double>(delay.count()) / 1000.0, acked,
                    !ready      ? "before ready"
                    : in_flight ? "mid-append"
                                : "between appends",
                    check.rows, h5py_answer.c_str());
        std::fflush(stdout);
      }
    }
    if (failed || check.rows < 0) {
      chain.usable = false;
    } else {
      chain.usable = true;
      chain.rows = check.rows;
      ++chain.length;
    }
    chain.continue_next = near_first_append;
  }
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--format hdf5|mmap] [--trials N] [--jobs J] [--seed S]\n"
               "          [--max-delay-ms M] [--max-rows N] [--dir DIR]\n"
               "          [--reopen-percent P] [--rewrite-percent P] [--first-append-percent P]\n"
               "          [--writer PATH] [--python PATH] [--h5py-script PATH] [--no-h5py]\n"
               "          [--keep] [--verbose]\n"
               "       %s --check FILE KEY\n",
               argv0, argv0);
  return 2;
}

std::string self_path() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--check") {
    return check_main(argv[2], std::strtoull(argv[3], nullptr, 0));
  }
  Options o;
  o.self = self_path();
  o.writer = (fs::path(o.self).parent_path() / "larder-crash-writer").string();
#ifdef LARDER_CRASH_H5PY_SCRIPT
  o.h5py_script = LARDER_CRASH_H5PY_SCRIPT;
#endif
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage(argv[0]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--format") {
      const std::string format = value();
      if (format != "hdf5" && format != "mmap") return usage(argv[0]);
      o.mmap = format == "mmap";
    } else if (a == "--trials")
      o.trials = std::stoi(value());
    else if (a == "--max-rows")
      o.max_rows = std::stoll(value());
    else if (a == "--jobs")
      o.jobs = std::max(1, std::stoi(value()));
    else if (a == "--seed")
      o.seed = std::stoull(value());
    else if (a == "--max-delay-ms")
      o.max_delay_ms = std::stoi(value());
    else if (a == "--reopen-percent")
      o.reopen_percent = std::stoi(value());
    else if (a == "--rewrite-percent")
      o.rewrite_percent = std::stoi(value());
    else if (a == "--first-append-percent")
      o.first_append_percent = std::stoi(value());
    else if (a == "--dir")
      o.dir = value();
    else if (a == "--writer")
      o.writer = value();
    else if (a == "--python")
      o.python = value();
    else if (a == "--h5py-script")
      o.h5py_script = value();
    else if (a == "--no-h5py")
      o.h5py = false;
    else if (a == "--keep")
      o.keep = true;
    else if (a == "--verbose")
      o.verbose = true;
    else
      return usage(argv[0]);
  }
  if (o.mmap) o.h5py = false;  // nothing for h5py to read
  const char* env_seed = std::getenv("LARDER_CRASH_SEED");
  if (env_seed != nullptr) o.seed = std::strtoull(env_seed, nullptr, 0);
  if (o.h5py && (o.h5py_script.empty() || !fs::exists(o.h5py_script) || !fs::exists(o.python))) {
    std::printf("crash-test: h5py checks skipped (no %s)\n",
                o.h5py_script.empty() ? "h5py_check.py" : o.python.c_str());
    o.h5py = false;
  }
  if (o.h5py) {
    const std::string probe = o.python + " -c 'import h5py' >/dev/null 2>&1";
    if (std::system(probe.c_str()) != 0) {
      std::printf("crash-test: h5py checks skipped (h5py does not import)\n");
      o.h5py = false;
    }
  }
  std::random_device rd;
  const fs::path base = o.dir.empty() ? fs::temp_directory_path() : fs::path(o.dir);
  o.dir =
      (base / ("larder-crash-" + std::to_string(::getpid()) + "-" + std::to_string(rd()))).string();
  fs::create_directories(o.dir);
  ::signal(SIGPIPE, SIG_IGN);

  std::printf("crash-test: %s, %d trials, %d jobs, seed %" PRIu64 ", kill after 0-%d ms, in %s\n",
              o.mmap ? "mmap stores" : "hdf5 files", o.trials, o.jobs, o.seed, o.max_delay_ms,
              o.dir.c_str());
  std::fflush(stdout);
  const auto start = Clock::now();
  Totals totals;
  std::vector<std::thread> workers;
  for (int w = 0; w < o.jobs; ++w)
    workers.emplace_back(run_worker, std::cref(o), w, std::ref(totals));
  for (auto& t : workers)
    t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  for (const auto& note : totals.h5py_notes)
    std::printf("h5py note: %s\n", note.c_str());
  std::string by_codec;
  for (const auto& [codec, n] : totals.failures_by_codec) {
    by_codec += (by_codec.empty() ? " (" : ", ") + codec + ": " + std::to_string(n);
  }
  if (!by_codec.empty()) by_codec += ")";
  for (const auto& [kind, n] : totals.failures_by_kind) {
    std::printf("crash-test: %d trials failed with: %s\n", n, kind.c_str());
  }
  if (o.h5py) {
    std::printf(
        "crash-test: h5py (a report, not checked): %d files read, %d skipped (filter not available "
        "to h5py), %d errors; %d clean, %d damaged only in the unfinished last block, %d damaged "
        "in "
        "full chunks (%" PRId64 " rows damaged, %" PRId64 " of them in full chunks)\n",
        totals.h5py_checked - totals.h5py_no_filter - totals.h5py_errors, totals.h5py_no_filter,
        totals.h5py_errors, totals.h5py_clean, totals.h5py_tail_only, totals.h5py_full_damage,
        totals.h5py_damaged_rows, totals.h5py_damaged_full_rows);
  }
  std::printf(
      "crash-test: %d trials (%d fresh, %d reopened, %d of those rewrote the last row first, %d "
      "flushing, %d killed near the first append), %d kills mid-append (%d committed the append in "
      "flight), %d mid-rewrite, %d "
      "mid-flush, %d between appends, "
      "%d before the writer was ready (%d left no file, %d an unopenable one), %" PRId64
      " acknowledged appends, %" PRId64 " rows checked, %d failures%s, %.1f s\n",
      totals.trials, totals.fresh, totals.reopened, totals.rewrites, totals.flushing,
      totals.near_first_append, totals.mid_append, totals.mid_append_committed, totals.mid_rewrite,
      totals.mid_flush, totals.between_appends, totals.before_ready, totals.create_phase_no_file,
      totals.create_phase_unopenable, totals.appends_acked, totals.rows_checked, totals.failures,
      by_codec.c_str(), seconds);
  if (totals.failures == 0 && !o.keep) {
    std::error_code ec;
    fs::remove_all(o.dir, ec);
  } else {
    std::printf("crash-test: files kept in %s\n", o.dir.c_str());
  }
  return totals.failures == 0 ? 0 : 1;
}
