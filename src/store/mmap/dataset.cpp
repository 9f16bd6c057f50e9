// MmapDataset: arrays as raw C-order files read through a read-only shared
// mapping, written with pwrite, committed by replacing the JSON sidecar.
//
// Reads of a contiguous run of rows return Arrays that alias the mapping
// (zero-copy, read-only); other selections copy. Appends grow the file
// geometrically with ftruncate, pwrite the rows past the committed length,
// extend the block checksums from a running hash of the last block, then
// rename a new sidecar into place: the rows are committed when that rename
// has happened. All Dataset objects of one array share one ArrayState.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <type_traits>

#include "../driver_common.h"
#include "../file_io.h"
#include "../fixed_strings.h"
#include "driver.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/store/element_json.h"
#include "sha256.h"
#include "sidecar.h"

namespace larder::store::mmap {

namespace {

constexpr std::uint64_t kMinCapacity = std::uint64_t{64} << 10;
constexpr std::size_t kFillPiece = std::size_t{4} << 20;  // bytes of fill written per call

// A read-only shared mapping of the first `size` bytes of a file.
struct Mapping {
  std::byte* data = nullptr;
  std::size_t size = 0;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(std::byte* d, std::size_t s) : data(d), size(s) {}
  ~Mapping() { ::munmap(data, size); }
};

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

struct ArrayState {
  Context context;
  std::string path;
  std::filesystem::path bin, json;
  bool memmpy = false;

  std::mutex mutex;
  Sidecar meta;
  std::vector<std::byte> fill;  // one element
  int fd = -1;
  std::uint64_t file_bytes = 0;  // the data file's size (its capacity)
  std::shared_ptr<Mapping> map;
  struct stat seen {};  // the sidecar last read or written
  // Running hash of the last, partly filled checksum block.
  std::optional<Hasher> tail;
  std::uint64_t tail_block = 0;
  bool removed = false;

  ArrayState() = default;
  ArrayState(const ArrayState&) = delete;
  ArrayState& operator=(const ArrayState&) = delete;
  ~ArrayState() {
    if (fd >= 0) ::close(fd);
  }

  [[noreturn]] void fail(ErrorCode code, const std::string& what) const {
    throw Error(code, what, context->name, path);
  }

  void check_usable() const {
    context->check_open(path);
    if (removed) fail(ErrorCode::not_found, "this array was removed from the store");
  }

  void open_file(bool writable, bool create) {
    const int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0);
    fd = ::open(bin.c_str(), flags, 0644);
    if (fd < 0) {
      fail(errno == ENOENT ? ErrorCode::corrupt : ErrorCode::io,
           fmt::format("cannot open the data file {}: {}", bin.string(), errno_text()));
    }
  }

  std::uint64_t current_file_size() const {
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail(ErrorCode::io, fmt::format("cannot stat {}", bin.string()));
    return static_cast<std::uint64_t>(st.st_size);
  }

  void check_file_holds_committed() {
    file_bytes = current_file_size();
    if (file_bytes < meta.committed_bytes()) {
      fail(ErrorCode::corrupt,
           fmt::format("{} holds {} bytes, fewer than the {} its metadata commits ({} rows of "
                       "{} bytes): the file is truncated",
                       bin.string(), file_bytes, meta.committed_bytes(), meta.rows(),
                       meta.row_bytes()));
    }
  }

  void load_sidecar() {
    try {
      meta = parse_sidecar(read_text(json, path), json.string());
    } catch (const Error& e) {
      throw e.at(json.string(), path);  // the array's path too
    }
    fill = element_from_json(meta.dtype, meta.fill_value);
    ::stat(json.c_str(), &seen);
    check_file_holds_committed();
    tail.reset();
  }

  // A reader picks up what another process committed since it last looked.
  void refresh() {
    if (memmpy || is_writable(context->mode)) return;
    struct stat now {};
    if (::stat(json.c_str(), &now) != 0) return;  // mid-rename or removed: keep what we have
    if (now.st_ino == seen.st_ino && now.st_size == seen.st_size &&
        now.st_mtim.tv_sec == seen.st_mtim.tv_sec && now.st_mtim.tv_nsec == seen.st_mtim.tv_nsec)
      return;
    load_sidecar();
  }

