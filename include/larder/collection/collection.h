// Collection — named variables sharing a sample axis, split into phases
// (train, valid, test, or names of the caller's), in any store: what
// multiml's StoreGate keeps, stored so that a reopened collection needs
// nothing recomputed.
//
// Layout (docs/formats/collection.md): variable `v` of phase `p` of the
// collection `id` is `/<id>/<p>/<v>` — a dense dataset (N, *sample shape)
// or ragged records — which is also the layout StoreGate's zarr backend
// writes, so its stores open as collections. compile() stores the sizes,
// names, shapes and dtypes in the attribute `larder.collection` of `/<id>`.
//
// Bad input (an unknown phase or variable, rows of other lengths, a dtype
// that does not fit) raises Error before anything is written. Operations
// that rewrite whole variables (astype, onehot, argmax, shuffle) write the
// new version beside the old one and then swap; a crash leaves either
// version, and the next writable open finishes a swap that was under way.
// A Collection holds its groups (so its store) open; one thread at a time.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "larder/codec/codec_spec.h"
#include "larder/collection/split.h"
#include "larder/core/array.h"
#include "larder/core/selection.h"
#include "larder/ragged/ragged.h"
#include "larder/store/store.h"

namespace larder::collection {

struct CollectionOptions {
  // Codec of the variables a Collection creates (not of those it appends to).
  codec::CodecSpec codec{};
  // Rows per chunk of new dense variables; 0: about 256 KiB of rows (a
  // loader's block shuffle reads whole chunks; HDF5 keeps an appendable
  // tail of up to a chunk uncompressed beside each dataset).
  std::int64_t chunk_rows = 0;
};

// One variable's rows for add(): dense rows (N, *sample shape), or ragged
// records (values + offsets, as Ragged::read returns them).
struct VariableData {
  VariableData(std::string variable, ArrayView rows) : name(std::move(variable)), dense(rows) {}
  VariableData(std::string variable, const ragged::Records& rows)
      : name(std::move(variable)), dense(rows.values), records(&rows) {}

  std::string name;
  ArrayView dense;
  const ragged::Records* records = nullptr;  // set for ragged data

  std::int64_t rows() const;
};

// A stored variable: exactly one of `dense` and `ragged` is set.
struct Variable {
  std::string phase;
  std::string name;
  std::shared_ptr<store::Dataset> dense;
  std::shared_ptr<ragged::Ragged> ragged;
  bool in_memory = false;  // moved to memory by to_memory()

  std::int64_t rows() const;
  DType dtype() const;
  // Per sample: shape()[1:] of a dense variable, the inner shape of jagged
  // records; shaped records have none (empty).
  Shape sample_shape() const;
  // "dense", "jagged" or "shaped".
  std::string kind() const;
};

// What compile() checked and stored.
struct Metadata {
  struct VariableInfo {
    std::string name;
    std::string kind;  // "dense", "jagged", "shaped"
    DType dtype;
    Shape sample_shape;
  };
  struct Phase {
    std::string name;
    std::int64_t size = 0;
    std::vector<VariableInfo> variables;
  };
  std::vector<Phase> phases;
  std::int64_t total = 0;

  nlohmann::json to_json() const;
  // Error(corrupt) naming `where` for JSON that is not metadata.
  static Metadata from_json(const nlohmann::json& json, const std::string& where);
};

class Collection {
 public:
  // The collection `data_id` under `root` (a store's root group, usually).
  // Nothing is created until something is added. When `root`'s store is
  // writable and a swap was under way, it is finished here.
  static std::unique_ptr<Collection> open(std::shared_ptr<store::Group> root, std::string data_id,
                                          const CollectionOptions& options = {});
  // Names of the collections under `root`: groups marked as collections,
  // and groups holding train, valid or test groups (StoreGate's).
  static std::vector<std::string> data_ids(store::Group& root);

  ~Collection();
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  const std::string& data_id() const { return data_id_; }
  const std::string& file() const { return file_; }
  // Phases that exist: train, valid, test first, then others by name.
  std::vector<std::string> phases();
  bool has_phase(const std::string& phase);
  // Variables of `phase`, by name; Error(not_found) for an unknown phase.
  std::vector<std::string> variables(const std::string& phase);
  bool contains(const std::string& phase, const std::string& name);
  // Error(not_found) naming the phase, the variable and those that exist.
  Variable variable(const std::string& phase, const std::string& name);
  // Rows of every variable of `phase`; Error(invalid_argument) naming two
  // variables of different lengths; 0 for a phase without variables.
  std::int64_t size(const std::string& phase);

  // Adds rows: every entry of `data` has the same number of rows; they are
  // divided among phases by `split` (after a seeded shuffle of the rows when
  // `shuffle_seed` is given; the caller's arrays never change) and appended
  // to the variables, which are created where missing.
  void add(const std::vector<VariableData>& data, const Split& split,
           std::optional<std::uint64_t> shuffle_seed = std::nullopt);
  // Empty (zero-filled) variables of `shape` (rows first) split by `split`;
  // Error(invalid_argument) if one exists.
  void create_empty(const std::vector<std::string>& names, const Shape& shape, const Split& split,
                    const DType& dtype);
  // Writes `values` into the selected rows of a dense variable (adds the
  // variable to `phase` when it does not exist and every row is selected).
  void update(const std::string& phase, const std::string& name, const AxisSelection& rows,
              ArrayView values);
  // The selected rows of a dense variable (an index drops the row axis).
  Array get(const std::string& phase, const std::string& name, const AxisSelection& rows);
  // The selected records of a ragged variable.
  ragged::Records get_records(const std::string& phase, const std::string& name,
                              const AxisSelection& rows);
  // Dense variables of one dtype and sample shape side by side:
  // (rows, len(names), *sample shape), or (len(names), ...) for an index.
  Array get_stacked(const std::string& phase, const std::vector<std::string>& names,
                    const AxisSelection& rows);
  void remove(const std::string& phase, const std::string& name);
  // Removes the whole collection.
  void clear();

  // Checks that the variables of each phase have equal lengths, then stores
  // and returns the metadata.
  Metadata compile();
  // The metadata compile() stored, if nothing was added or removed since.
  std::optional<Metadata> metadata();

  // Rewrites a variable in bounded memory: converted to `dtype`; one-hot
  // encoded ((N,) integers in [0, classes) -> (N, classes) of `dtype`); the
  // index of the largest value along `axis` (>= 1) as int64.
  void astype(const std::string& phase, const std::string& name, const DType& dtype);
  void onehot(const std::string& phase, const std::string& name, std::int64_t classes,
              const DType& dtype = DType::float32());
  void argmax(const std::string& phase, const std::string& name, int axis);
  // Puts the rows of every variable of `phase` in the same seeded random
  // order, reading and writing in bounded memory.
  void shuffle(const std::string& phase, std::uint64_t seed);

  // Hybrid use: to_memory() copies variables into a store in RAM, where
  // later reads and writes of them go; to_storage() writes them back to the
  // backing store and frees the memory.
  void to_memory(const std::vector<std::string>& names, const std::string& phase);
  void to_storage(const std::vector<std::string>& names, const std::string& phase);

 private:
  Collection(std::shared_ptr<store::Group> root, std::string data_id, CollectionOptions options);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string data_id_;
  std::string file_;
};

}  // namespace larder::collection
