#include "larder/loader/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "larder/core/error.h"
#include "larder/store/element_json.h"

namespace larder::loader {

using ColumnSource = decltype(Column::source);

namespace {

std::int64_t column_rows(const ColumnSource& source) {
  return std::visit(
      [](const auto& s) -> std::int64_t {
        using T = std::decay_t<decltype(s)>;
        if (!s) throw Error(ErrorCode::invalid_argument, "a column has no source (null)");
        if constexpr (std::is_same_v<T, std::shared_ptr<ragged::Ragged>>) {
          return s->size();
        } else {
          if (s->shape().rank() == 0) {
            throw Error(ErrorCode::invalid_argument, "a column is a scalar; columns need rows");
          }
          return s->shape()[0];
        }
      },
      source);
}

std::size_t row_bytes(const Array& a) {
  return a.shape().rank() == 0 ? 0 : a.nbytes() / static_cast<std::size_t>(a.shape()[0]);
}

Shape with_rows(const Shape& shape, std::int64_t rows) {
  std::vector<std::int64_t> dims(shape.begin(), shape.end());
  dims[0] = rows;
  return Shape(std::move(dims));
}

// Rows `local` of `source` (already checked) into a new C-ordered array.
Array take_rows(const Array& source, std::span<const std::int64_t> local) {
  Array out = Array::empty(source.dtype(),
                           with_rows(source.shape(), static_cast<std::int64_t>(local.size())));
  const std::size_t bytes = row_bytes(source);
  for (std::size_t i = 0; i < local.size(); ++i) {
    std::memcpy(out.data() + i * bytes, source.data() + static_cast<std::size_t>(local[i]) * bytes,
                bytes);
  }
  return out;
}

// A Ragged object is used by one thread at a time (its offsets cache), and
// loaders may share one (split_loaders does): ragged columns are locked
// across every loader in the process, keyed by file and path (striped: two
// columns that share a stripe are only serialized, never wrong). Datasets
// serialize their own calls (store/dataset.h) and arrays are only read, so
// they need no lock.
std::mutex* column_lock(const ColumnSource& source) {
  const auto* r = std::get_if<std::shared_ptr<ragged::Ragged>>(&source);
  if (!r) return nullptr;
  static std::array<std::mutex, 64> locks;
  const std::string key = (*r)->file() + ":" + (*r)->path();
  return &locks[std::hash<std::string>{}(key) % locks.size()];
}

}  // namespace

struct Loader::State {
  std::vector<Column> columns;
  std::vector<std::mutex*> column_locks;  // per column (see column_lock), null but for ragged
  std::vector<std::optional<Pad>> pads;
  std::vector<std::vector<std::byte>> fills;  // a pad's fill element per padded column
  LoaderOptions options;
  std::optional<Sampler> sampler;
  std::int64_t rows = 0;
  std::uint64_t epoch = 0;

  std::int64_t batches() const {
    const std::int64_t n = sampler->size();
    const std::int64_t b = options.batch_size;
    return options.drop_last ? n / b : (n + b - 1) / b;
  }

  bool is_dataset(std::size_t c) const {
    return std::holds_alternative<std::shared_ptr<store::Dataset>>(columns[c].source);
  }

  // Column c's fields for `rows`, read from the column itself.
  void read_column(std::size_t c, std::span<const std::int64_t> ids, std::vector<Field>& out) {
    const Column& column = columns[c];
    if (const auto* array = std::get_if<std::shared_ptr<const Array>>(&column.source)) {
      out.push_back({column.name, take_rows(**array, ids)});
      return;
    }
    if (const auto* ds = std::get_if<std::shared_ptr<store::Dataset>>(&column.source)) {
      out.push_back({column.name, (*ds)->gather(ids)});
      return;
    }
    std::lock_guard lock(*column_locks[c]);
    auto& records_source = *std::get<std::shared_ptr<ragged::Ragged>>(column.source);
    ragged::Records records = records_source.gather(ids);
    if (pads[c]) {
      out.push_back({column.name, padded(c, records_source, records, ids)});
      return;
    }
    Array offsets = Array::from_values<std::int64_t>(records.offsets);
    out.push_back({column.name, std::move(records.values)});
    out.push_back({column.name + "_offsets", std::move(offsets)});
  }