  // The mapping, covering at least the first `bytes` bytes of the file.
  std::shared_ptr<Mapping> mapping(std::uint64_t bytes) {
    if (bytes == 0 || (map && map->size >= bytes)) return map;
    const std::uint64_t size = current_file_size();
    if (size < bytes) {
      fail(ErrorCode::corrupt,
           fmt::format("{} shrank to {} bytes; {} are committed", bin.string(), size, bytes));
    }
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
      fail(ErrorCode::io, fmt::format("cannot map {}: {}", bin.string(), errno_text()));
    map = std::make_shared<Mapping>(static_cast<std::byte*>(p), size);
    return map;
  }

  void write_at(const std::byte* data, std::uint64_t size, std::uint64_t offset) {
    store::write_at(fd, {data, size}, offset, bin.string(), path);
  }

  // An extendable array's file grows geometrically (n appends cost at most
  // log(n) ftruncates, and nothing written is ever copied); a fixed-size
  // array's file is exactly its bytes, as numpy.memmap would write it.
  void reserve(std::uint64_t end) {
    if (end <= file_bytes) return;
    const std::uint64_t capacity =
        meta.extendable ? std::max({end, file_bytes * 2, kMinCapacity}) : end;
    if (::ftruncate(fd, static_cast<off_t>(capacity)) != 0)
      fail(ErrorCode::io, fmt::format("cannot grow {}: {}", bin.string(), errno_text()));
    file_bytes = capacity;
  }

  // Writes `size` bytes just past the committed ones and extends the block
  // checksums over them; the caller then updates the shape and saves.
  void append_bytes(const std::byte* data, std::uint64_t size) {
    if (size == 0) return;
    const std::uint64_t offset = meta.committed_bytes();
    const std::uint64_t block = meta.block_bytes;
    reserve(offset + size);
    write_at(data, size, offset);
    if (!tail || tail_block != offset / block) {
      tail.emplace();
      tail_block = offset / block;
      const std::uint64_t start = tail_block * block;
      if (offset > start) {
        auto m = mapping(offset);
        tail->update({m->data + start, offset - start});
      }
    }
    std::uint64_t pos = offset;
    while (size > 0) {
      const std::uint64_t take = std::min(size, block - pos % block);
      tail->update({data, take});
      meta.checksums.resize(tail_block + 1);
      meta.checksums[tail_block] = tail->digest64();
      data += take;
      size -= take;
      pos += take;
      if (pos % block == 0) {
        tail.emplace();
        ++tail_block;
      }
    }
  }

  // Appends `rows` rows of the fill value.
  void append_fill(std::uint64_t rows) {
    const std::uint64_t total = rows * meta.row_bytes();
    if (total == 0) return;
    const std::size_t item = fill.size();
    const std::size_t piece =
        std::max<std::size_t>(item, std::min<std::size_t>(kFillPiece, total) / item * item);
    std::vector<std::byte> buffer(piece);
    for (std::size_t i = 0; i < piece; i += item)
      std::memcpy(buffer.data() + i, fill.data(), item);
    for (std::uint64_t done = 0; done < total;) {
      const std::uint64_t n = std::min<std::uint64_t>(piece, total - done);
      append_bytes(buffer.data(), n);
      done += n;
    }
  }

  // Recomputes the checksums of the blocks holding bytes [begin, end).
  void rehash(std::uint64_t begin, std::uint64_t end) {
    const std::uint64_t committed = meta.committed_bytes();
    const std::uint64_t block = meta.block_bytes;
    meta.checksums.resize((committed + block - 1) / block);
    if (begin >= end) return;
    auto m = mapping(committed);
    for (std::uint64_t b = begin / block; b * block < std::min(end, committed); ++b) {
      const std::uint64_t start = b * block;
      meta.checksums[b] = xxh3_64({m->data + start, std::min(block, committed - start)});
      if (tail && tail_block == b) tail.reset();
    }
  }

  void save() {
    replace_file(json, format_sidecar(meta));
    ::stat(json.c_str(), &seen);
  }

