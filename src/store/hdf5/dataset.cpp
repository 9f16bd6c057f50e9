// Hdf5Dataset: reading, writing, gathering and appending HDF5 datasets.
//
// Three read paths, fastest first:
//   chunked, filters larder runs itself  -> chunk addresses looked up under
//                                           the lock; pread, decode + scatter
//                                           on the TBB pool without it
//                                           (in-memory files: H5Dread_chunk)
//   contiguous, unfiltered, on disk      -> pread straight from the file
//   anything else (compact, fletcher32, strings, in-memory files)
//                                        -> H5Dread with a hyperslab selection
// Appends are crash-safe: see docs/formats/hdf5.md ("Appends").
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <list>
#include <mutex>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "../chunk_buffers.h"
#include "../chunk_plan.h"
#include "../driver_common.h"
#include "../file_io.h"
#include "../fixed_strings.h"
#include "driver.h"
#include "journal.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/core/parallel.h"
#include "larder/store/element_json.h"
#include "larder/store/hdf5_tree.h"
#include "pipeline.h"
#include "types.h"

namespace larder::store::hdf5 {
namespace {

constexpr std::size_t kBatchBytes = std::size_t{64} << 20;        // raw chunks read per lock hold
constexpr std::size_t kMaxLocations = std::size_t{1} << 20;       // chunk locations remembered
constexpr std::size_t kStoredSlackBytes = std::size_t{64} << 10;  // codec headers, at most

std::vector<hsize_t> to_hsize(std::span<const std::int64_t> v) {
  return {v.begin(), v.end()};
}

// Per-axis sorted, unique positions of a resolved selection: what libhdf5
// reads (in file order), and where each requested element lies among them.
struct FileOrder {
  std::vector<std::vector<std::int64_t>> unique;  // per axis, sorted
  Shape shape;                                    // what reading `unique` gives
  Selection order;  // picks the requested elements, in order, out of `shape`
};

FileOrder file_order(const std::vector<ResolvedAxis>& axes) {
  FileOrder result;
  std::vector<std::int64_t> dims;
  std::vector<AxisSelection> picks;
  for (const auto& a : axes) {
    std::vector<std::int64_t> positions(static_cast<std::size_t>(a.count));
    for (std::int64_t k = 0; k < a.count; ++k)
      positions[static_cast<std::size_t>(k)] = a.source_index(k);
    std::vector<std::int64_t> unique = positions;
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    for (std::int64_t& p : positions) {
      p = std::lower_bound(unique.begin(), unique.end(), p) - unique.begin();
    }
    picks.push_back(a.drops_axis ? AxisSelection::index(positions[0])
                                 : AxisSelection::indices(std::move(positions)));
    dims.push_back(static_cast<std::int64_t>(unique.size()));
    result.unique.push_back(std::move(unique));
  }
  result.shape = Shape(std::move(dims));
  result.order = Selection(std::move(picks));
  return result;
}

// A file dataspace selecting the cartesian product of `unique` positions,
// as a union of blocks of consecutive positions.
Handle select_file_space(hid_t dataset, const std::vector<std::vector<std::int64_t>>& unique) {
  Handle space = space_handle(H5Dget_space(dataset));
  const std::size_t rank = unique.size();
  if (rank == 0) return space;
  std::vector<std::vector<std::pair<hsize_t, hsize_t>>> runs(rank);  // start, length
  for (std::size_t a = 0; a < rank; ++a) {
    for (std::int64_t p : unique[a]) {
      auto& r = runs[a];
      if (!r.empty() && r.back().first + r.back().second == static_cast<hsize_t>(p)) {
        ++r.back().second;
      } else {
        r.emplace_back(static_cast<hsize_t>(p), 1);
      }
    }
    if (runs[a].empty()) {
      H5Sselect_none(space.get());
      return space;
    }
  }
  std::vector<std::size_t> index(rank, 0);
  std::vector<hsize_t> start(rank), count(rank);
  bool first = true;
  while (true) {
    for (std::size_t a = 0; a < rank; ++a) {
      start[a] = runs[a][index[a]].first;
      count[a] = runs[a][index[a]].second;
    }
    check(H5Sselect_hyperslab(space.get(), first ? H5S_SELECT_SET : H5S_SELECT_OR, start.data(),
                              nullptr, count.data(), nullptr),
          "cannot select elements");
    first = false;
    std::size_t a = rank;
    while (a > 0 && ++index[a - 1] == runs[a - 1].size())
      index[--a] = 0;
    if (a == 0) break;
  }
  return space;
}

// Copies every attribute of `from` to `to`, whatever its type.
void copy_attributes(hid_t from, hid_t to, const std::string& file, const std::string& path) {
  H5O_info_t info;
  check(H5Oget_info2(from, &info, H5O_INFO_NUM_ATTRS), "cannot list attributes", file, path);
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    Handle attr = attribute_handle(check_id(
        H5Aopen_by_idx(from, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
        "cannot open an attribute", file, path));
    if (!attr) continue;
    const ssize_t length = H5Aget_name(attr.get(), 0, nullptr);
    std::string name(static_cast<std::size_t>(std::max<ssize_t>(length, 0)), '\0');
    H5Aget_name(attr.get(), name.size() + 1, name.data());
    Handle type = type_handle(H5Aget_type(attr.get()));
    Handle memory = type_handle(H5Tget_native_type(type.get(), H5T_DIR_ASCEND));
    Handle space = space_handle(H5Aget_space(attr.get()));
    const auto n =
        static_cast<std::size_t>(std::max<hssize_t>(H5Sget_simple_extent_npoints(space.get()), 1));
    std::vector<std::byte> buffer(n * H5Tget_size(memory.get()));
    check(H5Aread(attr.get(), memory.get(), buffer.data()), "cannot read an attribute", file, path);
    Handle copy = attribute_handle(
        check_id(H5Acreate2(to, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                 "cannot copy an attribute", file, path));
    const herr_t written = H5Awrite(copy.get(), memory.get(), buffer.data());
    if (H5Tdetect_class(memory.get(), H5T_VLEN) > 0 || H5Tis_variable_str(memory.get()) > 0)
      H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, buffer.data());
    check(written, "cannot copy an attribute", file, path);
  }
}

class Hdf5Dataset final : public Dataset {
  friend void hdf5::settle_datasets(const Context& context);
  friend void hdf5::remove_dataset_side_data(const Context& context, const std::string& path);

 public:
  Hdf5Dataset(Context context, Handle id, std::string path)
      : context_(std::move(context)),
        id_(std::move(id)),
        path_(std::move(path)),
        attrs_(make_attributes(context_, id_.get(), path_)),
        cache_(context_->options.chunk_cache_bytes) {
    Hdf5Lock lock;
    load_metadata();
  }
  ~Hdf5Dataset() override {
    if (!context_->open) {
      id_.release();
    } else {
      try {
        settle();      // what a flush or close would have done
      } catch (...) {  // the journal keeps every committed row: the next open repairs
      }
    }
  }

  const std::string& path() const override { return path_; }
  const std::filesystem::path& store_path() const override { return context_->fs_path; }
  Attributes& attrs() override {
    context_->check_open(path_);
    return *attrs_;
  }

  // Known since the dataset was opened; like everything else, refused once
  // the store is closed.
  DType dtype() const override {
    context_->check_open(path_);
    return dtype_;
  }
  Shape shape() const override {
    context_->check_open(path_);
    return shape_;
  }
  std::vector<std::int64_t> chunks() const override {
    context_->check_open(path_);
    return chunks_;
  }
  std::optional<codec::CodecSpec> codec() const override {
    context_->check_open(path_);
    return pipeline_.codec();
  }
  bool shuffle_filter() const override {
    context_->check_open(path_);
    return pipeline_.shuffles_first();
  }
  bool extendable() const override {
    context_->check_open(path_);
    return extendable_;
  }
  nlohmann::json fill_value() const override {
    context_->check_open(path_);
    return element_to_json(dtype_, fill_.data());
  }

  StorageInfo storage_info() const override {
    context_->check_open(path_);
    std::lock_guard access(access_);
    Hdf5Lock lock;
    StorageInfo info;
    info.logical_bytes = static_cast<std::uint64_t>(shape_.num_elements()) * dtype_.item_size();
    info.stored_bytes = H5Dget_storage_size(id_.get());
    info.layout = layout_ == H5D_CHUNKED   ? "chunked"
                  : layout_ == H5D_COMPACT ? "compact"
                                           : "contiguous";
    info.filters = pipeline_.description();
    return info;
  }

  Array read(const Selection& selection) override {
    context_->check_open(path_);
    std::lock_guard access(access_);
    require_fixed_size("read");
    const auto axes = resolve(selection);
    Array out = Array::empty(dtype_.native(), result_shape(axes));
    if (out.num_elements() == 0) return out;
    if (chunked_direct()) {
      read_chunks(axes, out);
    } else if (contiguous_direct()) {
      read_contiguous(axes, out);
    } else {
      read_through_library(axes, out.data(), memory_type_.get(), out.dtype().item_size());
    }
    if (may_touch_tail(axes)) overlay_tail(axes, out);
    return out;
  }

  void write(const Selection& selection, ArrayView values) override {
    write_uncommitted(selection, values);
    commit();
  }

  // write() without its flush: for a caller that flushes next anyway.
  void write_uncommitted(const Selection& selection, ArrayView values) {
    context_->check_writable(path_);
    std::lock_guard access(access_);
    require_fixed_size("write");
    const auto axes = resolve(selection);
    check_values(values, result_shape(axes));
    const Array packed = packed_for(values, dtype_.native(), result_shape(axes));
    release_journal();
    if (chunked_direct()) {
      write_chunks(axes, packed);
    } else {
      write_through_library(axes, packed.data(), memory_type_.get(), packed.dtype().item_size());
    }
  }

