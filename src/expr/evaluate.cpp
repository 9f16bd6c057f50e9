// The evaluation loop: columns read in large chunk-aligned row ranges on
// the calling thread, the program run over blocks of rows on the pool.
#include "larder/expr/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <future>
#include <memory>

#include "bind.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/core/parallel.h"
#include "program.h"

namespace larder::expr {
namespace {

using detail::Bound;
using detail::Ty;

enum class Mode { values, count, select, flow, checksums };

// Rows per read: about a million (fewer when jagged records are read, whose
// items outnumber the rows), a whole number of the first chunked column's
// chunks. Columns that are not chunked (mmap arrays, contiguous HDF5) are
// read 4M rows at a time: an mmap read is a view, and every range ends in
// a barrier of the pool that a preempted worker delays.
std::int64_t rows_per_read(const Bound& bound, const EvaluateOptions& options) {
  const bool chunked = std::any_of(bound.dense.begin(), bound.dense.end(),
                                   [](const auto& c) { return !c.dataset->chunks().empty(); });
  std::int64_t rows = options.rows_per_read > 0 ? options.rows_per_read
                      : !bound.ragged.empty()   ? std::int64_t{1} << 16
                      : chunked                 ? std::int64_t{1} << 20
                                                : std::int64_t{1} << 22;
  if (options.rows_per_read <= 0 && !chunked) {
    // At most 128 MiB of values per range (two ranges are in memory at once).
    std::int64_t row_bytes = 0;
    for (const detail::Column& c : bound.dense) {
      row_bytes += static_cast<std::int64_t>(c.dtype.item_size());
    }
    rows = std::min(rows, std::max<std::int64_t>(
                              std::int64_t{1} << 20,
                              (std::int64_t{128} << 20) / std::max<std::int64_t>(row_bytes, 1)));
  }
  for (const detail::Column& c : bound.dense) {
    const std::vector<std::int64_t> chunks = c.dataset->chunks();
    if (!chunks.empty() && chunks[0] > 0) {
      rows = (rows + chunks[0] - 1) / chunks[0] * chunks[0];
      break;
    }
  }
  return std::max<std::int64_t>(rows, 1);
}

struct Checksums {
  std::vector<Hasher64> dense;
  std::vector<Hasher64> values;
  std::vector<Hasher64> lengths;
};

class Evaluation {
 public:
  Evaluation(Bound& bound, const EvaluateOptions& options, Mode mode, bool hash)
      : bound_(bound), options_(options), mode_(mode), hash_(hash) {
    if (bound_.rows < 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("expression '{}' reads no column: there are no rows to evaluate it "
                              "on",
                              bound_.text));
    }
    if (mode_ == Mode::count || mode_ == Mode::select || mode_ == Mode::flow) {
      for (std::size_t i = 0; i < bound_.root_types.size(); ++i) {
        if (bound_.root_types[i] != Ty::b) {
          throw Error(ErrorCode::type_mismatch,
                      fmt::format("expression '{}' gives {} values, not a condition: compare it "
                                  "(e.g. x > 0) to select rows",
                                  bound_.text, detail::name_of(bound_.root_types[i])));
        }
      }
    }
    counts_.assign(bound_.roots.size(), 0);
    if (mode_ == Mode::values) {
      values_ = Array::empty(detail::dtype_of(bound_.root_types[0]), Shape{bound_.rows});
    }
    if (hash_) {
      for (std::size_t i = 0; i < bound_.dense.size(); ++i)
        sums_.dense.emplace_back();
      for (std::size_t i = 0; i < bound_.ragged.size(); ++i) {
        sums_.values.emplace_back();
        sums_.lengths.emplace_back();
      }
    }
  }

  // Reads range k+1 on a second thread while range k is evaluated on the
  // pool: only that thread touches the columns while it runs (one thread
  // at a time per Dataset), and the ranges are read in order (the checksums
  // stream).
  void run() {
    const std::int64_t total = bound_.rows;
    const std::int64_t step = rows_per_read(bound_, options_);
    if (total == 0) return;
    const auto read_range = [this, total, step](std::int64_t c0) {
      return read(c0, std::min(total, c0 + step));
    };
    std::future<std::unique_ptr<Loaded>> next =
        std::async(std::launch::async, read_range, std::int64_t{0});
    for (std::int64_t c0 = 0; c0 < total; c0 += step) {
      std::unique_ptr<Loaded> loaded = next.get();
      if (c0 + step < total) next = std::async(std::launch::async, read_range, c0 + step);
      if (mode_ != Mode::checksums) compute(*loaded, c0, std::min(total, c0 + step));
    }
  }