  // The records padded to the column's width; a record longer than it is
  // an error unless clipping is on.
  Array padded(std::size_t c, const ragged::Ragged& source, const ragged::Records& records,
               std::span<const std::int64_t> ids) const {
    const Pad& pad = *pads[c];
    for (std::int64_t i = 0; i < records.size() && !options.clip; ++i) {
      const auto at = static_cast<std::size_t>(i);
      const std::int64_t length = records.offsets[at + 1] - records.offsets[at];
      if (length > pad.width) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("column '{}': record {} has {} items, more than the pad width {} "
                                "(pass clip to cut such records)",
                                columns[c].name, ids[at], length, pad.width),
                    source.file(), source.path());
      }
    }
    return ragged::pad_records(records, source.inner_shape(), pad.width, fills[c]);
  }

  Batch read_batch(std::span<const std::int64_t> ids) {
    Batch batch;
    for (std::size_t c = 0; c < columns.size(); ++c)
      read_column(c, ids, batch.fields);
    batch.index = Array::from_values<std::int64_t>(ids);
    return batch;
  }
};

// Rows a full shuffle gathers at once per dataset column (whole batches).
constexpr std::int64_t kGatherRows = 2048;

// A window of a block shuffle: per dataset column, its rows read once, in
// the order EpochOrder::local indexes.
struct Window {
  std::mutex lock;
  bool loaded = false;
  std::vector<std::int64_t> rows;
  std::vector<std::optional<Array>> columns;
  std::int64_t users = 0;  // batches that still need it
};

struct Epoch::Impl {
  std::shared_ptr<Loader::State> state;
  std::uint64_t number = 0;
  EpochOrder order;
  std::int64_t batches = 0;
  bool windowed = false;
  // Batches read by one gather per dataset column (see start()).
  std::int64_t group = 1;

  std::mutex lock;
  std::condition_variable produced;
  std::condition_variable consumed_one;
  std::int64_t next_claim = 0;
  std::int64_t next_out = 0;
  std::map<std::int64_t, Batch> ready;
  std::exception_ptr error;
  std::int64_t error_batch = 0;
  bool stop = false;
  std::map<std::int64_t, std::shared_ptr<Window>> windows;
  std::vector<std::thread> threads;

  std::int64_t ahead() const {
    return std::max<std::int64_t>({state->options.prefetch, state->options.threads, group});
  }

  // Batches [k, k + count) (not windowed): one gather of all their rows per
  // dataset column — each chunk a scattered order touches is visited once
  // per group instead of once per batch — cut into the batches; other
  // columns are read batch by batch. The batches are the same as read one
  // by one.
  std::vector<Batch> build_group(std::int64_t k, std::int64_t count) {
    std::vector<Batch> out(static_cast<std::size_t>(count));
    if (count == 1) {
      out[0] = state->read_batch(batch_ids(k));
      out[0].number = k;
      return out;
    }
    const std::int64_t b = state->options.batch_size;
    const auto begin = static_cast<std::size_t>(k * b);
    const std::size_t end = std::min(static_cast<std::size_t>((k + count) * b), order.rows.size());
    const std::span<const std::int64_t> all =
        std::span<const std::int64_t>(order.rows).subspan(begin, end - begin);
    for (std::int64_t j = 0; j < count; ++j)
      out[static_cast<std::size_t>(j)].number = k + j;
    for (std::size_t c = 0; c < state->columns.size(); ++c) {
      if (!state->is_dataset(c)) {
        for (std::int64_t j = 0; j < count; ++j)
          state->read_column(c, batch_ids(k + j), out[static_cast<std::size_t>(j)].fields);
        continue;
      }
      const Array rows =
          std::get<std::shared_ptr<store::Dataset>>(state->columns[c].source)->gather(all);
      const std::size_t bytes = row_bytes(rows);
      for (std::int64_t j = 0; j < count; ++j) {
        const auto n = static_cast<std::int64_t>(batch_ids(k + j).size());
        Array part = Array::empty(rows.dtype(), with_rows(rows.shape(), n));
        std::memcpy(part.data(), rows.data() + static_cast<std::size_t>(j * b) * bytes,
                    static_cast<std::size_t>(n) * bytes);
        out[static_cast<std::size_t>(j)].fields.push_back(
            {state->columns[c].name, std::move(part)});
      }
    }
    for (std::int64_t j = 0; j < count; ++j)
      out[static_cast<std::size_t>(j)].index = Array::from_values<std::int64_t>(batch_ids(k + j));
    return out;
  }