  // Every block checksum against the data (what `larder verify` asks for).
  void verify() {
    if (memmpy) return;
    const std::uint64_t committed = meta.committed_bytes();
    auto m = mapping(committed);
    for (std::size_t b = 0; b < meta.checksums.size(); ++b) {
      const std::uint64_t start = b * meta.block_bytes;
      const std::uint64_t size = std::min(meta.block_bytes, committed - start);
      const std::uint64_t actual = xxh3_64({m->data + start, size});
      if (actual != meta.checksums[b]) {
        fail(ErrorCode::corrupt,
             fmt::format("checksum mismatch in {} block {} (bytes {} to {}): the metadata says "
                         "{}, the data hashes to {}",
                         bin.string(), b, start, start + size, hex64(meta.checksums[b]),
                         hex64(actual)));
      }
    }
  }
};

namespace {

std::filesystem::path member_file(const Context& context, const std::string& path,
                                  const char* suffix) {
  const auto slash = path.rfind('/');
  const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  return context->directory(parent) / (path.substr(slash + 1) + suffix);
}

// The memmpy array `name`: "<16 hex of hash_64bit(name)>.npy", raw C order.
void load_memmpy(ArrayState& state, const std::string& name) {
  const nlohmann::json& entry = state.context->memmpy_arrays[name];
  const std::string file = (state.context->fs_path / kMemmpyFile).string();
  const auto bad = [&](const std::string& what) {
    return Error(ErrorCode::corrupt, fmt::format("memmpy array '{}': {}", name, what), file,
                 state.path);
  };
  if (!entry.is_object() || !entry.value("dtype", nlohmann::json()).is_string() ||
      !entry.value("shape", nlohmann::json()).is_array()) {
    throw bad("not an object with a dtype string and a shape list");
  }
  Sidecar meta;
  try {
    meta.dtype = DType::from_string(entry["dtype"].get<std::string>());
  } catch (const Error& e) {
    throw bad(e.message());
  }
  if (!meta.dtype.is_fixed_size()) throw bad("its dtype has no fixed size");
  std::vector<std::int64_t> dims;
  std::uint64_t bytes = meta.dtype.item_size();
  for (const auto& d : entry["shape"]) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
      throw bad(fmt::format("shape extent {} is not a non-negative integer", d.dump()));
    const auto n = static_cast<std::uint64_t>(d.get<std::int64_t>());
    if (n != 0 && bytes > (std::uint64_t{1} << 60) / n) throw bad("its shape is too large");
    bytes *= n;
    dims.push_back(static_cast<std::int64_t>(n));
  }
  meta.shape = Shape(std::move(dims));
  state.meta = std::move(meta);
  state.meta.attrs = nlohmann::json::object();
  if (entry.contains("check")) state.meta.attrs["check"] = entry["check"];
  state.fill = element_from_json(state.meta.dtype, nullptr);
  state.bin = state.context->fs_path / (hex64(memmpy_hash64(name)) + ".npy");
  state.open_file(false, false);
  state.check_file_holds_committed();
}

std::shared_ptr<ArrayState> shared_state(const Context& context, const std::string& path,
                                         bool& fresh) {
  return context->arrays.get(path, fresh, [&] {
    auto state = std::make_shared<ArrayState>();
    state->context = context;
    state->path = path;
    state->bin = member_file(context, path, ".bin");
    state->json = member_file(context, path, ".json");
    state->memmpy = context->memmpy;
    return state;
  });
}

class MmapDataset final : public Dataset {
 public:
  explicit MmapDataset(std::shared_ptr<ArrayState> state)
      : state_(std::move(state)),
        attrs_(make_attributes(
            state_->context, state_->path,
            {[s = state_] {
               std::lock_guard lock(s->mutex);
               s->refresh();
               return std::pair{s->meta.attrs, s->meta.array_attrs};
             },
             [s = state_](const nlohmann::json& attrs, const nlohmann::json& arrays) {
               std::lock_guard lock(s->mutex);
               s->check_usable();
               s->meta.attrs = attrs;
               s->meta.array_attrs = arrays;
               s->save();
             }})) {}

  const std::string& path() const override { return state_->path; }
  const std::filesystem::path& store_path() const override { return state_->context->fs_path; }
  Attributes& attrs() override {
    state_->check_usable();
    return *attrs_;
  }

  DType dtype() const override {
    return current([](const Sidecar& m) { return m.dtype; });
  }
  Shape shape() const override {
    return current([](const Sidecar& m) { return m.shape; });
  }
  std::vector<std::int64_t> chunks() const override { return {}; }
  std::optional<codec::CodecSpec> codec() const override { return codec::CodecSpec{}; }
  bool extendable() const override {
    return current([](const Sidecar& m) { return m.extendable; });
  }
  nlohmann::json fill_value() const override {
    return current([](const Sidecar& m) -> nlohmann::json {
      if (!m.fill_value.is_null()) return m.fill_value;
      if (m.dtype.kind() == DTypeKind::string) return "";
      if (m.dtype.kind() == DTypeKind::boolean) return false;
      return 0;
    });
  }

