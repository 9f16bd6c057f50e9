// Records kept as a values dataset and an offsets dataset (plus shapes):
// larder's own layout, and memmpy's, which is the same scheme under other
// names (docs/formats/ragged.md).
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "formats.h"
#include "larder/core/error.h"
#include "offsets.h"

namespace larder::ragged {
namespace {

constexpr std::int64_t kOffsetChunk = 8192;
constexpr std::int64_t kValueChunkBytes = std::int64_t{256} << 10;
// Records at least this long on average are read one slice each; shorter
// ones through one gather of their items.
constexpr std::int64_t kSliceItems = 4096;

Selection rows_slice(std::int64_t begin, std::int64_t end) {
  return Selection{AxisSelection::slice(begin, end, 1)};
}

std::vector<std::int64_t> to_vector(const Array& a) {
  const auto v = a.values<std::int64_t>();
  return {v.begin(), v.end()};
}

class StoredRagged final : public Ragged {
 public:
  struct Parts {
    std::shared_ptr<store::Node> node;    // the group (larder) or the values (memmpy)
    std::shared_ptr<store::Group> group;  // larder's: where `shapes` is created
    std::shared_ptr<store::Dataset> values, offsets, shapes;
    std::unique_ptr<Ragged> shape_records;  // memmpy's shaped records: shapes as jagged int64
    std::string format;
    bool shaped = false;
  };

  StoredRagged(Parts parts, const ReadOptions& read)
      : Ragged(parts.node->store_path().string(), parts.node->path(), parts.values->dtype(),
               parts.shaped ? Shape{} : parts.values->shape().without_first(), parts.shaped),
        parts_(std::move(parts)),
        read_(read) {
    if (parts_.offsets->dtype().native() != DType::int64() || parts_.offsets->shape().rank() != 1 ||
        parts_.offsets->rows() < 1) {
      throw corrupt(fmt::format("offsets of dtype {} and shape {}; int64 (records + 1) expected",
                                parts_.offsets->dtype().name(),
                                parts_.offsets->shape().to_string()));
    }
    if (parts_.values->shape().rank() < 1 || (shaped_ && parts_.values->shape().rank() != 1)) {
      throw corrupt(fmt::format("values of shape {} for {} records",
                                parts_.values->shape().to_string(),
                                shaped_ ? "shaped (flat values)" : "jagged"));
    }
    size_ = parts_.offsets->rows() - 1;
    const std::int64_t first = to_vector(parts_.offsets->read(rows_slice(0, 1)))[0];
    last_ = to_vector(parts_.offsets->read(rows_slice(size_, size_ + 1)))[0];
    const std::int64_t ends[] = {first, last_};
    check_offsets(std::span<const std::int64_t>(ends, size_ == 0 ? 1 : 2), 0, parts_.values->rows(),
                  file_, path_);
    if (shaped_ && size_ > 0 && !parts_.shapes && !parts_.shape_records) {
      throw corrupt(fmt::format("{} shaped records but no shapes", size_));
    }
  }

  std::string_view format() const override { return parts_.format; }
  bool writable() const override { return parts_.format == "larder"; }
  std::optional<codec::CodecSpec> codec() const override { return parts_.values->codec(); }
  store::Node& node() override { return *parts_.node; }
  std::int64_t size() const override { return size_; }
  store::StorageInfo storage_info() const override {
    store::StorageInfo info = parts_.values->storage_info();
    info.layout = "ragged";
    for (const auto* part : {parts_.offsets.get(), parts_.shapes.get()}) {
      if (part == nullptr) continue;
      const store::StorageInfo more = part->storage_info();
      info.logical_bytes += more.logical_bytes;
      info.stored_bytes += more.stored_bytes;
    }
    if (parts_.shape_records) {
      const store::StorageInfo more = parts_.shape_records->storage_info();
      info.logical_bytes += more.logical_bytes;
      info.stored_bytes += more.stored_bytes;
    }
    return info;
  }

 protected:
  std::vector<std::int64_t> read_lengths(std::int64_t begin, std::int64_t end) override {
    const std::vector<std::int64_t> o = offsets(begin, end);
    std::vector<std::int64_t> out(o.size() - 1);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = o[i + 1] - o[i];
    return out;
  }

  Records read_records(std::int64_t begin, std::int64_t end) override {
    const std::vector<std::int64_t> o = offsets(begin, end);
    Records out;
    out.offsets.resize(o.size());
    for (std::size_t i = 0; i < o.size(); ++i)
      out.offsets[i] = o[i] - o[0];
    out.values =
        o.back() > o.front() ? parts_.values->read(rows_slice(o.front(), o.back())) : no_values();
    if (shaped_) out.shapes = shapes_of(read_shapes(begin, end), out.offsets);
    return out;
  }

