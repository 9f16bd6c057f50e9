// HDF5 variable-length datasets (h5py's vlen_dtype, PyTables' VLArray) as
// read-only ragged records: the driver reads their sequences
// (Dataset::read_sequences); each read resolves the rows it needs.
#include <fmt/format.h>

#include <numeric>

#include "formats.h"
#include "larder/core/error.h"

namespace larder::ragged {
namespace {

class SequenceRagged final : public Ragged {
 public:
  explicit SequenceRagged(std::shared_ptr<store::Dataset> dataset)
      : Ragged(dataset->store_path().string(), dataset->path(), dataset->dtype(),
               *dataset->sequence_item_shape(), false),
        dataset_(std::move(dataset)) {
    if (dataset_->shape().rank() != 1) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("variable-length dataset of shape {}: ragged records are 1-D",
                              dataset_->shape().to_string()),
                  file_, path_);
    }
  }

  std::string_view format() const override { return "hdf5-vlen"; }
  bool writable() const override { return false; }
  std::optional<codec::CodecSpec> codec() const override { return dataset_->codec(); }
  store::Node& node() override { return *dataset_; }
  std::int64_t size() const override { return dataset_->rows(); }
  store::StorageInfo storage_info() const override {
    store::StorageInfo info = dataset_->storage_info();
    info.layout = "ragged (HDF5 variable-length)";
    return info;
  }

 protected:
  std::vector<std::int64_t> read_lengths(std::int64_t begin, std::int64_t end) override {
    const store::Sequences s = dataset_->read_sequences(range(begin, end));
    std::vector<std::int64_t> out(s.offsets.size() - 1);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = s.offsets[i + 1] - s.offsets[i];
    return out;
  }

  Records read_records(std::int64_t begin, std::int64_t end) override {
    return gather_records(range(begin, end));
  }

  Records gather_records(std::span<const std::int64_t> rows) override {
    store::Sequences s = dataset_->read_sequences(rows);
    Records out;
    out.values = std::move(s.values);
    out.offsets = std::move(s.offsets);
    return out;
  }

  void append_records(ArrayView, std::span<const std::int64_t>, std::span<const Shape>) override {
    throw Error(ErrorCode::unsupported, "HDF5 variable-length sequences are read-only", file_,
                path_);
  }

 private:
  static std::vector<std::int64_t> range(std::int64_t begin, std::int64_t end) {
    std::vector<std::int64_t> rows(static_cast<std::size_t>(end - begin));
    std::iota(rows.begin(), rows.end(), begin);
    return rows;
  }

  std::shared_ptr<store::Dataset> dataset_;
};

}  // namespace

std::unique_ptr<Ragged> open_sequences(std::shared_ptr<store::Dataset> dataset) {
  return std::make_unique<SequenceRagged>(std::move(dataset));
}

}  // namespace larder::ragged
