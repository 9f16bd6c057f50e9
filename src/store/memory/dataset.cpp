// MemoryDataset: an array held in one C-ordered buffer in native byte order
// (variable-length strings: one std::string per element).
//
// Reads copy the selected elements into a new Array; writes go through
// put(). Appends and resizes grow the buffer geometrically (its capacity at
// least doubles when it runs out), so n appends copy each byte O(1) times on
// average. Every check runs before anything changes, so bad input leaves the
// array as it was.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>

#include "../driver_common.h"
#include "../fixed_strings.h"
#include "driver.h"
#include "larder/core/error.h"
#include "larder/store/element_json.h"

namespace larder::store::memory {
namespace {

// The flat C-order position of every element `axes` select from an array
// of `shape`, in the order of the selection's result.
std::vector<std::int64_t> flat_positions(const std::vector<ResolvedAxis>& axes,
                                         const Shape& shape) {
  const std::size_t rank = axes.size();
  std::int64_t total = 1;
  for (const auto& axis : axes)
    total *= axis.count;
  std::vector<std::int64_t> out;
  if (total == 0) return out;
  out.reserve(static_cast<std::size_t>(total));
  std::vector<std::int64_t> strides(rank, 1);
  for (std::size_t a = rank; a-- > 1;)
    strides[a - 1] = strides[a] * shape[a];
  std::vector<std::int64_t> k(rank, 0);
  while (true) {
    std::int64_t position = 0;
    for (std::size_t a = 0; a < rank; ++a)
      position += axes[a].source_index(k[a]) * strides[a];
    out.push_back(position);
    std::size_t a = rank;
    while (a > 0 && ++k[a - 1] == axes[a - 1].count)
      k[--a] = 0;
    if (a == 0) return out;
  }
}

class MemoryDataset final : public Dataset {
 public:
  MemoryDataset(Context context, std::shared_ptr<ArrayData> data, std::string path)
      : context_(std::move(context)),
        data_(std::move(data)),
        path_(std::move(path)),
        attrs_(make_attributes(context_, data_, path_)) {}

  const std::string& path() const override { return path_; }
  const std::filesystem::path& store_path() const override { return context_->fs_path; }
  Attributes& attrs() override {
    std::shared_lock lock(context_->mutex);
    usable();
    return *attrs_;
  }

  DType dtype() const override {
    return inspect([](const ArrayData& a) { return a.dtype; });
  }
  Shape shape() const override {
    return inspect([](const ArrayData& a) { return a.shape; });
  }
  std::vector<std::int64_t> chunks() const override {
    return inspect([](const ArrayData& a) { return a.chunks; });
  }
  std::optional<codec::CodecSpec> codec() const override {  // held uncompressed
    return inspect([](const ArrayData&) { return std::optional(codec::CodecSpec{}); });
  }
  bool extendable() const override {
    return inspect([](const ArrayData& a) { return a.extendable; });
  }
  nlohmann::json fill_value() const override {
    return inspect([](const ArrayData& a) { return a.fill_value; });
  }

  StorageInfo storage_info() const override {
    std::shared_lock lock(context_->mutex);
    usable();
    std::uint64_t bytes = data_->bytes.size();
    for (const auto& s : data_->strings)
      bytes += s.size();
    return {.logical_bytes = bytes, .stored_bytes = bytes, .layout = "memory", .filters = ""};
  }

  Array read(const Selection& selection) override {
    std::shared_lock lock(context_->mutex);
    usable();
    const ArrayData& a = *data_;
    require_fixed_size(a.dtype, "read", context_->name, path_);
    resolve_selection(selection, a.shape, context_->name, path_);
    return take(ArrayView(a.bytes.data(), a.dtype.native(), a.shape), selection);
  }

  void write(const Selection& selection, ArrayView values) override {
    std::unique_lock lock(context_->mutex);
    usable();
    ArrayData& a = *data_;
    require_fixed_size(a.dtype, "write", context_->name, path_);
    const auto axes = resolve_selection(selection, a.shape, context_->name, path_);
    check_values(values, a.dtype, result_shape(axes), context_->name, path_);
    put(MutableArrayView(a.bytes.data(), a.dtype.native(), a.shape), selection,
        packed_as(values, a.dtype.native()));
  }

  void append(ArrayView rows) override {
    std::unique_lock lock(context_->mutex);
    usable();
    ArrayData& a = *data_;
    require_fixed_size(a.dtype, "append", context_->name, path_);
    const std::int64_t count = rows_to_append(rows, a.shape, a.extendable, context_->name, path_);
    check_values(rows, a.dtype, rows.shape(), context_->name, path_);
    if (count == 0) return;
    const Array packed = packed_as(rows, a.dtype.native());
    const std::size_t end = a.bytes.size();
    grow(end + packed.nbytes());
    std::memcpy(a.bytes.data() + end, packed.data(), packed.nbytes());
    a.shape = a.shape.with(0, a.shape[0] + count);
  }

  void resize(const Shape& shape) override {
    std::unique_lock lock(context_->mutex);
    usable();
    ArrayData& a = *data_;
    check_resize(
        a.shape, shape, [&](std::size_t axis) { return axis == 0 && a.extendable; }, context_->name,
        path_);
    if (shape == a.shape) return;
    const auto elements = static_cast<std::size_t>(shape.num_elements());
    if (!a.dtype.is_fixed_size()) {
      reserve_geometric(a.strings, elements);
      a.strings.resize(elements);
    } else {
      const std::size_t item = a.dtype.item_size();
      const std::size_t before = a.bytes.size();
      grow(elements * item);
      for (std::size_t at = before; at < a.bytes.size(); at += item)
        std::memcpy(a.bytes.data() + at, a.fill.data(), item);
    }
    a.shape = shape;
  }