  Array take_values() { return std::move(values_); }
  // The ids, without copying them: the array owns the vector.
  Array take_ids() {
    if (ids_.empty()) return Array::empty(DType::int64(), Shape{0});
    auto owner = std::make_shared<std::vector<std::int64_t>>(std::move(ids_));
    const auto size = static_cast<std::int64_t>(owner->size());
    std::shared_ptr<std::byte> data(owner, reinterpret_cast<std::byte*>(owner->data()));
    return Array::adopt(DType::int64(), Shape{size}, std::move(data));
  }
  const std::vector<std::int64_t>& counts() const { return counts_; }

  std::vector<ColumnChecksum> checksums() const {
    std::vector<ColumnChecksum> out;
    for (std::size_t i = 0; i < bound_.dense.size(); ++i) {
      out.push_back({bound_.dense[i].path, hex64(sums_.dense[i].digest64())});
    }
    for (std::size_t i = 0; i < bound_.ragged.size(); ++i) {
      out.push_back({bound_.ragged[i].path,
                     hex64(sums_.values[i].digest64()) + hex64(sums_.lengths[i].digest64())});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    return out;
  }

 private:
  // One range of rows of every column, in memory.
  struct Loaded {
    detail::BlockData data;
    std::vector<Array> raw;
    std::vector<Array> packed;  // native byte order; may borrow raw's memory
    std::vector<ragged::Records> records;
  };

  std::unique_ptr<Loaded> read(std::int64_t c0, std::int64_t c1) {
    auto loaded = std::make_unique<Loaded>();
    detail::BlockData& data = loaded->data;
    std::vector<Array>& raw = loaded->raw;
    std::vector<Array>& packed = loaded->packed;
    std::vector<ragged::Records>& records = loaded->records;
    raw.reserve(bound_.dense.size());
    packed.reserve(bound_.dense.size() + bound_.ragged.size());
    records.reserve(bound_.ragged.size());
    data.chunk_begin = c0;
    for (std::size_t i = 0; i < bound_.dense.size(); ++i) {
      const detail::Column& c = bound_.dense[i];
      raw.push_back(c.dataset->read(Selection{AxisSelection::slice(c0, c1)}));
      packed.push_back(packed_as(raw.back().view(), c.dtype));
      data.dense.push_back(packed.back().data());
      if (hash_) sums_.dense[i].update(packed.back().bytes());
    }
    for (std::size_t i = 0; i < bound_.ragged.size(); ++i) {
      detail::Column& c = bound_.ragged[i];
      records.push_back(c.ragged->read(c0, c1));
      const ragged::Records& r = records.back();
      packed.push_back(packed_as(r.values.view(), c.dtype));
      data.ragged.push_back({packed.back().data(), r.offsets.data()});
      data.ragged_paths.push_back(c.path);
      if (hash_) {
        sums_.values[i].update(packed.back().bytes());
        std::vector<std::int64_t> lengths(r.offsets.size() - 1);
        for (std::size_t k = 0; k + 1 < r.offsets.size(); ++k) {
          lengths[k] = r.offsets[k + 1] - r.offsets[k];
        }
        sums_.lengths[i].update(std::as_bytes(std::span<const std::int64_t>(lengths)));
      }
    }
    return loaded;
  }

  void compute(const Loaded& loaded, std::int64_t c0, std::int64_t c1) {
    const detail::BlockData& data = loaded.data;
    const std::int64_t n = c1 - c0;
    const std::int64_t blocks = (n + detail::block_rows - 1) / detail::block_rows;
    std::vector<std::uint8_t> chunk_mask;
    std::vector<std::int64_t> block_counts;  // select: rows passing, per block
    if (mode_ == Mode::select) {
      chunk_mask.resize(static_cast<std::size_t>(n));
      block_counts.resize(static_cast<std::size_t>(blocks));
    }
    std::vector<std::atomic<std::int64_t>> counts(bound_.roots.size());
    parallel_for(blocks, 8, [&](std::int64_t b0, std::int64_t b1) {
      detail::Scratch scratch(bound_.program);
      std::vector<std::int64_t> local(bound_.roots.size(), 0);
      std::vector<std::uint8_t> running;
      detail::Frame frame = scratch.frame(data, 0);
      for (std::int64_t b = b0; b < b1; ++b) {
        const std::int64_t begin = b * detail::block_rows;
        const std::int64_t m = std::min(detail::block_rows, n - begin);
        frame.begin = begin;
        detail::run(bound_.program, frame, m);
        emit(frame, begin, m, c0, local, running, chunk_mask);
        if (mode_ == Mode::select) {
          block_counts[static_cast<std::size_t>(b)] =
              count_true(chunk_mask.data() + begin, false, m);
        }
      }
      for (std::size_t i = 0; i < local.size(); ++i)
        counts[i] += local[i];
    });
    for (std::size_t i = 0; i < counts.size(); ++i)
      counts_[i] += counts[i].load();
    if (mode_ == Mode::select) append_ids(chunk_mask, block_counts, c0);
  }

  // Appends the rows of the range whose mask byte is set, in order: each
  // block writes its ids at its place, found from the blocks' counts, on
  // the pool. (A loop pushing ids one by one took 80 of the 100 ms of a cut
  // over 10M rows.)
  void append_ids(const std::vector<std::uint8_t>& mask, const std::vector<std::int64_t>& counts,
                  std::int64_t c0) {
    const auto blocks = static_cast<std::int64_t>(counts.size());
    std::vector<std::int64_t> at(counts.size() + 1, static_cast<std::int64_t>(ids_.size()));
    for (std::size_t b = 0; b < counts.size(); ++b)
      at[b + 1] = at[b] + counts[b];
    ids_.resize(static_cast<std::size_t>(at.back()));
    const auto n = static_cast<std::int64_t>(mask.size());
    parallel_for(blocks, 8, [&](std::int64_t b0, std::int64_t b1) {
      // Written without a branch per row into a buffer with room for every
      // row of a block, then copied to the block's place.
      std::vector<std::int64_t> found(static_cast<std::size_t>(detail::block_rows));
      for (std::int64_t b = b0; b < b1; ++b) {
        const std::int64_t begin = b * detail::block_rows;
        const std::int64_t m = std::min(detail::block_rows, n - begin);
        const std::uint8_t* v = mask.data() + begin;
        std::int64_t k = 0;
        for (std::int64_t i = 0; i < m; ++i) {
          found[static_cast<std::size_t>(k)] = c0 + begin + i;
          k += v[i] != 0;
        }
        std::copy_n(found.begin(), k, ids_.begin() + at[static_cast<std::size_t>(b)]);
      }
    });
  }

  // The root's elements for the block (a scalar root: its one value, stride 0).
  std::pair<const std::byte*, bool> root(std::size_t i, const detail::Frame& frame) const {
    const detail::Source& s = bound_.roots[i];
    return {detail::resolve(s, frame, bound_.root_types[i]), s.kind == detail::Source::scalar};
  }

  // Nonzero bytes among v[0, m): eight at a time, each byte turned into 1
  // when it is nonzero, and the eight summed by one multiplication.
  static std::int64_t count_true(const std::uint8_t* v, bool scalar, std::int64_t m) {
    if (scalar) return v[0] ? m : 0;
    constexpr std::uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
    std::int64_t c = 0;
    std::int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, v + i, 8);
      const std::uint64_t high = (((w & low7) + low7) | w) & ~low7;  // 0x80 per nonzero byte
      c += static_cast<std::int64_t>(((high >> 7) * 0x0101010101010101ULL) >> 56);
    }
    for (; i < m; ++i)
      c += v[i] != 0;
    return c;
  }