  void append(ArrayView rows) override {
    context_->check_writable(path_);
    std::lock_guard access(access_);
    require_fixed_size("append");
    const std::int64_t count = rows_to_append(rows, shape_, extendable_, context_->name, path_);
    const Shape dims = shape_.with(0, count);
    check_values(rows, rows.shape());
    // Packed rows in native order: the caller's memory when it already is.
    const Array packed = packed_as(rows, dtype_.native());
    const ArrayView block(packed.data(), dtype_.native(), dims);
    if (block.num_elements() == 0) return;
    if (journaled_) {
      append_committed(block);
    } else if (chunked_direct()) {
      append_chunks(block);
      commit();
    } else {
      append_through_library(block);
    }
  }

  void resize(const Shape& shape) override {
    context_->check_writable(path_);
    std::lock_guard access(access_);
    check_resize(
        shape_, shape,
        [&](std::size_t a) {
          return layout_ == H5D_CHUNKED && (a == 0 ? extendable_ : max_[a] == H5S_UNLIMITED);
        },
        context_->name, path_);
    if (shape == shape_) return;  // libhdf5 refuses even this on a contiguous dataset
    release_journal();
    Hdf5Lock lock;
    const auto dims = to_hsize(shape.dims());
    check(H5Dset_extent(id_.get(), dims.data()), "cannot resize", context_->name, path_);
    shape_ = shape;
    cache_.clear();
    check(H5Fflush(context_->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context_->name, path_);
  }

  std::optional<Shape> sequence_item_shape() const override { return item_shape_; }

  Sequences read_sequences(std::span<const std::int64_t> rows) override {
    context_->check_open(path_);
    if (!item_shape_) return Dataset::read_sequences(rows);
    std::lock_guard access(access_);
    if (shape_.rank() != 1) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("variable-length dataset of shape {}: larder reads 1-D ones",
                              shape_.to_string()),
                  context_->name, path_);
    }
    for (const std::int64_t row : rows) {
      if (row < 0 || row >= shape_[0]) {
        throw Error(ErrorCode::out_of_range,
                    fmt::format("row {} is out of range for {} sequences", row, shape_[0]),
                    context_->name, path_);
      }
    }
    std::vector<std::int64_t> unique(rows.begin(), rows.end());
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());

    // The unique rows' items, back to back, read in blocks of rows.
    const std::size_t item_bytes =
        static_cast<std::size_t>(item_shape_->num_elements()) * dtype_.item_size();
    std::vector<std::int64_t> starts{0};  // in items, per unique row (+1)
    std::vector<std::byte> items;
    constexpr std::size_t kBlock = 1 << 16;
    for (std::size_t first = 0; first < unique.size(); first += kBlock) {
      const std::span<const std::int64_t> block(unique.data() + first,
                                                std::min(kBlock, unique.size() - first));
      std::vector<hvl_t> sequences(block.size());
      Hdf5Lock lock;
      Handle file_space = space_handle(H5Dget_space(id_.get()));
      if (block.back() - block.front() + 1 == static_cast<std::int64_t>(block.size())) {
        const hsize_t start = static_cast<hsize_t>(block.front()), count = block.size();
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
      } else {
        const auto coords = to_hsize(block);
        H5Sselect_elements(file_space.get(), H5S_SELECT_SET, coords.size(), coords.data());
      }
      const hsize_t count = block.size();
      Handle memory_space = space_handle(H5Screate_simple(1, &count, nullptr));
      check(H5Dread(id_.get(), memory_type_.get(), memory_space.get(), file_space.get(),
                    H5P_DEFAULT, sequences.data()),
            "cannot read variable-length sequences", context_->name, path_);
      for (const hvl_t& sequence : sequences) {
        const auto* p = static_cast<const std::byte*>(sequence.p);
        if (sequence.len > 0) items.insert(items.end(), p, p + sequence.len * item_bytes);
        starts.push_back(starts.back() + static_cast<std::int64_t>(sequence.len));
      }
      H5Dvlen_reclaim(memory_type_.get(), memory_space.get(), H5P_DEFAULT, sequences.data());
    }