  std::span<const std::int64_t> batch_ids(std::int64_t k) const {
    const std::int64_t b = state->options.batch_size;
    const std::int64_t begin = k * b;
    const std::int64_t end =
        std::min<std::int64_t>(begin + b, static_cast<std::int64_t>(order.rows.size()));
    return std::span<const std::int64_t>(order.rows)
        .subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin));
  }

  std::pair<std::int64_t, std::int64_t> window_range(std::size_t w) const {
    const std::int64_t end = w + 1 < order.windows.size()
                                 ? order.windows[w + 1]
                                 : static_cast<std::int64_t>(order.rows.size());
    return {order.windows[w], end};
  }

  // The window w, shared; made (not yet loaded) by its first user.
  std::shared_ptr<Window> window(std::size_t w) {
    std::lock_guard guard(lock);
    auto& slot = windows[static_cast<std::int64_t>(w)];
    if (!slot) {
      slot = std::make_shared<Window>();
      const auto [begin, end] = window_range(w);
      const std::int64_t b = state->options.batch_size;
      const std::int64_t first = begin / b;
      const std::int64_t last = std::min((end - 1) / b, batches - 1);
      slot->users = last - first + 1;
    }
    return slot;
  }

  void release(std::size_t w) {
    std::lock_guard guard(lock);
    auto it = windows.find(static_cast<std::int64_t>(w));
    if (it != windows.end() && --it->second->users <= 0) windows.erase(it);
  }

  void load(std::size_t w, Window& window) {
    std::lock_guard guard(window.lock);
    if (window.loaded) return;
    const auto [begin, end] = window_range(w);
    // The window's rows as stored (ascending for all rows or a sorted
    // subset): each chunk is read once.
    window.rows.resize(static_cast<std::size_t>(end - begin));
    for (std::int64_t p = begin; p < end; ++p) {
      window.rows[static_cast<std::size_t>(order.local[static_cast<std::size_t>(p)])] =
          order.rows[static_cast<std::size_t>(p)];
    }
    window.columns.resize(state->columns.size());
    for (std::size_t c = 0; c < state->columns.size(); ++c) {
      if (!state->is_dataset(c)) continue;
      window.columns[c] =
          std::get<std::shared_ptr<store::Dataset>>(state->columns[c].source)->gather(window.rows);
    }
    window.rows = {};
    window.loaded = true;
  }

  // Batch k of a block shuffle: dataset columns come from the windows the
  // batch spans; the others are read directly.
  Batch build_windowed(std::int64_t k) {
    const std::span<const std::int64_t> ids = batch_ids(k);
    const std::int64_t b = state->options.batch_size;
    const std::int64_t begin = k * b;
    const std::int64_t end = begin + static_cast<std::int64_t>(ids.size());
    auto first = static_cast<std::size_t>(
        std::upper_bound(order.windows.begin(), order.windows.end(), begin) -
        order.windows.begin() - 1);
    std::vector<std::pair<std::size_t, std::shared_ptr<Window>>> spanned;
    for (std::size_t w = first; w < order.windows.size() && order.windows[w] < end; ++w)
      spanned.emplace_back(w, window(w));
    struct Releaser {
      Impl* impl;
      std::vector<std::pair<std::size_t, std::shared_ptr<Window>>>* spanned;
      ~Releaser() {
        for (const auto& [w, _] : *spanned)
          impl->release(w);
      }
    } releaser{this, &spanned};

    std::vector<std::pair<std::int64_t, std::int64_t>> parts;  // positions per spanned window
    for (auto& [w, win] : spanned) {
      load(w, *win);
      const auto [wbegin, wend] = window_range(w);
      parts.emplace_back(std::max(begin, wbegin), std::min(end, wend));
    }
    Batch batch;
    batch.number = k;
    for (std::size_t c = 0; c < state->columns.size(); ++c) {
      if (!state->is_dataset(c)) {
        state->read_column(c, ids, batch.fields);
        continue;
      }
      const Array& shape_from = *spanned.front().second->columns[c];
      Array out = Array::empty(
          shape_from.dtype(), with_rows(shape_from.shape(), static_cast<std::int64_t>(ids.size())));
      const std::size_t bytes = row_bytes(shape_from);
      std::byte* at = out.data();
      for (std::size_t s = 0; s < spanned.size(); ++s) {
        const std::byte* source = spanned[s].second->columns[c]->data();
        for (std::int64_t p = parts[s].first; p < parts[s].second; ++p, at += bytes) {
          const auto l = static_cast<std::size_t>(order.local[static_cast<std::size_t>(p)]);
          std::memcpy(at, source + l * bytes, bytes);
        }
      }
      batch.fields.push_back({state->columns[c].name, std::move(out)});
    }
    batch.index = Array::from_values<std::int64_t>(ids);
    return batch;
  }

  void produce() {
    for (;;) {
      std::int64_t k = 0;
      std::int64_t count = 1;
      {
        std::unique_lock guard(lock);
        consumed_one.wait(guard, [&] {
          return stop || next_claim >= batches || next_claim < next_out + ahead();
        });
        if (stop || next_claim >= batches) return;
        k = next_claim;
        count = windowed ? 1 : std::min(group, batches - k);
        next_claim += count;
      }
      try {
        std::vector<Batch> built;
        if (windowed) {
          built.push_back(build_windowed(k));
        } else {
          built = build_group(k, count);
        }
        std::lock_guard guard(lock);
        for (std::int64_t j = 0; j < count; ++j)
          ready.emplace(k + j, std::move(built[static_cast<std::size_t>(j)]));
      } catch (...) {
        std::lock_guard guard(lock);
        if (!error || k < error_batch) {
          error = std::current_exception();
          error_batch = k;
        }
      }
      produced.notify_all();
    }
  }

  void shutdown() {
    {
      std::lock_guard guard(lock);
      stop = true;
    }
    consumed_one.notify_all();
    for (auto& t : threads)
      if (t.joinable()) t.join();
    threads.clear();
  }
};