  void emit(const detail::Frame& frame, std::int64_t begin, std::int64_t m, std::int64_t c0,
            std::vector<std::int64_t>& local, std::vector<std::uint8_t>& running,
            std::vector<std::uint8_t>& chunk_mask) {
    switch (mode_) {
      case Mode::values: {
        const auto [p, scalar] = root(0, frame);
        const std::size_t size = detail::size_of(bound_.root_types[0]);
        std::byte* out = values_.data() + static_cast<std::size_t>(c0 + begin) * size;
        if (!scalar) {
          std::memcpy(out, p, static_cast<std::size_t>(m) * size);
        } else {
          for (std::int64_t i = 0; i < m; ++i)
            std::memcpy(out + i * static_cast<std::int64_t>(size), p, size);
        }
        return;
      }
      case Mode::count: {
        const auto [p, scalar] = root(0, frame);
        local[0] += count_true(reinterpret_cast<const std::uint8_t*>(p), scalar, m);
        return;
      }
      case Mode::select: {
        const auto [p, scalar] = root(0, frame);
        std::uint8_t* out = chunk_mask.data() + begin;
        if (scalar) {
          std::memset(out, *reinterpret_cast<const std::uint8_t*>(p), static_cast<std::size_t>(m));
        } else {
          std::memcpy(out, p, static_cast<std::size_t>(m));
        }
        return;
      }
      case Mode::flow: {
        running.assign(static_cast<std::size_t>(m), 1);
        for (std::size_t r = 0; r < bound_.roots.size(); ++r) {
          const auto [p, scalar] = root(r, frame);
          const auto* v = reinterpret_cast<const std::uint8_t*>(p);
          std::int64_t c = 0;
          for (std::int64_t i = 0; i < m; ++i) {
            running[static_cast<std::size_t>(i)] &= v[scalar ? 0 : i];
            c += running[static_cast<std::size_t>(i)];
          }
          local[r] += c;
        }
        return;
      }
      case Mode::checksums:
        return;
    }
  }

