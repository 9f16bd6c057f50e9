// Ragged — records of one dtype whose first axis varies (jagged: each record
// is (n, *inner_shape)) or whose whole shape varies (shaped), on any store.
//
// larder's own ragged arrays are groups (docs/formats/ragged.md): `values`
// (chunked, compressed, extendable), `offsets` (int64, N+1, first 0) and,
// for shaped records, `shapes` (int64, N x rank). h5py variable-length
// datasets, PyTables VLArrays and memmpy jagged/shaped arrays open too,
// read-only. An append is committed when it returns: values are written
// before the offsets that reach them, and a writable open trims values no
// offset reaches (what a crash between the two leaves). A Ragged holds its
// datasets (and so its store) open; one thread at a time per object.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/codec/codec_spec.h"
#include "larder/core/array.h"
#include "larder/store/group.h"

namespace larder::ragged {

struct RaggedOptions {
  DType dtype = DType::float32();
  // Jagged records: the shape of one item, so a record is (n, *inner_shape).
  Shape inner_shape{};
  // Records of any shape, of one rank (set by the first record appended).
  bool shaped = false;
  codec::CodecSpec codec{};  // of values, offsets and shapes
  // Items per chunk of values; 0: about 256 KiB of them.
  std::int64_t chunk_items = 0;
};

// How an open ragged array reads.
struct ReadOptions {
  // Offsets of arrays of fewer records than this are read once and kept in
  // memory (8 bytes each); larger arrays read the offsets each access needs.
  std::int64_t cached_offsets = std::int64_t{1} << 23;
};

// Records as one block, without a copy per record: record i is items
// offsets[i] to offsets[i+1] of `values`, shaped shapes[i] for shaped
// records (whose values are flat).
struct Records {
  Array values = Array::empty(DType::uint8(), Shape{0});
  std::vector<std::int64_t> offsets{0};  // size() + 1, first 0
  std::vector<Shape> shapes{};           // shaped records only

  std::int64_t size() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
  // Record i, a view into `values`.
  ArrayView operator[](std::int64_t i) const;
};

// Jagged `records` as one (size, width, *inner_shape) array: records
// longer than `width` clipped, shorter ones filled with `fill` (one
// element's bytes in the records' dtype).
Array pad_records(const Records& records, const Shape& inner_shape, std::int64_t width,
                  std::span<const std::byte> fill);

class Ragged {
 public:
  // A new, empty ragged array at `path` (parents created). Error(invalid_argument)
  // when something is there already or the options do not fit together.
  static std::unique_ptr<Ragged> create(store::Group& parent, std::string_view path,
                                        const RaggedOptions& options, const ReadOptions& read = {});
  // The ragged array at `path`: larder's own, an HDF5 variable-length dataset,
  // or a memmpy jagged/shaped array. Error(not_found) when nothing is there,
  // Error(type_mismatch) when what is there holds no ragged records,
  // Error(corrupt) naming the file for offsets that decrease or point past
  // the values.
  static std::unique_ptr<Ragged> open(store::Group& parent, std::string_view path,
                                      const ReadOptions& read = {});
  // Whether open() would find ragged records at `path` (without checking them).
  static bool is_ragged(store::Group& parent, std::string_view path);
  // open() of a node the caller has opened already (`node`, at `path` in
  // `parent`): nullptr when it holds no ragged records.
  static std::unique_ptr<Ragged> from_node(store::Group& parent, std::string_view path,
                                           const std::shared_ptr<store::Node>& node,
                                           const ReadOptions& read = {});

  virtual ~Ragged() = default;
  Ragged(const Ragged&) = delete;
  Ragged& operator=(const Ragged&) = delete;

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  DType dtype() const { return dtype_; }
  bool shaped() const { return shaped_; }
  const Shape& inner_shape() const { return inner_shape_; }
  // A record's shape as text: "(n, 3)" for jagged records of inner shape
  // (3,), "(n,)" for jagged numbers, "any" for shaped records.
  std::string record_shape() const;
  // "larder", "hdf5-vlen" or "memmpy".
  virtual std::string_view format() const = 0;
  virtual bool writable() const = 0;
  // nullopt where the values' filters are not one larder codec.
  virtual std::optional<codec::CodecSpec> codec() const = 0;
  // Where values, offsets and shapes live (the group, or the dataset).
  virtual store::Node& node() = 0;
  store::Attributes& attrs() { return node().attrs(); }

  virtual std::int64_t size() const = 0;
  // Bytes of values (and offsets and shapes) in memory and on disk; the
  // layout is "ragged" and the filters those of the values.
  virtual store::StorageInfo storage_info() const = 0;
  // Items per record for records [begin, end): first-axis lengths of jagged
  // records, element counts of shaped ones.
  std::vector<std::int64_t> lengths(std::int64_t begin, std::int64_t end);
  std::vector<std::int64_t> lengths() { return lengths(0, size()); }

  // Records [begin, end), in one read of the values.
  Records read(std::int64_t begin, std::int64_t end);
  // Records in the order given, repeats allowed, negative ids from the end;
  // Error(out_of_range) naming the first id past the end.
  Records gather(std::span<const std::int64_t> rows);
  Array record(std::int64_t row);
  // Jagged records as one (rows, width, *inner_shape) array: records longer
  // than `width` are clipped, shorter ones filled with `fill` (JSON: a
  // number, "nan", null for zeros).
  Array padded(std::span<const std::int64_t> rows, std::int64_t width,
               const nlohmann::json& fill = nullptr);

  // One record: (n, *inner_shape) for jagged records, any shape of the
  // ragged array's rank for shaped ones.
  void append(ArrayView record);
  // Jagged records back to back: `values` is (sum(lengths), *inner_shape).
  void extend(ArrayView values, std::span<const std::int64_t> lengths);
  // Shaped records back to back: `values` holds their elements, flat or not.
  void extend(ArrayView values, std::span<const Shape> shapes);

 protected:
  Ragged(std::string file, std::string path, DType dtype, Shape inner_shape, bool shaped)
      : file_(std::move(file)),
        path_(std::move(path)),
        dtype_(dtype),
        inner_shape_(std::move(inner_shape)),
        shaped_(shaped) {}

  // The subclass's part; ranges and rows are checked (and rows made
  // non-negative) before they get here.
  virtual std::vector<std::int64_t> read_lengths(std::int64_t begin, std::int64_t end) = 0;
  virtual Records read_records(std::int64_t begin, std::int64_t end) = 0;
  virtual Records gather_records(std::span<const std::int64_t> rows) = 0;
  // Checked values (native dtype, contiguous) and, per record, its items
  // (jagged) or its shape (shaped).
  virtual void append_records(ArrayView values, std::span<const std::int64_t> lengths,
                              std::span<const Shape> shapes) = 0;

  std::string file_;
  std::string path_;
  DType dtype_;
  Shape inner_shape_;
  bool shaped_ = false;

 private:
  static bool holds_ragged(store::Group& parent, std::string_view path, store::Node& node);
  void check_writable() const;
  // What both extends check first: a writable format, records of the form
  // given (shapes for shaped records, lengths for jagged), values of the
  // records' dtype.
  void check_extend(ArrayView values, bool with_shapes) const;
  std::vector<std::int64_t> checked_rows(std::span<const std::int64_t> rows) const;
};

}  // namespace larder::ragged