  StorageInfo storage_info() const override {
    std::lock_guard lock(state_->mutex);
    state_->check_usable();
    state_->refresh();
    return {.logical_bytes = state_->meta.committed_bytes(),
            .stored_bytes = state_->current_file_size(),
            .layout = "contiguous",
            .filters = ""};
  }

  Array read(const Selection& selection) override {
    // What the read needs, taken under the lock; the copy runs without it.
    std::shared_ptr<Mapping> map;
    DType dtype = DType::uint8();
    Shape shape;
    std::uint64_t row_bytes = 0;
    {
      std::lock_guard lock(state_->mutex);
      state_->check_usable();
      state_->refresh();
      dtype = state_->meta.dtype;
      shape = state_->meta.shape;
      row_bytes = state_->meta.row_bytes();
      map = state_->mapping(state_->meta.committed_bytes());
    }
    const auto axes = resolve(selection, shape);
    const Shape out_shape = result_shape(axes);
    const DType native = dtype.native();
    if (out_shape.num_elements() == 0) return Array::empty(native, out_shape);
    if (dtype.is_native() && contiguous_rows(axes, shape)) {
      const std::uint64_t first = axes.empty() ? 0 : static_cast<std::uint64_t>(axes[0].start);
      // Shares ownership of the mapping: the Array keeps it alive.
      std::shared_ptr<std::byte> alias(map, map->data + first * row_bytes);
      return Array::adopt_read_only(native, out_shape, std::move(alias));
    }
    Array out = take(ArrayView(map->data, dtype, shape), selection);
    if (dtype.is_native()) return out;
    byteswap(out.data(), static_cast<std::size_t>(out.num_elements()), dtype);
    return Array::adopt(native, out_shape, out.buffer());
  }

  void write(const Selection& selection, ArrayView values) override {
    std::lock_guard lock(state_->mutex);
    state_->check_usable();
    state_->context->check_writable(path());
    Sidecar& meta = state_->meta;
    const auto axes = resolve(selection, meta.shape);
    const Shape wanted = result_shape(axes);
    check_values(values, wanted);
    if (wanted.num_elements() == 0) return;
    Array packed = Array::copy_of(values);
    if (!packed.dtype().is_native()) {
      byteswap(packed.data(), static_cast<std::size_t>(packed.num_elements()), packed.dtype());
      packed = Array::adopt(packed.dtype().native(), packed.shape(), packed.buffer());
    }
    if (packed.num_elements() != wanted.num_elements()) {  // one value, broadcast
      Array full = Array::empty(meta.dtype.native(), wanted);
      put(full.mutable_view(), Selection(), packed);
      packed = std::move(full);
    }
    // The rows the selection touches, [low, high], as one block of bytes.
    std::int64_t low = 0, high = 0;
    if (!axes.empty()) {
      low = high = axes[0].source_index(0);
      for (std::int64_t k = 0; k < axes[0].count; ++k) {
        low = std::min(low, axes[0].source_index(k));
        high = std::max(high, axes[0].source_index(k));
      }
    }
    const std::uint64_t row_bytes = meta.row_bytes();
    const std::uint64_t begin = static_cast<std::uint64_t>(low) * row_bytes;
    const std::uint64_t end = static_cast<std::uint64_t>(high + 1) * row_bytes;
    Array block = Array::empty(DType::uint8(), Shape{0});
    if (contiguous_rows(axes, meta.shape)) {
      block = std::move(packed);
    } else {
      auto map = state_->mapping(meta.committed_bytes());
      const Shape rows = axes.empty() ? Shape{} : meta.shape.with(0, high - low + 1);
      block = Array::copy_of(ArrayView(map->data + begin, meta.dtype, rows));
      if (!meta.dtype.is_native())
        byteswap(block.data(), static_cast<std::size_t>(block.num_elements()), meta.dtype);
      block = Array::adopt(meta.dtype.native(), rows, block.buffer());
      put(block.mutable_view(), shifted(axes, low), packed);
    }
    if (!meta.dtype.is_native())
      byteswap(block.data(), static_cast<std::size_t>(block.num_elements()), meta.dtype);
    state_->write_at(block.data(), end - begin, begin);
    state_->rehash(begin, end);
    state_->save();
  }