  Bound& bound_;
  const EvaluateOptions& options_;
  Mode mode_;
  bool hash_;
  Checksums sums_;
  Array values_ = Array::empty(DType::boolean(), Shape{0});
  std::vector<std::int64_t> ids_;
  std::vector<std::int64_t> counts_;
};

Bound bind_one(store::Group& group, const Expression& expression, const EvaluateOptions& options) {
  return detail::bind(group, {&expression}, options.constants);
}

}  // namespace

Array evaluate(store::Group& group, const Expression& expression, const EvaluateOptions& options) {
  Bound bound = bind_one(group, expression, options);
  Evaluation e(bound, options, Mode::values, false);
  e.run();
  return e.take_values();
}

Array select(store::Group& group, const Expression& expression, const EvaluateOptions& options) {
  Bound bound = bind_one(group, expression, options);
  Evaluation e(bound, options, Mode::select, false);
  e.run();
  return e.take_ids();
}

Array select_with_checksums(store::Group& group, const Expression& expression,
                            const EvaluateOptions& options,
                            std::vector<ColumnChecksum>& checksums) {
  Bound bound = bind_one(group, expression, options);
  Evaluation e(bound, options, Mode::select, true);
  e.run();
  checksums = e.checksums();
  return e.take_ids();
}

std::vector<ColumnChecksum> checksums_of(store::Group& group, const Expression& expression,
                                         const EvaluateOptions& options) {
  Bound bound = bind_one(group, expression, options);
  Evaluation e(bound, options, Mode::checksums, true);
  e.run();
  return e.checksums();
}

std::int64_t count(store::Group& group, const Expression& expression,
                   const EvaluateOptions& options) {
  Bound bound = bind_one(group, expression, options);
  Evaluation e(bound, options, Mode::count, false);
  e.run();
  return e.counts()[0];
}

std::vector<std::int64_t> count_flow(store::Group& group, const std::vector<Expression>& cuts,
                                     const EvaluateOptions& options) {
  if (cuts.empty()) return {};
  std::vector<const Expression*> list;
  for (const Expression& c : cuts)
    list.push_back(&c);
  Bound bound = detail::bind(group, list, options.constants);
  Evaluation e(bound, options, Mode::flow, false);
  e.run();
  return e.counts();
}

std::vector<std::string> columns_of(store::Group& group, const Expression& expression,
                                    const EvaluateOptions& options) {
  Bound bound = bind_one(group, expression, options);
  std::vector<std::string> out;
  for (const auto& c : bound.dense)
    out.push_back(c.path);
  for (const auto& c : bound.ragged)
    out.push_back(c.path);
  std::sort(out.begin(), out.end());
  return out;
}

std::int64_t rows_of(store::Group& group, const Expression& expression,
                     const EvaluateOptions& options) {
  Bound bound = bind_one(group, expression, options);
  return std::max<std::int64_t>(bound.rows, 0);
}

}  // namespace larder::expr
