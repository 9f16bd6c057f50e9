// Dataset — a dense N-D array stored in a Store.
//
// Reads and writes take a Selection (slices, index lists, masks); gather()
// reads rows in any order with repeats; extendable datasets grow along axis
// 0 with append(). An append is committed when it returns: a crash after
// that never loses it (see docs/formats/hdf5.md). Bad input — a selection
// out of range, values of the wrong dtype or shape — raises Error and leaves
// what is stored unchanged. A store may hand out one object for every open
// of an array (HDF5 does), so calls from several threads on a dataset are
// safe: the driver serializes what needs it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "larder/codec/codec_spec.h"
#include "larder/core/array.h"
#include "larder/core/selection.h"
#include "larder/store/node.h"

namespace larder::store {

struct DatasetOptions {
  DType dtype = DType::float64();
  Shape shape;
  // Chunk shape; empty: contiguous when possible, else chosen from the
  // shape (about 1 MiB per chunk, whole rows).
  std::vector<std::int64_t> chunks{};
  codec::CodecSpec codec{};  // "none": stored as is
  bool extendable = false;   // unlimited along axis 0
  // HDF5's byte-shuffle filter before the codec (h5py's shuffle=True), for
  // codecs that do not shuffle inside their own frames as blosc does. HDF5
  // only: the other drivers refuse it.
  bool shuffle = false;
  // Value of elements never written, as JSON (a number, or a string for S
  // types); null: zeros.
  nlohmann::json fill_value{};
};

// Where a dataset's bytes are and how many.
struct StorageInfo {
  std::uint64_t logical_bytes = 0;  // shape x item size
  std::uint64_t stored_bytes = 0;   // on disk, after compression
  std::string layout;               // "contiguous", "chunked", "compact"
  std::string filters;              // "blosc-lz4:5:byte", "shuffle+deflate(4)", "" for none
};

// The sequences of a variable-length dataset, back to back: sequence i is
// values[offsets[i]:offsets[i+1]] along axis 0.
struct Sequences {
  Array values = Array::empty(DType::uint8(), Shape{0});  // (offsets.back(), *item shape)
  std::vector<std::int64_t> offsets;                      // one more than the sequences, first 0
};

class Dataset : public Node {
 public:
  NodeKind kind() const final { return NodeKind::dataset; }

  virtual DType dtype() const = 0;
  virtual Shape shape() const = 0;
  virtual std::vector<std::int64_t> chunks() const = 0;  // empty when not chunked
  // The codec chunks are stored with ("none" when unfiltered), after HDF5's
  // shuffle filter when shuffle_filter(); nullopt for a filter pipeline that
  // is not one larder codec (e.g. fletcher32+gzip, read through the HDF5
  // library; StorageInfo::filters names it).
  virtual std::optional<codec::CodecSpec> codec() const = 0;
  // Whether HDF5's shuffle filter runs before codec() (DatasetOptions::shuffle).
  virtual bool shuffle_filter() const { return false; }
  virtual bool extendable() const = 0;
  virtual nlohmann::json fill_value() const = 0;
  virtual StorageInfo storage_info() const = 0;

  virtual Array read(const Selection& selection) = 0;
  virtual void write(const Selection& selection, ArrayView values) = 0;
  // Rows in the order given, repeats allowed; each chunk is read once.
  // By default read() of an index list; Error(invalid_argument) for a
  // scalar dataset.
  virtual Array gather(std::span<const std::int64_t> rows);
  // Appends rows: `rows` has shape (n, *shape()[1:]), or shape()[1:] for one row.
  virtual void append(ArrayView rows) = 0;
  virtual void resize(const Shape& shape) = 0;

  // String datasets (dtype S<n> or vstring), element by element in C order.
  // By default, for S<n>: read() and write() of the elements, each string
  // NUL-padded; a driver with variable-length strings overrides them.
  // Error(type_mismatch) for a dtype that holds no strings.
  virtual std::vector<std::string> read_strings(const Selection& selection);
  virtual void write_strings(const Selection& selection, const std::vector<std::string>& values);

  // Variable-length datasets (an HDF5 vlen of numbers, as h5py's vlen_dtype
  // and PyTables' VLArray write) hold a sequence of items per element:
  // dtype() is the items' type and this the shape of one item ({} for
  // numbers); nullopt for every other dataset. read() and write() refuse
  // them with Error(type_mismatch); read_sequences reads them.
  virtual std::optional<Shape> sequence_item_shape() const { return std::nullopt; }
  // The sequences at `rows` of a 1-D variable-length dataset, in the order
  // given, repeats allowed; Error(type_mismatch) for other datasets.
  virtual Sequences read_sequences(std::span<const std::int64_t> rows);

  Array read() { return read(Selection()); }
  std::int64_t rows() const { return shape().rank() == 0 ? 1 : shape()[0]; }
};

}  // namespace larder::store