  Array gather(std::span<const std::int64_t> rows) override {
    if (shape().rank() == 0) {
      throw Error(ErrorCode::invalid_argument, "a scalar dataset has no rows to gather",
                  state_->context->name, path());
    }
    return read(Selection{AxisSelection::indices({rows.begin(), rows.end()})});
  }

  void append(ArrayView rows) override {
    std::lock_guard lock(state_->mutex);
    state_->check_usable();
    state_->context->check_writable(path());
    Sidecar& meta = state_->meta;
    if (!meta.extendable) {
      throw Error(ErrorCode::invalid_argument,
                  "append needs an extendable dataset (created with extendable=true)",
                  state_->context->name, path());
    }
    const std::int64_t count = rows_to_append(rows, meta.shape, state_->context->name, path());
    check_values(rows, rows.shape());
    if (count == 0) return;
    // The rows as the file holds them: the caller's memory when it already is.
    const Array packed = packed_as(rows, meta.dtype);
    const std::byte* data = packed.data();
    const Sidecar before = meta;
    try {
      state_->append_bytes(data, static_cast<std::uint64_t>(count) * meta.row_bytes());
      meta.shape = meta.shape.with(0, meta.shape[0] + count);
      state_->save();
    } catch (...) {
      meta = before;  // nothing was committed
      state_->tail.reset();
      throw;
    }
  }

  void resize(const Shape& shape) override {
    std::lock_guard lock(state_->mutex);
    state_->check_usable();
    state_->context->check_writable(path());
    Sidecar& meta = state_->meta;
    // Only axis 0 of an extendable array: its rows are stored contiguously.
    check_resize(
        meta.shape, shape, [&](std::size_t axis) { return axis == 0 && meta.extendable; },
        state_->context->name, path());
    if (shape == meta.shape) return;
    const Sidecar before = meta;
    try {
      if (shape[0] > meta.shape[0]) {
        const auto grown = static_cast<std::uint64_t>(shape[0] - meta.shape[0]);
        state_->append_fill(grown);
        meta.shape = shape;
      } else {
        meta.shape = shape;
        state_->tail.reset();
        const std::uint64_t committed = meta.committed_bytes();
        const std::uint64_t last_block = committed / meta.block_bytes * meta.block_bytes;
        state_->rehash(last_block, committed);
      }
      state_->save();
    } catch (...) {
      meta = before;
      state_->tail.reset();
      throw;
    }
  }

  std::vector<std::string> read_strings(const Selection& selection) override {
    const DType dtype = this->dtype();
    if (dtype.kind() != DTypeKind::string) {
      throw Error(ErrorCode::type_mismatch,
                  fmt::format("read_strings on a dataset of dtype {}", dtype.name()),
                  state_->context->name, path());
    }
    return unpack_fixed_strings(read(selection));
  }

  void write_strings(const Selection& selection, const std::vector<std::string>& values) override {
    const DType dtype = this->dtype();
    if (dtype.kind() != DTypeKind::string) {
      throw Error(ErrorCode::type_mismatch,
                  fmt::format("write_strings on a dataset of dtype {}", dtype.name()),
                  state_->context->name, path());
    }
    const Shape wanted = result_shape(resolve(selection, shape()));
    check_string_count(values.size(), wanted.num_elements(), state_->context->name, path());
    write(selection, pack_fixed_strings(dtype, values, wanted, state_->context->name, path()));
  }

 private:
  // A field of the array's current metadata.
  template <class Get>
  std::invoke_result_t<Get, const Sidecar&> current(Get get) const {
    std::lock_guard lock(state_->mutex);
    state_->check_usable();
    state_->refresh();
    return get(state_->meta);
  }

  Shape resolved_shape(const Selection& selection) const {
    return result_shape(resolve(selection, shape()));
  }

  std::vector<ResolvedAxis> resolve(const Selection& selection, const Shape& shape) const {
    return resolve_selection(selection, shape, state_->context->name, path());
  }

  void check_values(ArrayView values, const Shape& wanted) const {
    store::check_values(values, state_->meta.dtype, wanted, state_->context->name, path());
  }

  // Whether a selection is one run of whole rows (so its bytes are one
  // contiguous range of the file, in order).
  static bool contiguous_rows(const std::vector<ResolvedAxis>& axes, const Shape& shape) {
    if (axes.empty()) return true;
    if (axes[0].is_list || (axes[0].count > 1 && axes[0].step != 1)) return false;
    for (std::size_t a = 1; a < axes.size(); ++a) {
      const ResolvedAxis& r = axes[a];
      if (r.is_list || r.drops_axis || r.start != 0 || r.count != shape[a] ||
          (r.count > 1 && r.step != 1))
        return false;
    }
    return true;
  }