  Records gather_records(std::span<const std::int64_t> rows) override {
    std::vector<std::int64_t> starts(rows.size()), ends(rows.size());
    locate(rows, starts, ends);
    Records out;
    out.offsets.resize(rows.size() + 1);
    for (std::size_t i = 0; i < rows.size(); ++i)
      out.offsets[i + 1] = out.offsets[i] + ends[i] - starts[i];
    const std::int64_t total = out.offsets.back();
    if (total == 0) {
      out.values = no_values();
    } else if (total / static_cast<std::int64_t>(rows.size()) >= kSliceItems) {
      out.values = slice_each(starts, ends, total);
    } else {
      std::vector<std::int64_t> items;
      items.reserve(static_cast<std::size_t>(total));
      for (std::size_t i = 0; i < rows.size(); ++i) {
        for (std::int64_t item = starts[i]; item < ends[i]; ++item)
          items.push_back(item);
      }
      out.values = parts_.values->gather(items);
    }
    if (shaped_) out.shapes = shapes_of(gather_shapes(rows), out.offsets);
    return out;
  }

  void append_records(ArrayView values, std::span<const std::int64_t> lengths,
                      std::span<const Shape> shapes) override {
    trim();
    if (shaped_) prepare_shapes(shapes[0].rank());
    if (values.num_elements() > 0) parts_.values->append(values);
    const auto n = static_cast<std::int64_t>(lengths.size());
    if (shaped_) {
      const auto rank = static_cast<std::int64_t>(shapes[0].rank());
      Array dims = Array::empty(DType::int64(), Shape{n, rank});
      auto d = dims.values<std::int64_t>();
      for (std::size_t i = 0; i < shapes.size(); ++i)
        std::copy(shapes[i].begin(), shapes[i].end(),
                  d.begin() + static_cast<std::ptrdiff_t>(i) * rank);
      parts_.shapes->append(dims);
    }
    Array ends = Array::empty(DType::int64(), Shape{n});
    auto e = ends.values<std::int64_t>();
    std::int64_t at = last_;
    for (std::size_t i = 0; i < lengths.size(); ++i)
      e[i] = at += lengths[i];
    parts_.offsets->append(ends);  // the commit: these records exist from here on
    size_ += n;
    last_ = at;
    if (!cache_.empty()) cache_.insert(cache_.end(), e.begin(), e.end());
  }

 private:
  Error corrupt(std::string message) const {
    return Error(ErrorCode::corrupt, std::move(message), file_, path_);
  }

  Array no_values() const {
    std::vector<std::int64_t> dims{0};
    dims.insert(dims.end(), inner_shape_.begin(), inner_shape_.end());
    return Array::empty(dtype_.native(), Shape(std::move(dims)));
  }

  // Whether every offset is in cache_: read and checked the first time,
  // for arrays of fewer records than read_.cached_offsets.
  bool cached() {
    if (cache_.empty() && size_ < read_.cached_offsets) {
      std::vector<std::int64_t> all = to_vector(parts_.offsets->read(rows_slice(0, size_ + 1)));
      check_offsets(all, 0, last_, file_, path_);
      cache_ = std::move(all);
    }
    return !cache_.empty();
  }

  // Offsets of records [begin, end], checked.
  std::vector<std::int64_t> offsets(std::int64_t begin, std::int64_t end) {
    if (cached()) return {cache_.begin() + begin, cache_.begin() + end + 1};
    std::vector<std::int64_t> block = to_vector(parts_.offsets->read(rows_slice(begin, end + 1)));
    check_offsets(block, begin, last_, file_, path_);
    return block;
  }