const Array& Batch::operator[](const std::string& name) const {
  for (const Field& f : fields)
    if (f.name == name) return f.values;
  if (name == "_index") return index;
  throw Error(ErrorCode::not_found, fmt::format("batch has no field '{}'", name));
}

std::unique_ptr<Loader> Loader::create(std::vector<Column> columns, const LoaderOptions& options) {
  if (columns.empty())
    throw Error(ErrorCode::invalid_argument, "a loader needs at least one column");
  if (options.batch_size < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("batch size {} must be at least 1", options.batch_size));
  }
  if (options.prefetch < 1 || options.threads < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("prefetch {} and threads {} must be at least 1", options.prefetch,
                            options.threads));
  }
  auto state = std::make_shared<State>();
  std::set<std::string> names;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Column& column = columns[c];
    if (!names.insert(column.name).second) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("two columns are named '{}'", column.name));
    }
    const std::int64_t n = column_rows(column.source);
    if (c == 0) {
      state->rows = n;
    } else if (n != state->rows) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("column '{}' has {} rows but column '{}' has {}", column.name, n,
                              columns[0].name, state->rows));
    }
  }
  for (const auto& [name, pad] : options.pad) {
    if (!names.contains(name)) {
      throw Error(ErrorCode::not_found,
                  fmt::format("pad names column '{}', which the loader lacks", name));
    }
  }
  state->pads.resize(columns.size());
  state->fills.resize(columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    auto it = options.pad.find(columns[c].name);
    if (it == options.pad.end()) continue;
    const auto* ragged = std::get_if<std::shared_ptr<ragged::Ragged>>(&columns[c].source);
    if (!ragged || (*ragged)->shaped()) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("pad for column '{}', which holds no jagged records", columns[c].name));
    }
    if (it->second.width < 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("pad width {} for column '{}' is negative", it->second.width,
                              columns[c].name));
    }
    state->pads[c] = it->second;
    try {
      state->fills[c] = store::element_from_json((*ragged)->dtype().native(), it->second.fill);
    } catch (const Error& e) {
      throw Error(e.code(),
                  fmt::format("pad fill for column '{}': {}", columns[c].name, e.message()));
    }
  }
  state->options = options;
  SamplerOptions sampler = options.sampler;
  if (sampler.block_size == 0) {
    sampler.block_size = 4096;
    for (const Column& column : columns) {
      if (const auto* ds = std::get_if<std::shared_ptr<store::Dataset>>(&column.source)) {
        const auto chunks = (*ds)->chunks();
        if (!chunks.empty() && chunks[0] > 0) {
          sampler.block_size = chunks[0];
          break;
        }
      }
    }
  }
  state->options.sampler = sampler;
  if (options.subset) {
    for (std::size_t i = 0; i < options.subset->size(); ++i) {
      const std::int64_t id = (*options.subset)[i];
      if (id >= state->rows) {
        throw Error(ErrorCode::out_of_range,
                    fmt::format("subset row id {} (at position {}) is past the end of {} rows", id,
                                i, state->rows));
      }
    }
    state->sampler = Sampler::over_subset(*options.subset, sampler);
  } else {
    state->sampler = Sampler::over(state->rows, sampler);
  }
  state->columns = std::move(columns);
  for (const Column& column : state->columns)
    state->column_locks.push_back(column_lock(column.source));
  return std::unique_ptr<Loader>(new Loader(std::move(state)));
}

