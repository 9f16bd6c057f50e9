#include "larder/ragged/ragged.h"

#include <fmt/format.h>

#include <cstring>
#include <numeric>

#include "formats.h"
#include "larder/core/error.h"
#include "larder/store/element_json.h"

namespace larder::ragged {
namespace {

bool is_larder_ragged(store::Node& node) {
  if (node.kind() != store::NodeKind::group || !node.attrs().contains(kKindAttribute)) return false;
  const nlohmann::json kind = node.attrs().get_json(kKindAttribute);
  return kind.is_string() && kind.get<std::string>() == "ragged";
}

}  // namespace

std::string Ragged::record_shape() const {
  if (shaped_) return "any";
  std::string out = "(n,";
  for (const std::int64_t d : inner_shape_)
    out += fmt::format(" {},", d);
  if (inner_shape_.rank() > 0) out.pop_back();
  return out + ")";
}

ArrayView Records::operator[](std::int64_t i) const {
  const auto at = static_cast<std::size_t>(i);
  const std::int64_t begin = offsets.at(at), end = offsets.at(at + 1);
  const std::int64_t item_elements =
      values.rank() == 0 ? 1 : values.num_elements() / std::max<std::int64_t>(values.shape()[0], 1);
  const std::byte* data =
      values.data() + static_cast<std::size_t>(begin * item_elements) * values.dtype().item_size();
  if (!shapes.empty()) return ArrayView(data, values.dtype(), shapes.at(at));
  std::vector<std::int64_t> dims{end - begin};
  dims.insert(dims.end(), values.shape().begin() + 1, values.shape().end());
  return ArrayView(data, values.dtype(), Shape(std::move(dims)));
}

Array pad_records(const Records& records, const Shape& inner_shape, std::int64_t width,
                  std::span<const std::byte> fill) {
  std::vector<std::int64_t> dims{records.size(), width};
  dims.insert(dims.end(), inner_shape.begin(), inner_shape.end());
  const DType dtype = records.values.dtype();
  Array out = Array::empty(dtype, Shape(std::move(dims)));
  const std::size_t item_size = dtype.item_size();
  for (std::size_t i = 0; i < out.nbytes(); i += item_size)
    std::memcpy(out.data() + i, fill.data(), item_size);
  const std::size_t item_bytes = static_cast<std::size_t>(inner_shape.num_elements()) * item_size;
  for (std::int64_t i = 0; i < records.size(); ++i) {
    const auto at = static_cast<std::size_t>(i);
    const std::int64_t kept = std::min(records.offsets[at + 1] - records.offsets[at], width);
    if (kept > 0) {
      std::memcpy(
          out.data() + at * static_cast<std::size_t>(width) * item_bytes,
          records.values.data() + static_cast<std::size_t>(records.offsets[at]) * item_bytes,
          static_cast<std::size_t>(kept) * item_bytes);
    }
  }
  return out;
}

std::unique_ptr<Ragged> Ragged::create(store::Group& parent, std::string_view path,
                                       const RaggedOptions& options, const ReadOptions& read) {
  return create_stored(parent, path, options, read);
}

std::unique_ptr<Ragged> Ragged::open(store::Group& parent, std::string_view path,
                                     const ReadOptions& read) {
  std::shared_ptr<store::Node> node = parent.open(path);
  if (auto records = from_node(parent, path, node, read)) return records;
  if (node->kind() == store::NodeKind::group) {
    throw Error(
        ErrorCode::type_mismatch,
        fmt::format("this group holds no ragged records (no {} = \"ragged\")", kKindAttribute),
        node->store_path().string(), node->path());
  }
  throw Error(ErrorCode::type_mismatch,
              fmt::format("a dense dataset of shape {}, not ragged records",
                          static_cast<store::Dataset&>(*node).shape().to_string()),
              node->store_path().string(), node->path());
}

std::unique_ptr<Ragged> Ragged::from_node(store::Group& parent, std::string_view path,
                                          const std::shared_ptr<store::Node>& node,
                                          const ReadOptions& read) {
  if (!holds_ragged(parent, path, *node)) return nullptr;
  if (node->kind() == store::NodeKind::group) {
    return open_stored(std::static_pointer_cast<store::Group>(node), read);
  }
  auto dataset = std::static_pointer_cast<store::Dataset>(node);
  if (dataset->sequence_item_shape()) return open_sequences(std::move(dataset));
  return open_memmpy(parent, path, std::move(dataset), read);
}

bool Ragged::is_ragged(store::Group& parent, std::string_view path) {
  return parent.contains(path) && holds_ragged(parent, path, *parent.open(path));
}

bool Ragged::holds_ragged(store::Group& parent, std::string_view path, store::Node& node) {
  if (node.kind() == store::NodeKind::group) return is_larder_ragged(node);
  return static_cast<store::Dataset&>(node).sequence_item_shape().has_value() ||
         parent.contains(std::string(path) + ":index");
}

std::vector<std::int64_t> Ragged::lengths(std::int64_t begin, std::int64_t end) {
  if (begin < 0 || begin > end || end > size()) {
    throw Error(ErrorCode::out_of_range,
                fmt::format("records [{}, {}) are out of range for {} records", begin, end, size()),
                file_, path_);
  }
  return read_lengths(begin, end);
}

Records Ragged::read(std::int64_t begin, std::int64_t end) {
  if (begin < 0 || begin > end || end > size()) {
    throw Error(ErrorCode::out_of_range,
                fmt::format("records [{}, {}) are out of range for {} records", begin, end, size()),
                file_, path_);
  }
  return read_records(begin, end);
}

std::vector<std::int64_t> Ragged::checked_rows(std::span<const std::int64_t> rows) const {
  const std::int64_t n = size();
  std::vector<std::int64_t> out(rows.begin(), rows.end());
  for (std::int64_t& row : out) {
    if (row < -n || row >= n) {
      throw Error(ErrorCode::out_of_range,
                  fmt::format("record {} is out of range for {} records", row, n), file_, path_);
    }
    if (row < 0) row += n;
  }
  return out;
}

Records Ragged::gather(std::span<const std::int64_t> rows) {
  const std::vector<std::int64_t> checked = checked_rows(rows);
  // A run of consecutive records is one read.
  bool run = !checked.empty();
  for (std::size_t i = 1; run && i < checked.size(); ++i)
    run = checked[i] == checked[i - 1] + 1;
  if (run) return read_records(checked.front(), checked.back() + 1);
  return gather_records(checked);
}

Array Ragged::record(std::int64_t row) {
  const std::int64_t one[] = {row};
  Records records = gather(one);
  const Shape shape = records[0].shape();
  return std::move(records.values).reshaped(shape);
}

Array Ragged::padded(std::span<const std::int64_t> rows, std::int64_t width,
                     const nlohmann::json& fill) {
  if (shaped_) {
    throw Error(ErrorCode::invalid_argument,
                "padding needs jagged records; these are shaped (pad each record yourself)", file_,
                path_);
  }
  if (width < 0) {
    throw Error(ErrorCode::invalid_argument, fmt::format("padding width {} is negative", width),
                file_, path_);
  }
  std::vector<std::byte> fill_bytes;
  try {
    fill_bytes = store::element_from_json(dtype_.native(), fill);
  } catch (const Error& e) {
    throw e.at(file_, path_);
  }
  return pad_records(gather(rows), inner_shape_, width, fill_bytes);
}

void Ragged::check_writable() const {
  if (!writable()) {
    throw Error(ErrorCode::unsupported,
                fmt::format("{} ragged records are read-only; copy them into a larder ragged "
                            "array to append",
                            format()),
                file_, path_);
  }
}

void Ragged::append(ArrayView record) {
  check_writable();
  if (shaped_) {
    const Shape shape = record.shape();
    extend(record, std::span<const Shape>(&shape, 1));
    return;
  }
  const std::int64_t length = record.rank() == 0 ? 1 : record.shape()[0];
  if (record.rank() != inner_shape_.rank() + 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a record of shape {} for records of shape {}",
                            record.shape().to_string(), record_shape()),
                file_, path_);
  }
  extend(record, std::span<const std::int64_t>(&length, 1));
}