  // Where each record's items start and end.
  void locate(std::span<const std::int64_t> rows, std::span<std::int64_t> starts,
              std::span<std::int64_t> ends) {
    if (cached()) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        starts[i] = cache_[static_cast<std::size_t>(rows[i])];
        ends[i] = cache_[static_cast<std::size_t>(rows[i]) + 1];
      }
      return;
    }
    std::vector<std::int64_t> ids;
    ids.reserve(rows.size() * 2);
    for (const std::int64_t row : rows) {
      ids.push_back(row);
      ids.push_back(row + 1);
    }
    const std::vector<std::int64_t> got = to_vector(parts_.offsets->gather(ids));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::int64_t pair[] = {got[2 * i], got[2 * i + 1]};
      check_offsets(pair, rows[i], last_, file_, path_);
      starts[i] = pair[0];
      ends[i] = pair[1];
    }
  }

  // Long records, one slice read each (the driver's chunk cache serves the
  // chunks records share).
  Array slice_each(std::span<const std::int64_t> starts, std::span<const std::int64_t> ends,
                   std::int64_t total) {
    std::vector<std::int64_t> dims{total};
    dims.insert(dims.end(), inner_shape_.begin(), inner_shape_.end());
    Array out = Array::empty(dtype_.native(), Shape(std::move(dims)));
    std::byte* to = out.data();
    for (std::size_t i = 0; i < starts.size(); ++i) {
      if (ends[i] == starts[i]) continue;
      const Array part = parts_.values->read(rows_slice(starts[i], ends[i]));
      std::memcpy(to, part.data(), part.nbytes());
      to += part.nbytes();
    }
    return out;
  }

  Array read_shapes(std::int64_t begin, std::int64_t end) {
    if (parts_.shape_records) return flat_shapes(parts_.shape_records->read(begin, end));
    return parts_.shapes->read(rows_slice(begin, end));
  }
  Array gather_shapes(std::span<const std::int64_t> rows) {
    if (parts_.shape_records) return flat_shapes(parts_.shape_records->gather(rows));
    return parts_.shapes->gather(rows);
  }
  // memmpy's shapes, one int64 vector per record, as (n, rank); records of
  // different ranks are refused.
  Array flat_shapes(Records shapes) const {
    const std::int64_t n = shapes.size();
    const std::int64_t rank = n == 0 ? 0 : shapes.offsets[1];
    for (std::int64_t i = 0; i < n; ++i) {
      const auto at = static_cast<std::size_t>(i);
      const std::int64_t axes = shapes.offsets[at + 1] - shapes.offsets[at];
      if (axes != rank) {
        throw Error(ErrorCode::unsupported,
                    fmt::format("shaped records of different ranks: {} axes here, {} in the first "
                                "record read",
                                axes, rank),
                    file_, path_);
      }
    }
    return std::move(shapes.values).reshaped(Shape{n, rank});
  }

  // Shapes as Shape values, each checked against its record's item count.
  std::vector<Shape> shapes_of(const Array& dims, std::span<const std::int64_t> offsets) const {
    const std::int64_t n = static_cast<std::int64_t>(offsets.size()) - 1;
    if (dims.rank() != 2 || dims.shape()[0] != n || dims.dtype().native() != DType::int64()) {
      throw corrupt(fmt::format("shapes of dtype {} and shape {} for {} records",
                                dims.dtype().name(), dims.shape().to_string(), n));
    }
    const std::int64_t rank = dims.shape()[1];
    const auto d = dims.values<std::int64_t>();
    std::vector<Shape> out;
    out.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      std::vector<std::int64_t> shape(d.begin() + i * rank, d.begin() + (i + 1) * rank);
      std::int64_t elements = 1;
      for (const std::int64_t x : shape) {
        if (x < 0) throw corrupt(fmt::format("record shape has a negative size {}", x));
        elements *= x;
      }
      const std::int64_t length =
          offsets[static_cast<std::size_t>(i) + 1] - offsets[static_cast<std::size_t>(i)];
      if (elements != length) {
        throw corrupt(fmt::format("a record of shape {} holds {} elements, not {}",
                                  Shape(shape).to_string(), length, elements));
      }
      out.emplace_back(std::move(shape));
    }
    return out;
  }

  // Values (and shapes) no offset reaches go before the next append: left
  // by a crash between an append's writes, or by an append whose offsets
  // write failed in this process. (A look at two extents per append.)
  void trim() {
    if (parts_.values->rows() > last_) {
      const Shape shape = parts_.values->shape();
      std::vector<std::int64_t> dims(shape.begin(), shape.end());
      dims[0] = last_;
      parts_.values->resize(Shape(std::move(dims)));
    }
    if (parts_.shapes && parts_.shapes->rows() > size_) {
      parts_.shapes->resize(Shape{size_, parts_.shapes->shape()[1]});
    }
  }

  void prepare_shapes(std::size_t rank) {
    if (rank == 0) {
      throw Error(ErrorCode::invalid_argument, "shaped records need at least one axis", file_,
                  path_);
    }
    if (!parts_.shapes) {
      const auto columns = static_cast<std::int64_t>(rank);
      parts_.shapes = parts_.group->create_dataset("shapes", {.dtype = DType::int64(),
                                                              .shape = Shape{0, columns},
                                                              .chunks = {kOffsetChunk, columns},
                                                              .codec = *parts_.offsets->codec(),
                                                              .extendable = true});
    } else if (parts_.shapes->shape()[1] != static_cast<std::int64_t>(rank)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("a record of rank {} for shaped records of rank {}", rank,
                              parts_.shapes->shape()[1]),
                  file_, path_);
    }
  }

  Parts parts_;
  ReadOptions read_;
  std::int64_t size_ = 0;
  std::int64_t last_ = 0;            // the last offset: values' committed items
  std::vector<std::int64_t> cache_;  // every offset, once read (small arrays only)
};

}  // namespace