Loader::Loader(std::shared_ptr<State> state) : state_(std::move(state)) {}
Loader::~Loader() = default;

const LoaderOptions& Loader::options() const noexcept {
  return state_->options;
}
const Sampler& Loader::sampler() const noexcept {
  return *state_->sampler;
}
std::int64_t Loader::rows() const noexcept {
  return state_->rows;
}
std::int64_t Loader::size() const noexcept {
  return state_->batches();
}
std::uint64_t Loader::epoch() const noexcept {
  return state_->epoch;
}
void Loader::set_epoch(std::uint64_t epoch) noexcept {
  state_->epoch = epoch;
}

Batch Loader::read(std::span<const std::int64_t> rows) {
  for (const std::int64_t id : rows) {
    if (id < 0 || id >= state_->rows) {
      throw Error(ErrorCode::out_of_range,
                  fmt::format("row id {} is outside [0, {})", id, state_->rows));
    }
  }
  return state_->read_batch(rows);
}

std::unique_ptr<Epoch> Loader::start() {
  auto impl = std::make_unique<Epoch::Impl>();
  impl->state = state_;
  impl->number = state_->epoch++;
  impl->order = state_->sampler->epoch(impl->number);
  impl->batches = state_->batches();
  bool any_dataset = false;
  for (std::size_t c = 0; c < state_->columns.size(); ++c)
    any_dataset = any_dataset || state_->is_dataset(c);
  impl->windowed = !impl->order.windows.empty() && any_dataset;
  // Gathering several batches at once pays on chunked storage read in a
  // scattered order (a full shuffle); it changes nothing in the batches.
  if (!impl->windowed && any_dataset && state_->options.sampler.shuffle == Shuffle::full) {
    impl->group = std::max<std::int64_t>(1, kGatherRows / state_->options.batch_size);
  }
  const int threads = static_cast<int>(
      std::min<std::int64_t>(state_->options.threads, std::max<std::int64_t>(impl->batches, 1)));
  Epoch::Impl* raw = impl.get();
  try {
    for (int t = 0; t < threads; ++t)
      impl->threads.emplace_back([raw] { raw->produce(); });
  } catch (...) {
    impl->shutdown();
    throw;
  }
  return std::make_unique<Epoch>(std::move(impl));
}

