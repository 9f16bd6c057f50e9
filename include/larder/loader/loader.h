// Loader — batches of rows from named columns, in the order a Sampler gives,
// read ahead on background threads.
//
// Columns are stored datasets (any per-row shape), ragged arrays (padded to
// a fixed width, or as values + offsets) or in-memory arrays, all with the
// same number of rows. The loader shares ownership of its columns and uses
// each stored array from one thread at a time across all loaders (a lock
// per store and path: drivers may share one object per array); the caller
// must not use a column object itself while an epoch is being read. Batches come out in order, and
// their content depends only on the options, the seed and the epoch — never on the number of
// threads. A Loader is used by one thread at a time; an Epoch's background threads stop and join
// when it is destroyed.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "larder/collection/collection.h"
#include "larder/core/array.h"
#include "larder/loader/sampler.h"
#include "larder/ragged/ragged.h"
#include "larder/store/dataset.h"

namespace larder::loader {

struct Column {
  std::string name;
  std::variant<std::shared_ptr<store::Dataset>, std::shared_ptr<ragged::Ragged>,
               std::shared_ptr<const Array>>
      source;
};

// Ragged records as (batch, width, *inner_shape): shorter records are filled
// with `fill` (JSON: a number, NaN and infinities included; null for zeros).
struct Pad {
  std::int64_t width = 0;
  nlohmann::json fill = nullptr;
};

struct LoaderOptions {
  std::int64_t batch_size = 256;  // > 0
  // Shuffle, seed, sharding; for a block shuffle a block_size of 0 takes the
  // chunk rows of the first chunked dataset column (4096 when there is none).
  SamplerOptions sampler{.block_size = 0};
  // Rows to visit (e.g. a cut's), instead of all.
  std::optional<std::vector<std::int64_t>> subset{};
  bool drop_last = false;  // leave out a last, short batch
  std::map<std::string, Pad> pad{};
  // A record longer than its pad width is cut to it; otherwise that is an
  // Error(invalid_argument) naming the column, row and length.
  bool clip = false;
  int prefetch = 2;  // batches read ahead (>= 1)
  int threads = 1;   // background threads reading batches (>= 1)
};

// One named array of a batch. An unpadded ragged column gives two fields:
// `name` (the records' values back to back) and `name + "_offsets"`
// (int64, batch rows + 1, first 0).
struct Field {
  std::string name;
  Array values;
};

struct Batch {
  std::vector<Field> fields;
  Array index = Array::empty(DType::int64(), Shape{0});  // the row ids, in batch order
  std::int64_t number = 0;                               // 0-based within the epoch

  std::int64_t rows() const { return index.shape()[0]; }
  // The field named `name`; Error(not_found) naming it.
  const Array& operator[](const std::string& name) const;
};

class Epoch;

class Loader {
 public:
  // Error(invalid_argument) for no columns, two of one name, columns of
  // different lengths (naming both and their lengths), batch_size < 1,
  // prefetch or threads < 1, a pad for no column or for a column that is
  // not jagged-ragged, a subset id past the end; the sampler's errors.
  static std::unique_ptr<Loader> create(std::vector<Column> columns, const LoaderOptions& options);

  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  const LoaderOptions& options() const noexcept;
  const Sampler& sampler() const noexcept;
  std::int64_t rows() const noexcept;    // rows of every column
  std::int64_t size() const noexcept;    // batches per epoch for this rank
  std::uint64_t epoch() const noexcept;  // the epoch start() reads next
  void set_epoch(std::uint64_t epoch) noexcept;

  // Starts reading the current epoch in the background and moves the
  // current epoch on by one. The Epoch keeps the loader's columns alive.
  std::unique_ptr<Epoch> start();

  // One batch of the given rows, read in this thread (no prefetch).
  Batch read(std::span<const std::int64_t> rows);

  struct State;

 private:
  explicit Loader(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// One epoch being read. next() waits for the next batch in order; a failure
// in a background thread surfaces as that Error from next().
class Epoch {
 public:
  ~Epoch();  // stops the background threads and joins them
  Epoch(const Epoch&) = delete;
  Epoch& operator=(const Epoch&) = delete;

  // The next batch, or nullopt after the last.
  std::optional<Batch> next();
  std::int64_t size() const noexcept;  // batches in this epoch
  std::uint64_t number() const noexcept;

  struct Impl;
  explicit Epoch(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// The variables of a collection phase as columns (every variable when
// `names` is empty, else those named, in that order); Error(not_found) for
// an unknown phase or variable.
std::vector<Column> phase_columns(collection::Collection& collection, const std::string& phase,
                                  const std::vector<std::string>& names = {});

// Train / valid / test loaders from fractions of the rows (or of `subset`,
// e.g. a cut's rows, applied before splitting): the rows are permuted by
// `split_seed` once and cut into consecutive parts; each part's ids, in
// ascending order, become its loader's subset. Fractions are checked and
// rounded as a collection's (collection/split.h: >= 0, summing to 1 within
// 1e-6; sizes sum to the rows, each within one row of its share).
// Error(invalid_argument) otherwise.

std::vector<std::unique_ptr<Loader>> split_loaders(std::vector<Column> columns,
                                                   const std::vector<double>& fractions,
                                                   std::uint64_t split_seed,
                                                   const LoaderOptions& options);

// The ids of each part that split_loaders makes, ascending.
std::vector<std::vector<std::int64_t>> split_rows(
    std::int64_t rows, const std::optional<std::vector<std::int64_t>>& subset,
    const std::vector<double>& fractions, std::uint64_t split_seed);

}  // namespace larder::loader