void Ragged::check_extend(ArrayView values, bool with_shapes) const {
  check_writable();
  if (with_shapes != shaped_) {
    throw Error(ErrorCode::invalid_argument,
                shaped_ ? "these records are shaped: extend them with a shape per record"
                        : "these records are jagged: extend them with a length per record",
                file_, path_);
  }
  if (values.dtype().native() != dtype_.native()) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("values of dtype {} for records of dtype {}", values.dtype().name(),
                            dtype_.name()),
                file_, path_);
  }
}

void Ragged::extend(ArrayView values, std::span<const std::int64_t> lengths) {
  check_extend(values, false);
  if (values.rank() != inner_shape_.rank() + 1 || values.shape().without_first() != inner_shape_) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("values of shape {} for records of shape {}",
                            values.shape().to_string(), record_shape()),
                file_, path_);
  }
  std::int64_t total = 0;
  for (const std::int64_t length : lengths) {
    if (length < 0) {
      throw Error(ErrorCode::invalid_argument, fmt::format("record length {} is negative", length),
                  file_, path_);
    }
    total += length;
  }
  if (total != values.shape()[0]) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("lengths add up to {} items but {} are given", total, values.shape()[0]), file_,
        path_);
  }
  if (lengths.empty()) return;
  append_records(packed_as(values, dtype_.native()), lengths, {});
}

void Ragged::extend(ArrayView values, std::span<const Shape> shapes) {
  check_extend(values, true);
  std::int64_t total = 0;
  for (const Shape& shape : shapes) {
    if (shape.rank() != shapes[0].rank()) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("records of shapes {} and {} differ in rank", shapes[0].to_string(),
                              shape.to_string()),
                  file_, path_);
    }
    total += shape.num_elements();
  }
  if (total != values.num_elements()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("the shapes hold {} elements but {} are given", total, values.num_elements()),
        file_, path_);
  }
  if (shapes.empty()) return;
  std::vector<std::int64_t> lengths;
  lengths.reserve(shapes.size());
  for (const Shape& shape : shapes)
    lengths.push_back(shape.num_elements());
  Array flat = packed_as(values, dtype_.native());
  append_records(std::move(flat).reshaped(Shape{total}), lengths, shapes);
}

}  // namespace larder::ragged