Epoch::Epoch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Epoch::~Epoch() {
  impl_->shutdown();
}

std::int64_t Epoch::size() const noexcept {
  return impl_->batches;
}
std::uint64_t Epoch::number() const noexcept {
  return impl_->number;
}

std::optional<Batch> Epoch::next() {
  Impl& impl = *impl_;
  std::unique_lock guard(impl.lock);
  if (impl.next_out >= impl.batches || impl.stop) return std::nullopt;
  impl.produced.wait(guard, [&] {
    return impl.ready.contains(impl.next_out) || (impl.error && impl.error_batch <= impl.next_out);
  });
  auto it = impl.ready.find(impl.next_out);
  if (it == impl.ready.end()) {
    impl.stop = true;
    std::exception_ptr error = impl.error;
    guard.unlock();
    impl.consumed_one.notify_all();
    std::rethrow_exception(error);
  }
  Batch batch = std::move(it->second);
  impl.ready.erase(it);
  ++impl.next_out;
  guard.unlock();
  impl.consumed_one.notify_all();
  return batch;
}

std::vector<std::vector<std::int64_t>> split_rows(
    std::int64_t rows, const std::optional<std::vector<std::int64_t>>& subset,
    const std::vector<double>& fractions, std::uint64_t split_seed) {
  // Checked and rounded as a collection's split is (parts named by number).
  std::vector<std::string> names;
  for (std::size_t i = 0; i < fractions.size(); ++i)
    names.push_back(std::to_string(i));
  const collection::Split split = collection::Split::fractions(fractions, names);
  std::vector<std::int64_t> pool;
  if (subset) {
    pool = *subset;
    for (const std::int64_t id : pool) {
      if (id < 0 || id >= rows) {
        throw Error(ErrorCode::out_of_range,
                    fmt::format("subset row id {} is outside [0, {})", id, rows));
      }
    }
  } else {
    pool.resize(static_cast<std::size_t>(rows));
    for (std::int64_t i = 0; i < rows; ++i)
      pool[static_cast<std::size_t>(i)] = i;
  }
  const auto n = static_cast<std::int64_t>(pool.size());
  const std::vector<std::int64_t> order = permutation(n, split_seed, 0);
  std::vector<std::vector<std::int64_t>> parts;
  std::int64_t at = 0;
  for (const auto& [part_name, size] : split.plan(n)) {
    std::vector<std::int64_t> part;
    part.reserve(static_cast<std::size_t>(size));
    for (std::int64_t i = at; i < at + size; ++i)
      part.push_back(pool[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])]);
    std::sort(part.begin(), part.end());
    parts.push_back(std::move(part));
    at += size;
  }
  return parts;
}

std::vector<std::unique_ptr<Loader>> split_loaders(std::vector<Column> columns,
                                                   const std::vector<double>& fractions,
                                                   std::uint64_t split_seed,
                                                   const LoaderOptions& options) {
  if (columns.empty())
    throw Error(ErrorCode::invalid_argument, "a loader needs at least one column");
  const std::int64_t rows = column_rows(columns[0].source);
  std::vector<std::unique_ptr<Loader>> loaders;
  for (auto& part : split_rows(rows, options.subset, fractions, split_seed)) {
    LoaderOptions part_options = options;
    part_options.subset = std::move(part);
    loaders.push_back(Loader::create(columns, part_options));
  }
  return loaders;
}

}  // namespace larder::loader