  // The selection `axes` with axis 0 moved down by `low` rows.
  static Selection shifted(const std::vector<ResolvedAxis>& axes, std::int64_t low) {
    std::vector<AxisSelection> out;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const ResolvedAxis& r = axes[a];
      const std::int64_t base = a == 0 ? low : 0;
      if (r.drops_axis) {
        out.push_back(AxisSelection::index(r.start - base));
      } else if (!r.is_list && r.step > 0) {
        out.push_back(
            AxisSelection::slice(r.start - base, r.start - base + r.count * r.step, r.step));
      } else {
        std::vector<std::int64_t> list(static_cast<std::size_t>(r.count));
        for (std::int64_t k = 0; k < r.count; ++k)
          list[static_cast<std::size_t>(k)] = r.source_index(k) - base;
        out.push_back(AxisSelection::indices(std::move(list)));
      }
    }
    return Selection(std::move(out));
  }

  std::shared_ptr<ArrayState> state_;
  std::unique_ptr<Attributes> attrs_;
};

}  // namespace

std::shared_ptr<Dataset> open_dataset(Context context, const std::string& path) {
  bool fresh = false;
  auto state = shared_state(context, path, fresh);
  std::lock_guard lock(state->mutex);
  if (fresh) {
    try {
      if (context->memmpy) {
        load_memmpy(*state, path.substr(1));
      } else {
        state->open_file(is_writable(context->mode), false);
        state->load_sidecar();
        if (context->options.untrusted) state->verify();
      }
    } catch (...) {
      context->arrays.erase(path);
      throw;
    }
  }
  return std::make_shared<MmapDataset>(state);
}

std::shared_ptr<Dataset> create_dataset(Context context, const std::string& path,
                                        const DatasetOptions& options) {
  const auto refuse = [&](ErrorCode code, const std::string& what) {
    return Error(code, what, context->name, path);
  };
  if (!options.dtype.is_fixed_size()) {
    throw refuse(ErrorCode::unsupported,
                 "the mmap driver stores fixed-size dtypes only (use 'S<n>' byte strings, not "
                 "variable-length strings)");
  }
  if (options.codec.id != "none") {
    throw refuse(ErrorCode::unsupported,
                 fmt::format("the mmap driver stores no compression; codec '{}' needs the hdf5 "
                             "driver (create the array with codec 'none')",
                             options.codec.id));
  }
  if (options.extendable && options.shape.rank() == 0)
    throw refuse(ErrorCode::invalid_argument, "a scalar dataset cannot be extendable");
  if (static_cast<double>(options.shape.num_elements()) *
          static_cast<double>(options.dtype.item_size()) >
      static_cast<double>(std::uint64_t{1} << 60))
    throw refuse(ErrorCode::invalid_argument, "the array would hold more than 2^60 bytes");
  Sidecar meta;
  meta.dtype = options.dtype;
  meta.extendable = options.extendable;
  meta.fill_value = options.fill_value;
  auto fill =
      element_from_json(options.dtype, options.fill_value);  // Error for one that does not fit

  bool fresh = false;
  auto state = shared_state(context, path, fresh);
  std::lock_guard lock(state->mutex);
  try {
    state->removed = false;
    state->meta = meta;
    state->meta.shape = options.shape.rank() == 0 ? Shape{} : options.shape.with(0, 0);
    state->fill = std::move(fill);
    state->tail.reset();
    state->map.reset();
    if (state->fd >= 0) ::close(state->fd);
    state->open_file(true, true);
    state->file_bytes = 0;
    if (options.shape.rank() == 0) {
      state->reserve(state->fill.size());
      state->write_at(state->fill.data(), state->fill.size(), 0);
      state->meta.checksums = block_checksums(state->fill, state->meta.block_bytes);
    } else {
      state->append_fill(static_cast<std::uint64_t>(options.shape[0]));
      state->meta.shape = options.shape;
    }
    state->save();  // the array exists from here on
  } catch (...) {
    context->arrays.erase(path);
    throw;
  }
  return std::make_shared<MmapDataset>(state);
}

void forget_arrays(const Context& context, const std::string& path) {
  context->arrays.forget(path, [](ArrayState& state) {
    std::lock_guard lock(state.mutex);
    state.removed = true;
  });
}

}  // namespace larder::store::mmap