std::unique_ptr<Ragged> create_stored(store::Group& parent, std::string_view path,
                                      const RaggedOptions& options, const ReadOptions& read) {
  const std::string where = store::join_path(parent.path(), std::string(path));
  auto refuse = [&](std::string message) {
    return Error(ErrorCode::invalid_argument, std::move(message), parent.store_path().string(),
                 where);
  };
  if (!options.dtype.is_fixed_size()) {
    throw refuse(fmt::format("ragged records of dtype {}: a fixed-size dtype is needed",
                             options.dtype.name()));
  }
  if (options.shaped && options.inner_shape.rank() > 0) {
    throw refuse("shaped records take no inner_shape: each record has its own shape");
  }
  for (const std::int64_t d : options.inner_shape) {
    if (d < 1)
      throw refuse(
          fmt::format("inner_shape {} has an empty axis", options.inner_shape.to_string()));
  }
  if (options.chunk_items < 0) {
    throw refuse(fmt::format("chunk_items {} is negative", options.chunk_items));
  }
  if (parent.contains(path)) throw refuse("something exists at this path already");

  const std::int64_t item_bytes =
      options.inner_shape.num_elements() * static_cast<std::int64_t>(options.dtype.item_size());
  const std::int64_t chunk_items = options.chunk_items > 0
                                       ? options.chunk_items
                                       : std::max<std::int64_t>(1, kValueChunkBytes / item_bytes);
  std::vector<std::int64_t> value_dims{0}, value_chunks{chunk_items};
  value_dims.insert(value_dims.end(), options.inner_shape.begin(), options.inner_shape.end());
  value_chunks.insert(value_chunks.end(), options.inner_shape.begin(), options.inner_shape.end());

  StoredRagged::Parts parts;
  parts.group = parent.create_group(path);
  try {
    parts.node = parts.group;
    parts.format = "larder";
    parts.shaped = options.shaped;
    parts.values = parts.group->create_dataset("values", {.dtype = options.dtype,
                                                          .shape = Shape(value_dims),
                                                          .chunks = value_chunks,
                                                          .codec = options.codec,
                                                          .extendable = true});
    parts.offsets = parts.group->create_dataset("offsets", {.dtype = DType::int64(),
                                                            .shape = Shape{0},
                                                            .chunks = {kOffsetChunk},
                                                            .codec = options.codec,
                                                            .extendable = true});
    const std::int64_t zero[] = {0};
    parts.offsets->append(Array::from_values<std::int64_t>(zero));
    parts.group->attrs().set(kLayoutAttribute, options.shaped ? "shaped" : "jagged");
    parts.group->attrs().set(kKindAttribute, "ragged");  // last: now it is one
  } catch (...) {
    parts = {};
    parent.remove(path);
    throw;
  }
  return std::make_unique<StoredRagged>(std::move(parts), read);
}

std::unique_ptr<Ragged> open_stored(std::shared_ptr<store::Group> group, const ReadOptions& read) {
  auto part = [&](const char* name) {
    if (!group->contains(name)) {
      throw Error(ErrorCode::corrupt, fmt::format("ragged records without their '{}'", name),
                  group->store_path().string(), group->path());
    }
    return group->open_dataset(name);
  };
  StoredRagged::Parts parts;
  const nlohmann::json layout =
      group->attrs().contains(kLayoutAttribute) ? group->attrs().get_json(kLayoutAttribute) : "";
  if (layout != "jagged" && layout != "shaped") {
    throw Error(ErrorCode::corrupt,
                fmt::format("ragged layout {} (attribute {}); jagged or shaped expected",
                            layout.dump(), kLayoutAttribute),
                group->store_path().string(), group->path());
  }
  parts.shaped = layout == "shaped";
  parts.values = part("values");
  parts.offsets = part("offsets");
  if (parts.shaped && group->contains("shapes")) parts.shapes = group->open_dataset("shapes");
  parts.format = "larder";
  parts.node = group;
  parts.group = std::move(group);
  return std::make_unique<StoredRagged>(std::move(parts), read);
}

std::unique_ptr<Ragged> open_memmpy(store::Group& parent, std::string_view path,
                                    std::shared_ptr<store::Dataset> values,
                                    const ReadOptions& read) {
  const std::string name(path);
  StoredRagged::Parts parts;
  parts.offsets = parent.open_dataset(name + ":index");
  if (parent.contains(name + ":shape")) {
    parts.shaped = true;
    parts.shape_records =
        open_memmpy(parent, name + ":shape", parent.open_dataset(name + ":shape"), read);
  }
  parts.format = "memmpy";
  parts.node = values;
  parts.values = std::move(values);
  return std::make_unique<StoredRagged>(std::move(parts), read);
}

}  // namespace larder::ragged