  std::vector<std::string> read_strings(const Selection& selection) override {
    std::shared_lock lock(context_->mutex);
    usable();
    const ArrayData& a = *data_;
    require_strings(a.dtype, "read_strings", context_->name, path_);
    const auto axes = resolve_selection(selection, a.shape, context_->name, path_);
    if (a.dtype.kind() == DTypeKind::string) {
      return unpack_fixed_strings(
          take(ArrayView(a.bytes.data(), a.dtype.native(), a.shape), selection));
    }
    std::vector<std::string> out;
    for (const std::int64_t at : flat_positions(axes, a.shape))
      out.push_back(a.strings[static_cast<std::size_t>(at)]);
    return out;
  }

  void write_strings(const Selection& selection, const std::vector<std::string>& values) override {
    std::unique_lock lock(context_->mutex);
    usable();
    ArrayData& a = *data_;
    require_strings(a.dtype, "write_strings", context_->name, path_);
    const auto axes = resolve_selection(selection, a.shape, context_->name, path_);
    const Shape wanted = result_shape(axes);
    check_string_count(values.size(), wanted.num_elements(), context_->name, path_);
    if (a.dtype.kind() == DTypeKind::string) {
      put(MutableArrayView(a.bytes.data(), a.dtype, a.shape), selection,
          pack_fixed_strings(a.dtype, values, wanted, context_->name, path_));
      return;
    }
    const auto positions = flat_positions(axes, a.shape);
    for (std::size_t i = 0; i < positions.size(); ++i)
      a.strings[static_cast<std::size_t>(positions[i])] = values[i];
  }

 private:
  // The caller holds the store's lock.
  void usable() const { context_->check_usable(*data_, path_); }

  // What `get` takes from the array, under the store's shared lock.
  template <class Get>
  std::invoke_result_t<Get, const ArrayData&> inspect(Get get) const {
    std::shared_lock lock(context_->mutex);
    usable();
    return get(*data_);
  }

  // Capacity for `size` elements: at least double what there was when it
  // runs out, so that growing one row at a time stays amortized O(1).
  template <class Vector>
  void reserve_geometric(Vector& v, std::size_t size) const {
    if (size <= v.capacity()) return;
    try {
      v.reserve(std::max(size, 2 * v.capacity()));
    } catch (const std::bad_alloc&) {
      try {
        v.reserve(size);  // no room to double: exactly what is needed
      } catch (const std::bad_alloc&) {
        throw Error(ErrorCode::io,
                    fmt::format("cannot hold {} elements in memory (allocation failed)", size),
                    context_->name, path_);
      }
    }
  }

  // The buffer resized to `bytes` bytes (the new ones not yet written).
  void grow(std::size_t bytes) {
    reserve_geometric(data_->bytes, bytes);
    data_->bytes.resize(bytes);
  }

  Context context_;
  std::shared_ptr<ArrayData> data_;
  std::string path_;
  std::unique_ptr<Attributes> attrs_;
};

}  // namespace

std::shared_ptr<ArrayData> new_array(const StoreContext& context, const std::string& path,
                                     const DatasetOptions& options) {
  const auto refuse = [&](ErrorCode code, const std::string& what) {
    return Error(code, what, context.name, path);
  };
  if (options.codec.id != "none") {
    throw refuse(ErrorCode::unsupported,
                 fmt::format("the memory driver holds arrays uncompressed; create the array with "
                             "codec 'none' (codec '{}' needs a driver that compresses, as hdf5)",
                             options.codec.id));
  }
  std::vector<std::byte> fill = check_new_dataset(options, context.name, path);
  if (!options.chunks.empty()) check_chunks(options.chunks, options, context.name, path);
  const std::size_t item = options.dtype.item_size();

  auto array = std::make_shared<ArrayData>();
  array->dtype = options.dtype;
  array->shape = options.shape;
  array->chunks = options.chunks;
  array->extendable = options.extendable;
  array->fill_value = options.dtype.is_fixed_size() ? element_to_json(options.dtype, fill.data())
                                                    : nlohmann::json();
  if (!options.dtype.is_native()) byteswap(fill.data(), 1, options.dtype);
  array->fill = std::move(fill);
  const auto elements = static_cast<std::size_t>(options.shape.num_elements());
  try {
    if (!options.dtype.is_fixed_size()) {
      array->strings.resize(elements);
    } else {
      array->bytes.resize(elements * item);  // zeros
      if (std::any_of(array->fill.begin(), array->fill.end(),
                      [](std::byte b) { return b != std::byte{0}; })) {
        for (std::size_t at = 0; at < array->bytes.size(); at += item)
          std::memcpy(array->bytes.data() + at, array->fill.data(), item);
      }
    }
  } catch (const std::bad_alloc&) {
    throw refuse(ErrorCode::io,
                 fmt::format("cannot hold {} elements of {} in memory (allocation failed)",
                             elements, options.dtype.name()));
  }
  return array;
}

std::shared_ptr<Dataset> make_dataset(Context context, std::shared_ptr<ArrayData> data,
                                      std::string path) {
  return std::make_shared<MemoryDataset>(std::move(context), std::move(data), std::move(path));
}

}  // namespace larder::store::memory