    std::vector<std::int64_t> dims{starts.back()};
    dims.insert(dims.end(), item_shape_->begin(), item_shape_->end());
    if (std::equal(rows.begin(), rows.end(), unique.begin(), unique.end())) {
      // Ascending without repeats (a range): the items read are the answer.
      auto held = std::make_shared<std::vector<std::byte>>(std::move(items));
      return {.values = Array::adopt(dtype_.native(), Shape(std::move(dims)),
                                     std::shared_ptr<std::byte>(held, held->data())),
              .offsets = std::move(starts)};
    }
    // The rows asked for, in their order.
    Sequences out;
    out.offsets.reserve(rows.size() + 1);
    out.offsets.push_back(0);
    std::vector<std::size_t> at(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      at[i] = static_cast<std::size_t>(std::lower_bound(unique.begin(), unique.end(), rows[i]) -
                                       unique.begin());
      out.offsets.push_back(out.offsets.back() + starts[at[i] + 1] - starts[at[i]]);
    }
    dims[0] = out.offsets.back();
    out.values = Array::empty(dtype_.native(), Shape(std::move(dims)));
    std::byte* to = out.values.data();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto begin = static_cast<std::size_t>(starts[at[i]]) * item_bytes;
      const auto size = static_cast<std::size_t>(starts[at[i] + 1] - starts[at[i]]) * item_bytes;
      if (size > 0) std::memcpy(to, items.data() + begin, size);
      to += size;
    }
    return out;
  }

  std::vector<std::string> read_strings(const Selection& selection) override {
    context_->check_open(path_);
    require_strings(dtype_, "read_strings", context_->name, path_);
    const auto axes = resolve(selection);
    const auto n = static_cast<std::size_t>(result_shape(axes).num_elements());
    if (dtype_.kind() == DTypeKind::string) {
      Array fixed = Array::empty(dtype_, result_shape(axes));
      if (n > 0) read_through_library(axes, fixed.data(), memory_type_.get(), dtype_.item_size());
      return unpack_fixed_strings(fixed);
    }
    std::vector<std::string> out;
    out.reserve(n);
    std::vector<char*> pointers(n, nullptr);
    if (n > 0)
      read_through_library(axes, reinterpret_cast<std::byte*>(pointers.data()), memory_type_.get(),
                           sizeof(char*));
    for (char* p : pointers)
      out.emplace_back(p == nullptr ? "" : p);
    // A selection that repeats a position hands out its string once per
    // repeat, all the same pointer: each string libhdf5 allocated is freed once.
    std::sort(pointers.begin(), pointers.end());
    pointers.erase(std::unique(pointers.begin(), pointers.end()), pointers.end());
    if (!pointers.empty()) {
      Hdf5Lock lock;
      const hsize_t count = pointers.size();
      Handle space = space_handle(H5Screate_simple(1, &count, nullptr));
      H5Dvlen_reclaim(memory_type_.get(), space.get(), H5P_DEFAULT, pointers.data());
    }
    return out;
  }

  void write_strings(const Selection& selection, const std::vector<std::string>& values) override {
    context_->check_writable(path_);
    require_strings(dtype_, "write_strings", context_->name, path_);
    const auto axes = resolve(selection);
    check_string_count(values.size(), result_shape(axes).num_elements(), context_->name, path_);
    if (dtype_.kind() == DTypeKind::string) {
      const Array fixed =
          pack_fixed_strings(dtype_, values, result_shape(axes), context_->name, path_);
      write_through_library(axes, fixed.data(), memory_type_.get(), dtype_.item_size());
    } else {
      std::vector<const char*> pointers;
      for (const auto& v : values)
        pointers.push_back(v.c_str());
      write_through_library(axes, reinterpret_cast<std::byte*>(pointers.data()), memory_type_.get(),
                            sizeof(char*));
    }
    commit();
  }

 private:
  // ---- metadata -----------------------------------------------------------

  void load_metadata() {
    Handle type = type_handle(H5Dget_type(id_.get()));
    if (H5Tget_class(type.get()) == H5T_VLEN) {
      load_sequence_type(type.get());
    } else {
      dtype_ = dtype_of(type.get(), context_->name, path_);
      memory_type_ = memory_type_for(dtype_);
    }
    if (dtype_.kind() == DTypeKind::vstring) {
      memory_type_ = type_handle(H5Tcopy(H5T_C_S1));
      H5Tset_size(memory_type_.get(), H5T_VARIABLE);
      H5Tset_cset(memory_type_.get(), H5Tget_cset(type.get()));
    }
    Handle space = space_handle(H5Dget_space(id_.get()));
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    max_.assign(dims.size(), 0);
    H5Sget_simple_extent_dims(space.get(), dims.data(), max_.data());
    shape_ = Shape(std::vector<std::int64_t>(dims.begin(), dims.end()));
    extendable_ = rank > 0 && max_[0] == H5S_UNLIMITED;

    Handle dcpl = plist_handle(H5Dget_create_plist(id_.get()));
    layout_ = H5Pget_layout(dcpl.get());
    if (layout_ == H5D_CHUNKED) {
      std::vector<hsize_t> c(dims.size());
      H5Pget_chunk(dcpl.get(), rank, c.data());
      chunks_.assign(c.begin(), c.end());
    }
    pipeline_ = Pipeline::from_dcpl(dcpl.get(), dtype_.is_fixed_size() ? dtype_.item_size() : 1);

    fill_.assign(std::max<std::size_t>(dtype_.item_size(), 1), std::byte{0});
    H5D_fill_value_t defined;
    if (dtype_.is_fixed_size() && !item_shape_ &&
        H5Pfill_value_defined(dcpl.get(), &defined) >= 0 &&
        defined == H5D_FILL_VALUE_USER_DEFINED) {
      Handle file_type = type_for(dtype_);
      H5Pget_fill_value(dcpl.get(), file_type.get(), fill_.data());
    }
    H5Eclear2(H5E_DEFAULT);

    // Appends go through a journal for chunked, extendable datasets of an
    // on-disk file (not one an external link leads to).
    journaled_ = chunked_direct() && extendable_ && AppendJournal::supported(context_) &&
                 chunk_base().has_value();
    if (journaled_) open_journal();
  }

  // A variable-length type: the sequences' items are dtype_, each of shape
  // item_shape_ (an HDF5 array type, as PyTables writes for shaped atoms).
  void load_sequence_type(hid_t type) {
    Handle item = type_handle(H5Tget_super(type));
    Shape item_shape;
    Handle element = type_handle(H5Tcopy(item.get()));
    if (H5Tget_class(item.get()) == H5T_ARRAY) {
      const int rank = H5Tget_array_ndims(item.get());
      std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
      H5Tget_array_dims2(item.get(), dims.data());
      item_shape = Shape(std::vector<std::int64_t>(dims.begin(), dims.end()));
      element = type_handle(H5Tget_super(item.get()));
    }
    dtype_ = dtype_of(element.get(), context_->name, path_);
    if (!dtype_.is_fixed_size()) {
      throw Error(ErrorCode::unsupported,
                  "variable-length sequences of variable-length strings are not read",
                  context_->name, path_);
    }
    Handle memory_item = memory_type_for(dtype_);
    if (item_shape.rank() > 0) {
      const auto dims = to_hsize(item_shape.dims());
      memory_item = type_handle(
          H5Tarray_create2(memory_item.get(), static_cast<unsigned>(dims.size()), dims.data()));
    }
    memory_type_ = type_handle(H5Tvlen_create(memory_item.get()));
    item_shape_ = std::move(item_shape);
  }

  bool chunked_direct() const {
    return layout_ == H5D_CHUNKED && pipeline_.direct() && dtype_.is_fixed_size() && !item_shape_;
  }
  bool contiguous_direct() const {
    return layout_ == H5D_CONTIGUOUS && pipeline_.empty() && dtype_.is_fixed_size() &&
           !item_shape_ && !context_->options.in_memory;
  }
  std::int64_t block_rows() const { return chunks_.empty() ? 1 : chunks_[0]; }
  std::int64_t chunk_elements() const {
    return std::accumulate(chunks_.begin(), chunks_.end(), std::int64_t{1}, std::multiplies<>());
  }
  std::size_t chunk_bytes() const {
    return static_cast<std::size_t>(chunk_elements()) * dtype_.item_size();
  }

  std::vector<ResolvedAxis> resolve(const Selection& selection) const {
    return resolve_selection(selection, shape_, context_->name, path_);
  }

  void require_fixed_size(std::string_view what) const {
    if (item_shape_) {
      throw Error(ErrorCode::type_mismatch,
                  fmt::format("{} on a dataset of variable-length sequences of {}: open it as "
                              "ragged records (read_sequences)",
                              what, dtype_.name()),
                  context_->name, path_);
    }
    store::require_fixed_size(dtype_, what, context_->name, path_);
  }

  void check_values(ArrayView values, const Shape& wanted) const {
    store::check_values(values, dtype_, wanted, context_->name, path_);
  }

  // ---- chunked path ---------------------------------------------------------

  // False when the rows are a slice that ends before the unfinished block,
  // which spares a scan's every read a look at each of its rows.
  bool may_touch_tail(const std::vector<ResolvedAxis>& axes) const {
    if (tail_count() == 0 || axes.empty()) return false;
    const ResolvedAxis& rows = axes[0];
    if (rows.is_list) return true;
    const std::int64_t last =
        rows.step > 0 ? rows.start + (rows.count - 1) * rows.step : rows.start;
    return rows.count > 0 && last >= tail_base();
  }

  std::int64_t chunk_key(std::span<const std::int64_t> coords) const {
    std::int64_t key = 0;
    for (std::size_t a = 0; a < coords.size(); ++a) {
      const std::int64_t per_axis =
          (std::max<std::int64_t>(shape_[a], 1) + chunks_[a] - 1) / chunks_[a] + 1;
      key = key * per_axis + coords[a];
    }
    return key;
  }

  // A chunk as stored: its bytes and filter mask; empty when never written.
  struct Stored {
    std::vector<std::byte> bytes;
    std::uint32_t mask = 0;
    bool present = false;
  };

  Stored read_stored(std::span<const std::int64_t> coords) const {
    Stored s;
    std::vector<hsize_t> offset(coords.size());
    for (std::size_t a = 0; a < coords.size(); ++a)
      offset[a] = static_cast<hsize_t>(coords[a] * chunks_[a]);
    hsize_t size = 0;
    if (H5Dget_chunk_storage_size(id_.get(), offset.data(), &size) < 0) {
      // libhdf5 1.10 fails this for a chunk never written ("chunk storage is
      // not allocated"), which reads as fill values. Any other failure means
      // the chunk index cannot be followed (a B-tree node past the end of the
      // file...): fill values would be zeros passed off as data.
      const std::string stack = error_stack();
      if (stack.find("not allocated") != std::string::npos) return s;
      throw Error(ErrorCode::corrupt,
                  fmt::format("cannot locate the chunk at row {} ({})", offset[0], stack),
                  context_->name, path_);
    }
    if (size == 0) return s;
    s.bytes.resize(size);
    check(H5Dread_chunk(id_.get(), H5P_DEFAULT, offset.data(), &s.mask, s.bytes.data()),
          "cannot read a chunk", context_->name, path_);
    s.present = true;
    return s;
  }

  // Decodes a stored chunk into native byte order (fill value if absent).
  std::vector<std::byte> decode_chunk(const Stored& s) const {
    std::vector<std::byte> chunk(chunk_bytes());
    decode_into(s.present ? std::optional(std::span<const std::byte>(s.bytes)) : std::nullopt,
                s.mask, chunk);
    return chunk;
  }

  // Decodes `stored` (nullopt: a chunk never written) into `chunk`, in
  // native byte order.
  void decode_into(std::optional<std::span<const std::byte>> stored, unsigned mask,
                   std::span<std::byte> chunk) const {
    if (!stored) {
      fill_chunk(chunk);
    } else {
      try {
        pipeline_.decode(*stored, mask, chunk);
      } catch (const Error& e) {
        throw e.at(context_->name, path_);
      }
    }
    if (!dtype_.is_native())
      byteswap(chunk.data(), static_cast<std::size_t>(chunk_elements()), dtype_);
  }

  void fill_chunk(std::span<std::byte> chunk) const {
    std::vector<std::byte> native = fill_;
    if (!dtype_.is_native()) byteswap(native.data(), 1, dtype_);
    const bool zero =
        std::all_of(native.begin(), native.end(), [](std::byte b) { return b == std::byte{0}; });
    if (zero) {
      std::memset(chunk.data(), 0, chunk.size());
      return;
    }
    for (std::size_t i = 0; i + native.size() <= chunk.size(); i += native.size()) {
      std::memcpy(chunk.data() + i, native.data(), native.size());
    }
  }

  // Where a chunk's stored bytes lie in the data file; size 0 for a chunk
  // never written, which reads as the fill value.
  struct Location {
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    unsigned mask = 0;
  };

  // The caller holds the lock. In a store opened for reading nothing in this
  // process moves a chunk, so locations are remembered.
  Location locate(std::span<const std::int64_t> coords) {
    if (!recovered_.empty()) {  // lost by a killed writer's torn index: the journal knows
      const auto it = recovered_.find(chunk_index(coords));
      if (it != recovered_.end()) {
        const ChunkRecord& r = it->second;
        return r.address == ChunkRecord::kNone ? Location{} : Location{r.address, r.size, r.mask};
      }
    }
    const std::int64_t key = chunk_key(coords);
    const bool remember = !is_writable(context_->mode);
    if (remember) {
      if (auto it = locations_.find(key); it != locations_.end()) return it->second;
      if (whole_index()) {  // just read, or the chunk is listed nowhere: never written
        const auto it = locations_.find(key);
        return it == locations_.end() ? Location{} : it->second;
      }
    }
    std::vector<hsize_t> offset(coords.size());
    for (std::size_t a = 0; a < coords.size(); ++a)
      offset[a] = static_cast<hsize_t>(coords[a] * chunks_[a]);
    unsigned mask = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t size = 0;
    if (H5Dget_chunk_info_by_coord(id_.get(), offset.data(), &mask, &address, &size) < 0) {
      // The chunk index cannot be followed (a B-tree node past the end of
      // the file...): fill values would be zeros passed off as data.
      throw Error(ErrorCode::corrupt,
                  fmt::format("cannot locate the chunk at row {} ({})",
                              offset.empty() ? 0 : offset[0], error_stack()),
                  context_->name, path_);
    }
    Location where;
    if (address != HADDR_UNDEF && size > 0) where = {address, size, mask};
    if (remember) {
      if (locations_.size() >= kMaxLocations) locations_.clear();
      locations_.emplace(key, where);
    }
    return where;
  }

  // Whether locations_ holds the dataset's whole chunk index, read at once
  // from the file (store/hdf5_tree.h) at the first lookup. libhdf5 1.10.8
  // answers H5Dget_chunk_info_by_coord by iterating over the whole index (14
  // us per lookup at 2,000 chunks, 60 at 8,000), so reading the index once
  // costs about what a single lookup does. Files whose index is not a
  // version 1 B-tree, and indexes of more than kMaxLocations chunks, keep
  // the lookups. The caller holds the lock; reading only, and only chunks in
  // this store's own file.
  bool whole_index() {
    if (index_ != Index::unread) return index_ == Index::whole;
    std::int64_t total = 1;
    for (std::size_t a = 0; a < shape_.rank(); ++a) {
      total *= std::max<std::int64_t>((shape_[a] + chunks_[a] - 1) / chunks_[a], 1);
      if (total > static_cast<std::int64_t>(kMaxLocations)) {
        index_ = Index::unreadable;
        return false;
      }
    }
    index_ = Index::unreadable;
    if (!chunk_base()) return false;
    data_fd();
    auto index = read_hdf5_chunk_index(fd_, object_address(), static_cast<std::size_t>(total));
    if (!index || index->chunk_shape.size() != shape_.rank()) return false;
    for (std::size_t a = 0; a < shape_.rank(); ++a) {
      if (index->chunk_shape[a] != static_cast<std::uint64_t>(chunks_[a])) return false;
    }
    locations_.clear();
    std::vector<std::int64_t> coords(shape_.rank());
    for (const Hdf5StoredChunk& c : index->chunks) {
      bool inside = true;
      for (std::size_t a = 0; a < coords.size(); ++a) {
        coords[a] = static_cast<std::int64_t>(c.offset[a]) / chunks_[a];
        inside = inside && coords[a] * chunks_[a] < std::max<std::int64_t>(shape_[a], 1);
      }
      // Past the extent (left by a shrink): never read, and its key could
      // alias a chunk inside.
      if (inside) locations_.emplace(chunk_key(coords), Location{c.address, c.size, c.filter_mask});
    }
    index_ = Index::whole;
    return true;
  }

  // Whether chunk bytes can be read from the data file with pread, and the
  // offset of libhdf5's chunk addresses in it (they do not count a user
  // block). Not for an in-memory file, nor for a dataset an external link
  // leads to (its file's user block is out of reach). The caller holds the
  // lock.
  std::optional<std::uint64_t> chunk_base() {
    if (!chunk_base_) {
      chunk_base_.emplace();
      hsize_t user_block = 0;
      Handle fcpl = plist_handle(H5Fget_create_plist(context_->file.get()));
      if (!context_->options.in_memory && fcpl && H5Pget_userblock(fcpl.get(), &user_block) >= 0 &&
          file_name(id_.get()) == file_name(context_->file.get())) {
        *chunk_base_ = user_block;
      }
      H5Eclear2(H5E_DEFAULT);
    }
    return *chunk_base_;
  }

  static std::string file_name(hid_t id) {
    std::string name;
    const ssize_t length = H5Fget_name(id, nullptr, 0);
    if (length > 0) {
      name.resize(static_cast<std::size_t>(length) + 1);
      H5Fget_name(id, name.data(), name.size());
      name.resize(static_cast<std::size_t>(length));
    }
    return name;
  }

  // The file holding this dataset's bytes, opened once for pread. The
  // caller holds the lock.
  int data_fd() {
    if (data_file_) return data_file_->fd();
    // Not always this store's file: an external link leads elsewhere.
    std::string name = file_name(id_.get());
    H5Eclear2(H5E_DEFAULT);
    if (name.empty()) name = context_->name;
    std::shared_ptr<ReadOnlyFile>& shared = context_->data_files[name];
    data_file_ = shared;
    if (!data_file_) {
      try {
        data_file_ = std::make_shared<ReadOnlyFile>(name);
      } catch (const Error& e) {
        throw e.at(context_->name, path_);
      }
      shared = data_file_;
    }
    fd_ = data_file_->fd();
    return fd_;
  }

  // Reads exactly `into.size()` bytes at `offset` of the data file.
  void pread_exact(std::span<std::byte> into, std::uint64_t offset) const {
    if (read_at(fd_, into, offset, context_->name, path_) < into.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("the file ends before the dataset's data (offset {})", offset),
                  context_->name, path_);
    }
  }

  std::uint64_t data_file_size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      throw Error(ErrorCode::io, fmt::format("cannot stat the data file: {}", std::strerror(errno)),
                  context_->name, path_);
    }
    return static_cast<std::uint64_t>(st.st_size);
  }

  // Reads the chunks a selection touches. On disk, chunk locations are
  // looked up under the HDF5 lock and everything else runs on the TBB pool
  // without it: pread of the stored bytes, decoding, scattering. Unfiltered
  // chunks are read run by run straight into `out` (or whole, when the runs
  // are many); a chunk that lands whole on one stretch of `out` is decoded
  // straight into it. Other decoded chunks pass through per-thread scratch,
  // or go to the cache. In-memory files read raw chunks through
  // H5Dread_chunk, in batches under the lock.
  void read_chunks(const std::vector<ResolvedAxis>& axes, Array& out) {
    const ChunkPlan plan(axes, shape_, chunks_);
    const std::size_t item = out.dtype().item_size();
    const std::size_t bytes = chunk_bytes();
    struct Job {
      std::vector<std::int64_t> coords;
      std::vector<const ChunkPlan::Group*> groups;
      DecodedChunk decoded;  // from the cache, or to put in it
      bool keep = false;     // decode into `decoded` and cache it
      Location where;
      Stored stored;  // through libhdf5
    };
    std::vector<Job> jobs;
    // The unfinished block's rows come from the tail slot (overlay_tail);
    // its chunk row in the dataset may be torn after a crash: never read it.
    const std::int64_t skip_from = tail_count() > 0 ? tail_base() / block_rows() : INT64_MAX;
    plan.for_each_chunk(
        [&](std::span<const std::int64_t> coords, std::span<const ChunkPlan::Group* const> groups) {
          if (coords[0] >= skip_from) return;
          Job& job = jobs.emplace_back();
          job.coords.assign(coords.begin(), coords.end());
          job.groups.assign(groups.begin(), groups.end());
          job.decoded = cache_.get(chunk_key(coords));
        });
    bool from_file = false;
    std::uint64_t file_size = 0;
    {
      Hdf5Lock lock;
      if (const auto base = chunk_base()) {
        from_file = true;
        data_fd();
        flush_buffered_writes();
        file_size = data_file_size();
        for (Job& job : jobs) {
          if (job.decoded) continue;
          job.where = locate(job.coords);
          job.where.address += *base;
        }
      }
    }
    // The cache keeps decoded chunks that a read used in part, for the next
    // read of the same window. Unfiltered chunks on disk are read as fast as
    // a cached copy, and chunks decoded whole into `out` are done with. A
    // read whose chunks would overflow the cache is a scan or a scattered
    // gather: it goes around the cache rather than evict the window.
    if (!(from_file && pipeline_.empty())) {
      std::size_t wanted = 0;
      for (Job& job : jobs) {
        job.keep = !job.decoded && !plan.whole_chunk(job.groups);
        wanted += job.keep ? bytes : 0;
      }
      if (wanted > cache_.budget()) {
        for (Job& job : jobs)
          job.keep = false;
      }
    }

    auto run_job = [&](Job& job) {
      if (job.decoded) {  // from the cache
        plan.copy(job.groups, job.decoded.data(), out.data(), item, false);
        return;
      }
      std::optional<std::span<const std::byte>> stored;
      std::optional<Scratch> raw;
      if (!from_file) {
        if (job.stored.present) stored = job.stored.bytes;
      } else if (job.where.size > 0) {
        if (job.where.address > file_size || job.where.size > file_size - job.where.address) {
          throw Error(ErrorCode::corrupt,
                      fmt::format("the chunk at row {} ({} bytes at offset {}) lies past the end "
                                  "of the file",
                                  job.coords[0] * chunks_[0], job.where.size, job.where.address),
                      context_->name, path_);
        }
        // No codec grows a chunk this much: a size from a damaged index
        // must not become an allocation.
        if (job.where.size > 2 * bytes + kStoredSlackBytes) {
          throw Error(ErrorCode::corrupt,
                      fmt::format("the chunk at row {} is stored in {} bytes, too many for {}",
                                  job.coords[0] * chunks_[0], job.where.size, bytes),
                      context_->name, path_);
        }
        if (pipeline_.empty()) {
          if (job.where.size != bytes) {
            throw Error(ErrorCode::corrupt,
                        fmt::format("unfiltered chunk at row {} of {} bytes, expected {}",
                                    job.coords[0] * chunks_[0], job.where.size, bytes),
                        context_->name, path_);
          }
          std::size_t runs = 0;
          plan.for_each_run(job.groups, [&](const ChunkPlan::Run&) { ++runs; });
          if (runs * kPreadCallBytes < bytes) {
            plan.for_each_run(job.groups, [&](const ChunkPlan::Run& r) {
              const std::span<std::byte> target(out.data() + r.array * item, r.count * item);
              pread_exact(target, job.where.address + r.chunk * item);
              if (!dtype_.is_native()) byteswap(target.data(), target.size() / item, dtype_);
            });
            return;
          }
          // Many scattered runs: one read of the whole chunk is cheaper.
          const Scratch chunk(Scratch::decoded, bytes);
          pread_exact(chunk.bytes(), job.where.address);
          if (!dtype_.is_native())
            byteswap(chunk.bytes().data(), static_cast<std::size_t>(chunk_elements()), dtype_);
          plan.copy(job.groups, chunk.bytes().data(), out.data(), item, false);
          return;
        }
        raw.emplace(Scratch::raw, job.where.size);
        pread_exact(raw->bytes(), job.where.address);
        stored = raw->bytes();
      }
      const unsigned mask = from_file ? job.where.mask : job.stored.mask;
      if (job.keep) {
        job.decoded = DecodedChunk::allocate(bytes);
        decode_into(stored, mask, {job.decoded.data(), bytes});
        plan.copy(job.groups, job.decoded.data(), out.data(), item, false);
      } else if (const auto whole = plan.whole_chunk(job.groups)) {
        decode_into(stored, mask, {out.data() + whole->array * item, bytes});
      } else {
        const Scratch decoded(Scratch::decoded, bytes);
        decode_into(stored, mask, decoded.bytes());
        plan.copy(job.groups, decoded.bytes().data(), out.data(), item, false);
      }
    };

    // Chunks write disjoint parts of the output (a repeated index writes the
    // same value twice).
    std::size_t begin = 0;
    while (begin < jobs.size()) {
      std::size_t end = jobs.size();
      if (!from_file) {
        Hdf5Lock lock;
        std::size_t batch = 0;
        for (end = begin; end < jobs.size() && batch < kBatchBytes; ++end) {
          if (jobs[end].decoded) continue;
          jobs[end].stored = read_stored(jobs[end].coords);
          batch += std::max(jobs[end].stored.bytes.size(), bytes);
        }
      }
      parallel_for(static_cast<std::int64_t>(end - begin), 1, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i)
          run_job(jobs[begin + static_cast<std::size_t>(i)]);
      });
      for (std::size_t i = begin; i < end; ++i) {
        if (jobs[i].keep && jobs[i].decoded)
          cache_.put(chunk_key(jobs[i].coords), std::move(jobs[i].decoded));
        jobs[i].stored = Stored();
        jobs[i].decoded = {};
      }
      begin = end;
    }
  }

  // `replace`: chunks not fully covered are rebuilt from the fill value, not
  // read first — for the unfinished block, whose stored chunk may be torn.
  // `written`, if given, receives each chunk's index and location.
  void write_chunks(const std::vector<ResolvedAxis>& axes, const Array& values,
                    bool replace = false,
                    std::vector<std::pair<std::int64_t, ChunkRecord>>* written = nullptr) {
    const ChunkPlan plan(axes, shape_, chunks_);
    struct Job {
      std::vector<std::int64_t> coords;
      std::vector<const ChunkPlan::Group*> groups;
      bool covered;
      Stored stored;
      std::vector<std::byte> encoded;
    };
    std::vector<Job> jobs;
    {
      Hdf5Lock lock;
      plan.for_each_chunk([&](std::span<const std::int64_t> coords,
                              std::span<const ChunkPlan::Group* const> groups) {
        Job job{{coords.begin(), coords.end()},
                {groups.begin(), groups.end()},
                replace || plan.covers(coords, groups),
                {},
                {}};
        if (!job.covered) job.stored = read_stored(coords);  // read-modify-write
        jobs.push_back(std::move(job));
      });
    }
    parallel_for(static_cast<std::int64_t>(jobs.size()), 1, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        Job& job = jobs[static_cast<std::size_t>(i)];
        std::vector<std::byte> chunk;
        if (job.covered) {
          chunk.resize(chunk_bytes());
          fill_chunk(chunk);
        } else {
          chunk = decode_chunk(job.stored);
        }
        plan.copy(job.groups, chunk.data(), const_cast<std::byte*>(values.data()),
                  dtype_.item_size(), true);
        if (!dtype_.is_native())
          byteswap(chunk.data(), static_cast<std::size_t>(chunk_elements()), dtype_);
        job.encoded = pipeline_.encode(chunk);
      }
    });
    Hdf5Lock lock;
    for (Job& job : jobs) {
      std::vector<hsize_t> offset(job.coords.size());
      for (std::size_t a = 0; a < offset.size(); ++a)
        offset[a] = static_cast<hsize_t>(job.coords[a] * chunks_[a]);
      check(H5Dwrite_chunk(id_.get(), H5P_DEFAULT, 0, offset.data(), job.encoded.size(),
                           job.encoded.data()),
            "cannot write a chunk", context_->name, path_);
      cache_.erase(chunk_key(job.coords));
      if (written != nullptr) {
        written->emplace_back(chunk_index(job.coords), written_chunk(offset));
      }
    }
  }

  // ---- contiguous path --------------------------------------------------------

  void read_contiguous(const std::vector<ResolvedAxis>& axes, Array& out) {
    haddr_t offset;
    {
      Hdf5Lock lock;
      flush_buffered_writes();
      offset = H5Dget_offset(id_.get());
      H5Eclear2(H5E_DEFAULT);
      if (offset != HADDR_UNDEF) data_fd();
    }
    if (offset == HADDR_UNDEF) {  // never written: all fill
      fill_chunk(out.bytes());
      return;
    }
    // Rows of the whole dataset are consecutive: read each selected run of
    // elements with pread, straight into the output.
    const std::size_t item = dtype_.item_size();
    const auto strides = c_strides(shape_, item);
    // Collect (file offset, output offset, length) runs, then read them in parallel.
    struct Run {
      std::uint64_t file;
      std::uint64_t out;
      std::uint64_t bytes;
    };
    std::vector<Run> runs;
    const std::size_t rank = axes.size();
    std::vector<std::int64_t> out_strides(rank, 0);
    {
      std::int64_t s = 1;
      for (std::size_t a = rank; a-- > 0;) {
        if (axes[a].drops_axis) continue;
        out_strides[a] = s;
        s *= axes[a].count;
      }
    }
    auto recurse = [&](auto&& self, std::size_t a, std::uint64_t file_off,
                       std::uint64_t out_off) -> void {
      const ResolvedAxis& ax = axes[a];
      if (a + 1 == rank) {
        if (!ax.is_list && ax.step == 1) {
          runs.push_back({file_off + static_cast<std::uint64_t>(ax.start) * item, out_off * item,
                          static_cast<std::uint64_t>(ax.count) * item});
          return;
        }
        for (std::int64_t k = 0; k < ax.count; ++k) {
          runs.push_back({file_off + static_cast<std::uint64_t>(ax.source_index(k)) * item,
                          (out_off + static_cast<std::uint64_t>(k * out_strides[a])) * item, item});
        }
        return;
      }
      for (std::int64_t k = 0; k < ax.count; ++k) {
        self(self, a + 1, file_off + static_cast<std::uint64_t>(ax.source_index(k) * strides[a]),
             out_off + static_cast<std::uint64_t>(k * out_strides[a]));
      }
    };
    if (rank == 0) {
      runs.push_back({0, 0, item});
    } else {
      recurse(recurse, 0, 0, 0);
    }
    // Merge runs that continue one another (whole rows of a row slice).
    std::vector<Run> merged;
    for (const Run& r : runs) {
      if (!merged.empty() && merged.back().file + merged.back().bytes == r.file &&
          merged.back().out + merged.back().bytes == r.out) {
        merged.back().bytes += r.bytes;
      } else {
        merged.push_back(r);
      }
    }
    const auto read_runs = [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const Run& r = merged[static_cast<std::size_t>(i)];
        pread_exact({out.data() + r.out, r.bytes}, offset + r.file);
      }
    };
    // One run (a whole array, a row slice) is one pread: no pool round trip.
    if (merged.size() == 1) {
      read_runs(0, 1);
    } else {
      parallel_for(static_cast<std::int64_t>(merged.size()), 256, read_runs);
    }
    if (!dtype_.is_native())
      byteswap(out.data(), static_cast<std::size_t>(out.num_elements()), dtype_);
  }

  // ---- through libhdf5 ---------------------------------------------------------

  // Slices with positive steps and single indices: one hyperslab, elements
  // already in the caller's order, no remapping.
  static bool is_regular(const std::vector<ResolvedAxis>& axes) {
    return std::all_of(axes.begin(), axes.end(),
                       [](const ResolvedAxis& a) { return !a.is_list && a.step > 0; });
  }

  Handle regular_file_space(const std::vector<ResolvedAxis>& axes) const {
    Handle space = space_handle(H5Dget_space(id_.get()));
    if (axes.empty()) return space;
    std::vector<hsize_t> start, stride, count;
    for (const auto& a : axes) {
      start.push_back(static_cast<hsize_t>(a.start));
      stride.push_back(static_cast<hsize_t>(a.step));
      count.push_back(static_cast<hsize_t>(a.count));
    }
    check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), stride.data(),
                              count.data(), nullptr),
          "cannot select elements", context_->name, path_);
    return space;
  }

  void read_through_library(const std::vector<ResolvedAxis>& axes, std::byte* out,
                            hid_t memory_type, std::size_t item) {
    through_library(axes, out, memory_type, item, false);
  }

  void write_through_library(const std::vector<ResolvedAxis>& axes, const std::byte* values,
                             hid_t memory_type, std::size_t item) {
    through_library(axes, const_cast<std::byte*>(values), memory_type, item, true);
    cache_.clear();
    buffered_writes_ = true;
  }

  // Before reading the file with pread: what libhdf5 still buffers of
  // writes through it goes to the file. The caller holds the lock.
  void flush_buffered_writes() {
    if (!buffered_writes_) return;
    check(H5Dflush(id_.get()), "cannot flush", context_->name, path_);
    buffered_writes_ = false;
  }

  // Moves the selected elements between `data` (C order, the selection's
  // shape) and the file through libhdf5's own H5Dread/H5Dwrite. A regular
  // selection is one hyperslab in the caller's order; any other is read or
  // written as its sorted unique positions and reordered in memory by
  // take()/put() on the elements as opaque bytes (with repeated indices the
  // last value written wins, as in numpy).
  void through_library(const std::vector<ResolvedAxis>& axes, std::byte* data, hid_t memory_type,
                       std::size_t item, bool write) {
    const DType opaque = DType::string(item);
    if (is_regular(axes)) {
      Hdf5Lock lock;
      transfer(regular_file_space(axes), result_shape(axes).num_elements(), axes.empty(), data,
               memory_type, write);
      return;
    }
    const FileOrder file = file_order(axes);
    Array buffer = Array::empty(opaque, file.shape);
    const ArrayView requested(data, opaque, result_shape(axes));
    if (write) put(buffer.mutable_view(), file.order, requested);
    {
      Hdf5Lock lock;
      transfer(select_file_space(id_.get(), file.unique), buffer.num_elements(), axes.empty(),
               buffer.data(), memory_type, write);
    }
    if (!write) {
      const Array picked = take(buffer, file.order);
      std::memcpy(data, picked.data(), picked.nbytes());
    }
  }

  // One H5Dread or H5Dwrite of `count` elements between `file_space` and
  // `data`; the caller holds the lock.
  void transfer(const Handle& file_space, std::int64_t count, bool scalar, std::byte* data,
                hid_t memory_type, bool write) {
    const auto n = static_cast<hsize_t>(count);
    Handle memory_space =
        space_handle(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
    if (write) {
      check(
          H5Dwrite(id_.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data),
          "cannot write", context_->name, path_);
    } else {
      check(
          H5Dread(id_.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data),
          "cannot read", context_->name, path_);
    }
  }

  // ---- crash-safe appends -------------------------------------------------------
  //
  // An append is committed by the journal (journal.h), never by libhdf5's
  // metadata: the rows of full blocks go to the dataset as chunks written
  // once, whose locations the journal records; the rows of the unfinished
  // last block go to a slot of the journal; then the commit record is
  // written. No flush: libhdf5's own view of the dataset catches up when
  // the store is flushed or closed ("settled"), and until then the journal
  // says the file is not clean. See docs/formats/hdf5.md, "Appends".

  // The file offset of a chunk a record points to (records keep libhdf5's
  // chunk addresses, which do not count a user block).
  std::uint64_t file_offset(const ChunkRecord& r) { return r.address + chunk_base().value_or(0); }
  std::uint64_t row_bytes() const {
    return static_cast<std::uint64_t>(shape_.without_first().num_elements()) * dtype_.item_size();
  }
  std::uint64_t slot_bytes() const {
    return static_cast<std::uint64_t>(block_rows()) * row_bytes();
  }
  std::int64_t chunks_per_block() const {
    std::int64_t n = 1;
    for (std::size_t a = 1; a < shape_.rank(); ++a)
      n *= (shape_[a] + chunks_[a] - 1) / chunks_[a];
    return n;
  }
  // File offsets of the i-th chunk in C order (block by block).
  std::vector<hsize_t> chunk_offset(std::int64_t i) const {
    std::vector<hsize_t> offset(shape_.rank());
    for (std::size_t a = shape_.rank(); a-- > 1;) {
      const std::int64_t per_axis = (shape_[a] + chunks_[a] - 1) / chunks_[a];
      offset[a] = static_cast<hsize_t>((i % per_axis) * chunks_[a]);
      i /= per_axis;
    }
    offset[0] = static_cast<hsize_t>(i * chunks_[0]);
    return offset;
  }
  std::int64_t chunk_index(std::span<const std::int64_t> coords) const {
    std::int64_t i = coords[0];
    for (std::size_t a = 1; a < coords.size(); ++a)
      i = i * ((shape_[a] + chunks_[a] - 1) / chunks_[a]) + coords[a];
    return i;
  }
  std::uint64_t object_address() const {
    H5O_info_t info;
    check(H5Oget_info2(id_.get(), &info, H5O_INFO_BASIC), "cannot inspect the dataset",
          context_->name, path_);
    return info.addr;
  }
  // Where libhdf5's chunk index puts the chunk at `offset`; nothing when
  // the index cannot say (never written, past the extent, or torn).
  std::optional<ChunkRecord> index_entry(const std::vector<hsize_t>& offset) const {
    unsigned mask = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t size = 0;
    if (H5Dget_chunk_info_by_coord(id_.get(), offset.data(), &mask, &address, &size) < 0) {
      H5Eclear2(H5E_DEFAULT);
      return std::nullopt;
    }
    if (address == HADDR_UNDEF) return ChunkRecord{};
    return ChunkRecord{address, size, mask};
  }
  // Where the chunk just written at `offset` went.
  ChunkRecord written_chunk(const std::vector<hsize_t>& offset) const {
    const auto r = index_entry(offset);
    if (!r || r->address == ChunkRecord::kNone) {
      throw Error(ErrorCode::io,
                  fmt::format("libhdf5 cannot locate the chunk it just wrote at row {}", offset[0]),
                  context_->name, path_);
    }
    return *r;
  }
  std::int64_t hdf5_rows() const {
    Handle space = space_handle(H5Dget_space(id_.get()));
    std::vector<hsize_t> dims(shape_.rank());
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return static_cast<std::int64_t>(dims[0]);
  }
  void set_hdf5_rows(std::int64_t rows) {
    const auto dims = to_hsize(shape_.with(0, rows).dims());
    check(H5Dset_extent(id_.get(), dims.data()), "cannot extend", context_->name, path_);
    extent_ = rows;
  }
  void load_tail_block(std::int64_t slot, std::int64_t t) {
    tail_block_ = Array::empty(dtype_.native(), shape_.with(0, block_rows()));
    journal_->read_slot(slot, {tail_block_.data(), static_cast<std::size_t>(t) * row_bytes()});
    if (!dtype_.is_native())
      byteswap(tail_block_.data(), static_cast<std::size_t>(t * (row_bytes() / dtype_.item_size())),
               dtype_);
  }
  JournalCommit current_commit(bool clean) const {
    return {.rows = shape_[0], .slot = slot_, .records = records_, .clean = clean};
  }

  // A journal found on open: clean means libhdf5's view is complete (a
  // later append checks nobody changed the dataset meanwhile); otherwise a
  // writer was killed, and the journal is the truth.
  void open_journal() {
    const std::uint64_t object = object_address();
    journal_ = AppendJournal::open(context_, path_, object, slot_bytes());
    if (!journal_ || journal_->committed().clean) return;
    const JournalCommit c = journal_->committed();
    const std::int64_t C = block_rows();
    const std::int64_t base = c.rows - c.rows % C;
    if (c.records != base / C * chunks_per_block()) {
      throw Error(
          ErrorCode::corrupt,
          fmt::format("the append journal records {} chunks for {} rows", c.records, c.rows),
          context_->name, path_);
    }
    const std::vector<ChunkRecord> records = journal_->read_records(c.records);
    shape_ = shape_.with(0, c.rows);
    extent_ = hdf5_rows();
    slot_ = c.slot;
    records_ = c.records;
    load_tail_block(c.slot, c.rows - base);
    active_ = true;
    dirty_ = true;
    std::vector<std::int64_t> lost;
    for (std::int64_t i = 0; i < c.records; ++i) {
      const ChunkRecord& want = records[static_cast<std::size_t>(i)];
      const auto got = index_entry(chunk_offset(i));
      if (!got || (*got != want && want.address != ChunkRecord::kNone)) lost.push_back(i);
    }
    if (!is_writable(context_->mode)) {
      for (std::int64_t i : lost)
        recovered_[i] = records[static_cast<std::size_t>(i)];
      return;
    }
    repair(records, lost);
  }

  // Puts the chunks libhdf5's index lost back into it, or, when the index
  // cannot take them, rebuilds the dataset from the journal.
  void repair(const std::vector<ChunkRecord>& records, const std::vector<std::int64_t>& lost) {
    std::vector<ChunkRecord> moved;
    try {
      if (extent_ != shape_[0]) set_hdf5_rows(shape_[0]);
      for (std::int64_t i : lost) {
        const ChunkRecord& r = records[static_cast<std::size_t>(i)];
        const auto offset = chunk_offset(i);
        const auto bytes = journal_->read_file(file_offset(r), r.size);
        check(H5Dwrite_chunk(id_.get(), H5P_DEFAULT, r.mask, offset.data(), bytes.size(),
                             bytes.data()),
              "cannot restore a chunk", context_->name, path_);
        const ChunkRecord now = written_chunk(offset);
        journal_->write_records(i, std::span(&now, 1));
      }
    } catch (const Error&) {
      rebuild(records);
      return;
    }
    settle();
  }

  // The chunk index is beyond repair: copy the committed chunks (from
  // where the journal says they are) and the attributes into a new dataset,
  // which takes the place of the damaged one (kept, unreachable, under
  // /.larder/damaged).
  void rebuild(const std::vector<ChunkRecord>& records) {
    H5Eclear2(H5E_DEFAULT);
    const std::string fresh = "/.larder/rebuilt/" + hex64(xxh3_64(path_));
    const std::string damaged =
        fmt::format("/.larder/damaged/{}-{}", hex64(xxh3_64(path_)), object_address());
    Handle dcpl = plist_handle(H5Dget_create_plist(id_.get()));
    Handle type = type_handle(H5Dget_type(id_.get()));
    const auto dims = to_hsize(shape_.dims());
    Handle space =
        space_handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_.data()));
    Handle lcpl = plist_handle(H5Pcreate(H5P_LINK_CREATE));
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    if (H5Lexists(context_->file.get(), "/.larder/rebuilt", H5P_DEFAULT) > 0 &&
        H5Lexists(context_->file.get(), fresh.c_str(), H5P_DEFAULT) > 0)
      H5Ldelete(context_->file.get(), fresh.c_str(), H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    Handle copy =
        dataset_handle(check_id(H5Dcreate2(context_->file.get(), fresh.c_str(), type.get(),
                                           space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                                "cannot rebuild the dataset", context_->name, path_));
    for (std::size_t i = 0; i < records.size(); ++i) {
      const ChunkRecord& r = records[i];
      if (r.address == ChunkRecord::kNone) continue;
      const auto offset = chunk_offset(static_cast<std::int64_t>(i));
      const auto bytes = journal_->read_file(file_offset(r), r.size);
      check(H5Dwrite_chunk(copy.get(), H5P_DEFAULT, r.mask, offset.data(), bytes.size(),
                           bytes.data()),
            "cannot rebuild the dataset", context_->name, path_);
    }
    copy_attributes(id_.get(), copy.get(), context_->name, path_);
    check(H5Lmove(context_->file.get(), path_.c_str(), context_->file.get(), damaged.c_str(),
                  lcpl.get(), H5P_DEFAULT),
          "cannot set the damaged dataset aside", context_->name, path_);
    check(H5Lmove(context_->file.get(), fresh.c_str(), context_->file.get(), path_.c_str(),
                  H5P_DEFAULT, H5P_DEFAULT),
          "cannot put the rebuilt dataset in place", context_->name, path_);
    id_ = std::move(copy);
    attrs_ = make_attributes(context_, id_.get(), path_);
    extent_ = shape_[0];
    cache_.clear();
    // The unfinished block, then libhdf5's view is whole: the journal,
    // which describes the old dataset, goes.
    const std::int64_t t = tail_count();
    if (t > 0) write_chunks(resolve_rows(shape_[0] - t, shape_[0]), tail_rows(), true);
    check(H5Fflush(context_->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context_->name, path_);
    drop_journal();
  }

  void drop_journal() {
    AppendJournal::remove(context_, path_);
    journal_.reset();
    active_ = dirty_ = false;
    recovered_.clear();
    tail_block_ = Array::empty(DType::uint8(), Shape{0});
    check(H5Fflush(context_->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context_->name, path_);
  }

  // A new journal: records for the chunks already stored, the unfinished
  // block's rows in slot 0. On disk (flushed) before the first commit counts.
  void start_journal() {
    const std::int64_t rows = shape_[0];
    const std::int64_t C = block_rows();
    const std::int64_t base = rows - rows % C;
    tail_block_ = Array::empty(dtype_.native(), shape_.with(0, C));
    if (rows > base) {
      Array unfinished = read(Selection{AxisSelection::slice(base, rows)});
      std::memcpy(tail_block_.data(), unfinished.data(), unfinished.nbytes());
    }
    Hdf5Lock lock;
    const std::int64_t full = base / C * chunks_per_block();
    std::vector<ChunkRecord> records;
    records.reserve(static_cast<std::size_t>(full));
    for (std::int64_t i = 0; i < full; ++i) {
      const auto r = index_entry(chunk_offset(i));
      if (!r) {
        throw Error(ErrorCode::corrupt,
                    fmt::format("cannot locate the chunk at row {}", chunk_offset(i)[0]),
                    context_->name, path_);
      }
      records.push_back(*r);
    }
    journal_ = AppendJournal::create(context_, path_, object_address(), slot_bytes(),
                                     std::max<std::int64_t>(4096, 2 * full));
    journal_->write_records(0, records);
    write_slot_rows(0, 0, tail_block_.data(), rows - base);
    slot_ = 0;
    records_ = full;
    extent_ = hdf5_rows();
    journal_->commit(current_commit(false));
    check(H5Fflush(context_->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context_->name, path_);
    active_ = dirty_ = true;
  }

  // Before the first append of a session: the journal becomes the truth.
  void begin_appends() {
    if (active_) {
      if (!dirty_) {
        Hdf5Lock lock;
        journal_->commit(current_commit(false));
        dirty_ = true;
      }
      return;
    }
    if (!journal_) {
      start_journal();
      return;
    }
    Hdf5Lock lock;
    // A clean journal of an earlier session: still true unless another tool
    // changed the dataset since.
    const JournalCommit c = journal_->committed();
    if (c.rows != shape_[0] || c.extent != hdf5_rows() ||
        c.stored_bytes != H5Dget_storage_size(id_.get())) {
      start_journal();
      return;
    }
    slot_ = c.slot;
    records_ = c.records;
    extent_ = c.extent;
    load_tail_block(c.slot, c.rows % block_rows());
    journal_->commit(current_commit(false));
    active_ = dirty_ = true;
  }

  // The dataset is being removed: its journal is no longer written.
  void forget_journal() {
    journal_.reset();
    active_ = dirty_ = false;
  }

  // Makes libhdf5's view complete (extent, the unfinished block as a
  // partial chunk), flushes, and marks the journal clean.
  void settle() {
    if (!active_ || !dirty_ || !is_writable(context_->mode)) return;
    Hdf5Lock lock;
    if (extent_ != shape_[0]) set_hdf5_rows(shape_[0]);
    const std::int64_t t = tail_count();
    if (t > 0) write_chunks(resolve_rows(shape_[0] - t, shape_[0]), tail_rows(), true);
    check(H5Fflush(context_->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context_->name, path_);
    JournalCommit c = current_commit(true);
    c.extent = shape_[0];
    c.stored_bytes = H5Dget_storage_size(id_.get());
    journal_->commit(c);
    dirty_ = false;
  }

  // Encodes whole blocks of rows and writes them as chunks; `rows` holds
  // `blocks` blocks in native order. Appends the chunks' locations to `out`.
  void write_blocks(std::int64_t first_row, const std::byte* rows, std::int64_t blocks,
                    std::vector<ChunkRecord>& out) {
    const std::int64_t C = block_rows();
    bool plain = dtype_.is_native();  // a block is exactly one chunk's bytes
    for (std::size_t a = 1; a < shape_.rank(); ++a)
      plain = plain && chunks_[a] == shape_[a];
    if (!plain) {
      std::vector<std::pair<std::int64_t, ChunkRecord>> written;
      const Array view =
          packed_as(ArrayView(rows, dtype_.native(), shape_.with(0, blocks * C)), dtype_.native());
      write_chunks(resolve_rows(first_row, first_row + blocks * C), view, true, &written);
      std::sort(written.begin(), written.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [i, r] : written)
        out.push_back(r);
      return;
    }
    const std::size_t bytes = chunk_bytes();
    std::vector<std::vector<std::byte>> encoded(static_cast<std::size_t>(blocks));
    if (!pipeline_.empty()) {  // one block alone may code on several threads
      parallel_for(blocks, 1, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i)
          encoded[static_cast<std::size_t>(i)] =
              pipeline_.encode({rows + static_cast<std::size_t>(i) * bytes, bytes});
      });
    }
    Hdf5Lock lock;
    for (std::int64_t i = 0; i < blocks; ++i) {
      const auto& e = encoded[static_cast<std::size_t>(i)];
      const bool raw = pipeline_.empty();
      std::vector<hsize_t> offset(shape_.rank(), 0);
      offset[0] = static_cast<hsize_t>(first_row + i * C);
      check(H5Dwrite_chunk(id_.get(), H5P_DEFAULT, 0, offset.data(), raw ? bytes : e.size(),
                           raw ? rows + static_cast<std::size_t>(i) * bytes : e.data()),
            "cannot write a chunk", context_->name, path_);
      std::vector<std::int64_t> coords(shape_.rank(), 0);
      coords[0] = first_row / C + i;
      cache_.erase(chunk_key(coords));
      out.push_back(written_chunk(offset));
    }
  }

  void append_committed(ArrayView block) {
    begin_appends();
    const std::int64_t C = block_rows();
    const std::int64_t n = block.shape()[0];
    const std::int64_t rows = shape_[0];
    const std::int64_t t = rows % C;
    const std::int64_t base = rows - t;
    const std::uint64_t rb = row_bytes();
    const std::byte* src = block.data();
    std::vector<ChunkRecord> written;
    std::int64_t slot = slot_;
    bool next_block = false;  // the unfinished block moves to spare_block_
    if (t + n >= C) {
      // The unfinished block fills up: it and every further full block go
      // to the dataset; what is left starts the other slot.
      const std::int64_t blocks = (t + n) / C;
      {
        Hdf5Lock lock;
        if (extent_ < base + blocks * C) set_hdf5_rows(base + blocks * C);
      }
      std::int64_t taken = 0;
      if (t > 0) {  // rows [t, C) of the tail block are free to use
        std::memcpy(tail_block_.data() + static_cast<std::size_t>(t) * rb, src,
                    static_cast<std::size_t>(C - t) * rb);
        write_blocks(base, tail_block_.data(), 1, written);
        taken = C - t;
      }
      const std::int64_t more = (n - taken) / C;
      if (more > 0) {
        write_blocks(base + (t > 0 ? C : 0), src + static_cast<std::size_t>(taken) * rb, more,
                     written);
        taken += more * C;
      }
      slot = 1 - slot_;
      if (n > taken) {
        if (spare_block_.num_elements() == 0)
          spare_block_ = Array::empty(dtype_.native(), shape_.with(0, C));
        std::memcpy(spare_block_.data(), src + static_cast<std::size_t>(taken) * rb,
                    static_cast<std::size_t>(n - taken) * rb);
        Hdf5Lock lock;
        write_slot_rows(slot, 0, spare_block_.data(), n - taken);
        next_block = true;
      }
    } else {
      // Still inside the unfinished block: after the committed rows of the same slot.
      Hdf5Lock lock;
      write_slot_rows(slot, t, src, n);
      std::memcpy(tail_block_.data() + static_cast<std::size_t>(t) * rb, src,
                  static_cast<std::size_t>(n) * rb);  // past the committed rows
    }
    Hdf5Lock lock;
    journal_->write_records(records_, written);
    JournalCommit c{.rows = rows + n,
                    .slot = slot,
                    .records = records_ + static_cast<std::int64_t>(written.size())};
    journal_->commit(c);
    shape_ = shape_.with(0, c.rows);
    slot_ = c.slot;
    records_ = c.records;
    if (next_block) std::swap(tail_block_, spare_block_);
  }

  // Rows into a slot, starting at its row `first`, in the file's byte order.
  void write_slot_rows(std::int64_t slot, std::int64_t first, const std::byte* rows,
                       std::int64_t n) {
    const std::size_t bytes = static_cast<std::size_t>(n) * row_bytes();
    const std::uint64_t offset = static_cast<std::uint64_t>(first) * row_bytes();
    if (dtype_.is_native()) {
      journal_->write_slot(slot, offset, {rows, bytes});
      return;
    }
    std::vector<std::byte> swapped(rows, rows + bytes);
    byteswap(swapped.data(), bytes / dtype_.item_size(), dtype_);
    journal_->write_slot(slot, offset, swapped);
  }

  std::vector<ResolvedAxis> resolve_rows(std::int64_t begin, std::int64_t end) const {
    return Selection{AxisSelection::slice(begin, end)}.resolve(shape_);
  }

  // Appends without a journal (in-memory files): chunks through the
  // ordinary write path.
  void append_chunks(ArrayView block) {
    const std::int64_t rows = shape_[0];
    const std::int64_t n = block.shape()[0];
    {
      Hdf5Lock lock;
      set_hdf5_rows(rows + n);
    }
    shape_ = shape_.with(0, rows + n);
    write_chunks(resolve_rows(rows, rows + n), packed_as(block, block.dtype()));
  }

  void append_through_library(ArrayView block) {
    const std::int64_t rows = shape_[0];
    {
      Hdf5Lock lock;
      const auto dims = to_hsize(shape_.with(0, rows + block.shape()[0]).dims());
      check(H5Dset_extent(id_.get(), dims.data()), "cannot extend", context_->name, path_);
    }
    shape_ = shape_.with(0, rows + block.shape()[0]);
    write_through_library(resolve_rows(rows, shape_[0]), block.data(), memory_type_.get(),
                          dtype_.item_size());
    commit();
  }

  std::int64_t tail_count() const { return active_ ? shape_[0] % block_rows() : 0; }
  std::int64_t tail_base() const { return shape_[0] - tail_count(); }
  // The unfinished block's committed rows (a view of the tail block).
  Array tail_rows() const {
    return Array::adopt(dtype_.native(), shape_.with(0, tail_count()), tail_block_.buffer());
  }

  bool touches_tail(const std::vector<ResolvedAxis>& axes) const {
    if (tail_count() == 0 || axes.empty()) return false;
    const ResolvedAxis& a = axes[0];
    for (std::int64_t k = 0; k < a.count; ++k) {
      if (a.source_index(k) >= tail_base()) return true;
    }
    return false;
  }

  // The tail block (the journal's slot) is the truth for the unfinished block.
  void overlay_tail(const std::vector<ResolvedAxis>& axes, Array& out) const {
    if (!touches_tail(axes)) return;
    const std::int64_t base = tail_base();
    const ResolvedAxis& rows = axes[0];
    std::vector<std::int64_t> ks, tail_ids;
    for (std::int64_t k = 0; k < rows.count; ++k) {
      const std::int64_t src = rows.source_index(k);
      if (src >= base) {
        ks.push_back(k);
        tail_ids.push_back(src - base);
      }
    }
    std::vector<AxisSelection> inner{AxisSelection::indices(tail_ids)};
    for (std::size_t a = 1; a < axes.size(); ++a) {
      const auto& ax = axes[a];
      if (ax.drops_axis) {
        inner.push_back(AxisSelection::index(ax.start));
      } else {
        std::vector<std::int64_t> ids;
        for (std::int64_t k = 0; k < ax.count; ++k)
          ids.push_back(ax.source_index(k));
        inner.push_back(AxisSelection::indices(std::move(ids)));
      }
    }
    Array values = take(tail_rows(), Selection(inner));
    if (rows.drops_axis) {
      std::memcpy(out.data(), values.data(), values.nbytes());
      return;
    }
    std::vector<AxisSelection> target{AxisSelection::indices(ks)};
    put(out.mutable_view(), Selection(target), values);
  }

  // Before a write or resize changes what the journal describes: libhdf5's
  // view is made whole and the journal goes (the next append starts anew).
  void release_journal() {
    if (!journal_) return;
    settle();
    Hdf5Lock lock;
    drop_journal();
  }

  void commit() {
    Hdf5Lock lock;
    check(H5Fflush(context_->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context_->name, path_);
  }

  Context context_;
  // The store hands out one object per dataset, so callers that opened it
  // separately share it (and its chunk cache): one of them at a time.
  // Recursive: starting the append journal reads through read().
  mutable std::recursive_mutex access_;
  Handle id_;
  std::string path_;
  std::unique_ptr<Attributes> attrs_;
  DType dtype_ = DType::uint8();
  Handle memory_type_;
  std::optional<Shape> item_shape_;  // variable-length sequences: one item's shape
  Shape shape_;
  std::vector<hsize_t> max_;
  std::vector<std::int64_t> chunks_;
  H5D_layout_t layout_ = H5D_CONTIGUOUS;
  Pipeline pipeline_;
  std::vector<std::byte> fill_;  // one element, in the file's byte order
  bool extendable_ = false;
  ChunkCache cache_;
  std::shared_ptr<ReadOnlyFile> data_file_;  // what data_fd() opened, shared in the store
  int fd_ = -1;                              // its descriptor
  bool buffered_writes_ = false;             // written through H5Dwrite since the last H5Dflush
  std::optional<std::optional<std::uint64_t>> chunk_base_;  // once known, see chunk_base()
  std::unordered_map<std::int64_t, Location> locations_;    // by chunk_key, see locate()
  enum class Index { unread, whole, unreadable } index_ = Index::unread;  // see whole_index()
  // Append state (see "crash-safe appends").
  bool journaled_ = false;  // appends commit through journal_ (set on open)
  std::unique_ptr<AppendJournal> journal_;
  bool active_ = false;  // the tail block is the truth for the unfinished block
  bool dirty_ = false;   // the journal's last commit is not clean
  std::int64_t slot_ = 0;
  std::int64_t records_ = 0;
  std::int64_t extent_ = 0;  // libhdf5's extent along axis 0 (may lag behind)
  Array tail_block_ = Array::empty(DType::uint8(), Shape{0});   // block_rows() rows, native
  Array spare_block_ = Array::empty(DType::uint8(), Shape{0});  // the next one, being filled
  // Chunks a killed writer's torn index lost, read from where the journal
  // says they are (a read-only open; a writable one repairs the index).
  std::unordered_map<std::int64_t, ChunkRecord> recovered_;
};

}  // namespace

std::shared_ptr<Dataset> make_dataset(Context context, Handle id, std::string path) {
  auto& live = context->datasets[path];
  if (auto existing = live.lock()) return existing;
  auto dataset = std::make_shared<Hdf5Dataset>(context, std::move(id), path);
  live = dataset;
  return dataset;
}

void settle_datasets(const Context& context) {
  for (auto it = context->datasets.begin(); it != context->datasets.end();) {
    if (auto dataset = it->second.lock()) {
      static_cast<Hdf5Dataset&>(*dataset).settle();
      ++it;
    } else {
      it = context->datasets.erase(it);
    }
  }
}

std::shared_ptr<Dataset> create_dataset(Context context, hid_t parent, const std::string& name,
                                        std::string path, const DatasetOptions& options,
                                        const ArrayView* data) {
  if (options.dtype.kind() == DTypeKind::vstring && options.codec.id != "none") {
    throw Error(ErrorCode::unsupported,
                "variable-length strings cannot be compressed with a larder codec", context->name,
                path);
  }
  const auto fill = check_new_dataset(options, context->name, path, true);  // before the file
  codec::CodecSpec spec = options.codec;
  if (spec.shuffles_itself()) spec.typesize = static_cast<int>(options.dtype.item_size());
  Pipeline pipeline;
  try {
    pipeline = Pipeline::for_codec(spec, options.dtype.item_size(), options.shuffle);
  } catch (const Error& e) {
    throw e.at(context->name, path);
  }
  const bool chunked = options.extendable || !pipeline.empty() || !options.chunks.empty();
  std::vector<std::int64_t> chunks =
      options.chunks.empty() ? default_chunks(options) : options.chunks;
  if (chunked) check_chunks(chunks, options, context->name, path);

  Hdf5Lock lock;
  const auto dims = to_hsize(options.shape.dims());
  std::vector<hsize_t> max = dims;
  if (options.extendable) max[0] = H5S_UNLIMITED;
  Handle space =
      space_handle(options.shape.rank() == 0
                       ? H5Screate(H5S_SCALAR)
                       : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max.data()));
  Handle dcpl = plist_handle(H5Pcreate(H5P_DATASET_CREATE));
  if (chunked) {
    const auto c = to_hsize(chunks);
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(c.size()), c.data()),
          "cannot set the chunk shape", context->name, path);
    const auto chunk_bytes =
        static_cast<std::size_t>(
            std::accumulate(chunks.begin(), chunks.end(), std::int64_t{1}, std::multiplies<>())) *
        options.dtype.item_size();
    try {
      pipeline.apply(dcpl.get(), chunk_bytes);
    } catch (const Error& e) {
      throw e.at(context->name, path);
    }
  }
  Handle file_type = type_for(options.dtype);
  if (!options.fill_value.is_null()) {
    check(H5Pset_fill_value(dcpl.get(), file_type.get(), fill.data()), "cannot set the fill value",
          context->name, path);
  }
  Handle id = dataset_handle(check_id(H5Dcreate2(parent, name.c_str(), file_type.get(), space.get(),
                                                 H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                                      "cannot create dataset", context->name, path));
  auto dataset = make_dataset(context, std::move(id), path);
  if (data != nullptr && options.shape.num_elements() > 0)
    static_cast<Hdf5Dataset&>(*dataset).write_uncommitted(Selection(), *data);
  check(H5Fflush(context->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context->name, path);
  return dataset;
}

void remove_dataset_side_data(const Context& context, const std::string& path) {
  for (auto it = context->datasets.begin(); it != context->datasets.end();) {
    if (it->first == path || it->first.starts_with(path + "/")) {
      if (auto dataset = it->second.lock()) static_cast<Hdf5Dataset&>(*dataset).forget_journal();
      if (H5Lexists(context->file.get(), "/.larder", H5P_DEFAULT) > 0)
        AppendJournal::remove(context, it->first);
      it = context->datasets.erase(it);
    } else {
      ++it;
    }
  }
  if (H5Lexists(context->file.get(), "/.larder", H5P_DEFAULT) > 0)
    AppendJournal::remove(context, path);
  H5Eclear2(H5E_DEFAULT);
}

}  // namespace larder::store::hdf5
