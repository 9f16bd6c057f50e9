// MmapDataset: arrays as raw C-order files read through a read-only shared
// mapping and written with pwrite (docs/formats/mmap.md).
//
// Reads of a contiguous run of rows return Arrays that alias the mapping
// (zero-copy, read-only); other selections copy. Appends grow the file
// geometrically with ftruncate, pwrite the rows past the committed length
// and extend the block checksums from a running hash of the last block;
// then an extendable array's commit (commit.h) is published: the sums of
// the blocks it completed, then a 64-byte slot of NAME.commit. That pwrite
// commits the rows; the sidecar, which would cost a rewrite and a rename,
// follows on flush() or close(). Every other change (in-place writes,
// resizes, attributes) rewrites the sidecar, then the slot. All Dataset
// objects of one array share one ArrayState.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../driver_common.h"
#include "../file_io.h"
#include "../fixed_strings.h"
#include "commit.h"
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

// An open file descriptor, closed with its owner.
class FileHandle {
 public:
  FileHandle() = default;
  explicit FileHandle(int fd) : fd_(fd) {}
  FileHandle(FileHandle&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileHandle& operator=(FileHandle&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~FileHandle() { reset(); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

std::string errno_text() {
  return std::strerror(errno);
}

bool same_file_state(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

struct ArrayState : std::enable_shared_from_this<ArrayState> {
  Context context;
  std::string path;
  std::filesystem::path bin, json, commit_file, sums_file;
  bool memmpy = false;

  std::mutex mutex;
  // The array as committed: the sidecar's fields, with the rows and
  // checksums of the latest commit.
  Sidecar meta;
  std::vector<std::byte> fill;   // one element
  FileHandle data;               // NAME.bin
  FileHandle commits, sums;      // NAME.commit, NAME.sums: open when journaled()
  std::uint64_t file_bytes = 0;  // the data file's size (its capacity)
  std::shared_ptr<Mapping> map;
  // The sidecar as last read (a reader rereads it only when it changed),
  // and its file's state then or after this state last wrote it.
  Sidecar sidecar;
  struct stat seen {};
  std::uint64_t sequence = 0;     // the latest commit, in the sidecar or the commit file
  std::uint64_t slot_seen = 0;    // the sequence the commit file held when last read
  std::uint64_t sums_synced = 0;  // leading entries of NAME.sums that hold meta's checksums
  bool sidecar_behind = false;    // commits the sidecar does not record yet
  // Running hash of the last, partly filled checksum block.
  std::optional<Hasher64> tail;
  std::uint64_t tail_block = 0;
  bool removed = false;

  ArrayState() = default;
  ArrayState(const ArrayState&) = delete;
  ArrayState& operator=(const ArrayState&) = delete;

  [[noreturn]] void fail(ErrorCode code, const std::string& what) const {
    throw Error(code, what, context->name, path);
  }

  [[noreturn]] void checksum_mismatch(std::uint64_t block, std::uint64_t begin, std::uint64_t end,
                                      std::uint64_t want, std::uint64_t got,
                                      std::string_view consequence = {}) const {
    fail(ErrorCode::corrupt,
         fmt::format("checksum mismatch in {} block {} (bytes {} to {}): the metadata says {}, "
                     "the data hashes to {}{}",
                     bin.string(), block, begin, end, hex64(want), hex64(got), consequence));
  }

  void check_usable() const {
    context->check_open(path);
    if (removed) fail(ErrorCode::not_found, "this array was removed from the store");
  }

  // Whether the array has a commit file: extendable, format version 2.
  bool journaled() const { return !memmpy && meta.extendable && meta.version >= 2; }

  ArrayFiles files() const { return {bin.string(), commit_file.string(), sums_file.string()}; }

  FileHandle open_file(const std::filesystem::path& file, const char* what, bool writable,
                       bool create) const {
    const int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0);
    FileHandle handle(::open(file.c_str(), flags, 0644));
    if (!handle) {
      fail(errno == ENOENT ? ErrorCode::corrupt : ErrorCode::io,
           fmt::format("cannot open {} {}: {}", what, file.string(), errno_text()));
    }
    return handle;
  }

  std::uint64_t size_of(const FileHandle& file, const std::filesystem::path& name) const {
    struct stat st {};
    if (::fstat(file.get(), &st) != 0)
      fail(ErrorCode::io, fmt::format("cannot stat {}: {}", name.string(), errno_text()));
    return static_cast<std::uint64_t>(st.st_size);
  }
  std::uint64_t current_file_size() const { return size_of(data, bin); }

  void write_to(const FileHandle& file, const std::filesystem::path& name,
                std::span<const std::byte> bytes, std::uint64_t offset) {
    store::write_at(file.get(), bytes, offset, name.string(), path);
  }
  void write_at(const std::byte* bytes, std::uint64_t size, std::uint64_t offset) {
    write_to(data, bin, {bytes, size}, offset);
  }

  void check_file_holds(const Sidecar& m) {
    file_bytes = current_file_size();
    if (file_bytes < m.committed_bytes()) {
      fail(ErrorCode::corrupt,
           fmt::format("{} holds {} bytes, fewer than the {} its metadata commits ({} rows of "
                       "{} bytes): the file is truncated",
                       bin.string(), file_bytes, m.committed_bytes(), m.rows(), m.row_bytes()));
    }
  }

  // ---- reading the committed state -------------------------------------------

  // The commit that counts in NAME.commit, if either slot holds one.
  std::optional<Commit> read_commit() const {
    std::array<std::byte, kCommitFileBytes> bytes{};
    const std::size_t n = read_at(commits.get(), bytes, 0, commit_file.string(), path);
    return parse_commit_file(std::span(bytes.data(), n));
  }

  // The first `count` entries of NAME.sums.
  std::vector<std::uint64_t> read_sums(std::uint64_t count) const {
    std::vector<std::byte> bytes(count * kSumBytes);
    if (read_at(sums.get(), bytes, 0, sums_file.string(), path) != bytes.size()) {
      fail(ErrorCode::corrupt, fmt::format("{} ends before the checksums of its {} full blocks",
                                           sums_file.string(), count));
    }
    return parse_sums(bytes);
  }

  // Reads the array's committed state: the sidecar (or, unless
  // `reread_sidecar`, the one read last), then for a journaled array the
  // commit that counts: the commit file's when it is newer than the
  // sidecar's. The commit is read before the sizes of the files it is
  // checked against, which a writer grows before it commits.
  void load(bool reread_sidecar) {
    try {
      if (reread_sidecar) {
        sidecar = parse_sidecar(read_text(json, path), json.string());
        ::stat(json.c_str(), &seen);
        // A new sidecar may belong to an array made anew at this path.
        commits.reset();
        sums.reset();
      }
      Sidecar next = sidecar;
      std::optional<Commit> latest;
      if (!memmpy && next.extendable && next.version >= 2) {
        const bool writable = is_writable(context->mode);
        if (!commits) commits = open_file(commit_file, "the commit file", writable, false);
        if (!sums) sums = open_file(sums_file, "the checksum file", writable, false);
        latest = read_commit();
        if (!latest) {
          fail(ErrorCode::corrupt,
               fmt::format("neither slot of {} holds a valid commit (the sidecar records commit "
                           "{})",
                           commit_file.string(), next.commit_sequence));
        }
        if (latest->sequence > next.commit_sequence) {
          check_commit(*latest, next, current_file_size(), size_of(sums, sums_file), files());
          apply_commit(next, *latest, read_sums(latest->full_blocks));
        }
      } else {
        commits.reset();
        sums.reset();
      }
      check_file_holds(next);
      if (latest && latest->sequence == next.commit_sequence && latest->rows != next.rows()) {
        fail(ErrorCode::corrupt,
             fmt::format("{} and {} both record commit {}, with {} rows and {}", json.string(),
                         commit_file.string(), latest->sequence, next.rows(), latest->rows));
      }
      const bool slot_newer = latest && latest->sequence > sidecar.commit_sequence;
      fill = element_from_json(next.dtype, next.fill_value);
      meta = std::move(next);
      slot_seen = latest ? latest->sequence : 0;
      sequence = std::max(slot_seen, meta.commit_sequence);
      sums_synced = slot_newer ? latest->full_blocks : 0;
      sidecar_behind = slot_newer;
      tail.reset();
    } catch (const Error& e) {
      throw e.at(json.string(), path);  // the array's path too
    }
  }

  // A reader picks up what another process committed since it last looked:
  // a new commit slot, or a new sidecar.
  void refresh() {
    if (memmpy || is_writable(context->mode)) return;
    struct stat now {};
    // A sidecar missing for a moment (removed) keeps what we have.
    const bool sidecar_changed = ::stat(json.c_str(), &now) == 0 && !same_file_state(now, seen);
    bool slot_changed = false;
    if (commits) {
      // A slot read while it is written fails its checksum and the other
      // one, the previous commit, counts: the next call sees the new one.
      const auto latest = read_commit();
      slot_changed = latest && latest->sequence != slot_seen;
    }
    if (sidecar_changed || slot_changed) load(sidecar_changed);
  }

  // The mapping, covering at least the first `bytes` bytes of the file.
  std::shared_ptr<Mapping> mapping(std::uint64_t bytes) {
    if (bytes == 0 || (map && map->size >= bytes)) return map;
    const std::uint64_t size = current_file_size();
    if (size < bytes) {
      fail(ErrorCode::corrupt,
           fmt::format("{} shrank to {} bytes; {} are committed", bin.string(), size, bytes));
    }
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, data.get(), 0);
    if (p == MAP_FAILED)
      fail(ErrorCode::io, fmt::format("cannot map {}: {}", bin.string(), errno_text()));
    map = std::make_shared<Mapping>(static_cast<std::byte*>(p), size);
    return map;
  }

  // ---- changing the data --------------------------------------------------------

  // An extendable array's file grows geometrically (n appends cost at most
  // log(n) ftruncates, and nothing written is ever copied); a fixed-size
  // array's file is exactly its bytes, as numpy.memmap would write it.
  void reserve(std::uint64_t end) {
    if (end <= file_bytes) return;
    const std::uint64_t capacity =
        meta.extendable ? std::max({end, file_bytes * 2, kMinCapacity}) : end;
    if (::ftruncate(data.get(), static_cast<off_t>(capacity)) != 0)
      fail(ErrorCode::io, fmt::format("cannot grow {}: {}", bin.string(), errno_text()));
    file_bytes = capacity;
  }

  // Writes `size` bytes just past the committed ones and extends the block
  // checksums over them; the caller then updates the shape and commits (or,
  // on an Error, restores the checksums). Hashing first leaves the bytes in
  // the CPU cache for the copy into the file: measured ~8% faster appends
  // than writing first, when the rows come from memory.
  void append_bytes(const std::byte* bytes, std::uint64_t size) {
    append_bytes_at(bytes, size, meta.committed_bytes());
  }

  // append_bytes() at `offset`, the end of what is committed plus what the
  // caller wrote before this call without committing it yet.
  void append_bytes_at(const std::byte* bytes, std::uint64_t size, std::uint64_t offset) {
    if (size == 0) return;
    reserve(offset + size);
    if (!tail || tail_block != offset / meta.block_bytes) resume_tail(offset);
    extend_checksums(bytes, size, offset);
    write_at(bytes, size, offset);
  }

  // Extends the running hash of the last block, and the block checksums,
  // over `size` bytes appended at `offset`.
  void extend_checksums(const std::byte* bytes, std::uint64_t size, std::uint64_t offset) {
    const std::uint64_t block = meta.block_bytes;
    std::uint64_t pos = offset;
    while (size > 0) {
      const std::uint64_t take = std::min(size, block - pos % block);
      tail->update({bytes, take});
      meta.checksums.resize(tail_block + 1);
      meta.checksums[tail_block] = tail->digest64();
      bytes += take;
      size -= take;
      pos += take;
      if (pos % block == 0) {
        tail.emplace();
        ++tail_block;
      }
    }
  }

  // Starts the running hash of the block holding byte `offset` (the first
  // not committed) from the committed bytes before it, which must still
  // hash to their recorded checksum: appending would otherwise vouch for
  // bytes that changed since they were committed.
  void resume_tail(std::uint64_t offset) {
    const std::uint64_t block = meta.block_bytes;
    tail.emplace();
    tail_block = offset / block;
    const std::uint64_t start = tail_block * block;
    if (offset == start) return;
    auto m = mapping(offset);
    tail->update({m->data + start, offset - start});
    const std::uint64_t want = meta.checksums.at(tail_block);
    const std::uint64_t got = tail->digest64();
    if (got != want) {
      tail.reset();
      checksum_mismatch(tail_block, start, offset, want, got,
                        "; nothing is appended to a damaged block");
    }
  }

  // Appends `rows` rows of the fill value, in pieces that each start where
  // the one before ended (the shape, and so the committed length, changes
  // only when the caller commits them all).
  void append_fill(std::uint64_t rows) {
    const std::uint64_t total = rows * meta.row_bytes();
    if (total == 0) return;
    const std::size_t item = fill.size();
    const std::size_t piece =
        std::max<std::size_t>(item, std::min<std::size_t>(kFillPiece, total) / item * item);
    std::vector<std::byte> buffer(piece);
    for (std::size_t i = 0; i < piece; i += item)
      std::memcpy(buffer.data() + i, fill.data(), item);
    const std::uint64_t start = meta.committed_bytes();
    for (std::uint64_t done = 0; done < total;) {
      const std::uint64_t n = std::min<std::uint64_t>(piece, total - done);
      append_bytes_at(buffer.data(), n, start + done);
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
      sums_synced = std::min(sums_synced, b);
    }
  }

  // ---- publishing ----------------------------------------------------------------

  // Before any change: the store is open and writable.
  void begin_change() const {
    check_usable();
    context->check_writable(path);
  }

  // Before the first commit to a version 1 extendable array: it gets its
  // commit file (and becomes version 2).
  void ensure_journal() {
    if (memmpy || !meta.extendable || meta.version >= 2) return;
    try {
      start_journal();
    } catch (...) {
      meta.version = 1;
      commits.reset();
      sums.reset();
      throw;
    }
  }

  // Makes the commit and checksum files for the current state, then the
  // version 2 sidecar that points readers at them: until its rename, the
  // array is what it was (version 1, or absent when being created).
  void start_journal() {
    commits = open_file(commit_file, "the commit file", true, true);
    sums = open_file(sums_file, "the checksum file", true, true);
    sums_synced = 0;
    write_sums();
    write_slot(1);
    meta.version = 2;
    meta.commit_sequence = 1;
    write_sidecar();
    sequence = slot_seen = 1;
  }

  // The checksums of full blocks NAME.sums does not hold yet.
  void write_sums() {
    const std::uint64_t full = meta.committed_bytes() / meta.block_bytes;
    sums_synced = std::min(sums_synced, full);
    if (sums_synced == full) return;
    const auto bytes =
        format_sums(std::span(meta.checksums).subspan(sums_synced, full - sums_synced));
    write_to(sums, sums_file, bytes, sums_synced * kSumBytes);
    sums_synced = full;
  }

  void write_slot(std::uint64_t sequence_number) {
    const Commit c = commit_of(meta, sequence_number);
    write_to(commits, commit_file, format_commit_slot(c), commit_slot_offset(c.sequence));
  }

  // Commits an append: the sums of the blocks it completed, then the next
  // slot. A slot that fails to be written leaves `sequence` as it was, so
  // the next commit goes to the same slot and never over the current one.
  void commit() {
    ensure_journal();
    write_sums();
    write_slot(sequence + 1);
    ++sequence;
    if (!sidecar_behind) {
      sidecar_behind = true;
      keep_until_saved();
    }
  }

  // The store keeps this state (and so its pending sidecar) until flush()
  // or close(), however many Dataset objects come and go meanwhile.
  void keep_until_saved() {
    std::lock_guard lock(context->unsaved_mutex);
    context->unsaved.emplace(path, shared_from_this());
  }

  // Commits any other change (in-place write, resize, attributes): the
  // sidecar first, recording the next commit, then that commit's slot.
  void save() {
    ensure_journal();
    if (!journaled()) {
      write_sidecar();
      return;
    }
    write_sums();
    meta.commit_sequence = sequence + 1;
    write_sidecar();
    sequence = meta.commit_sequence;  // the sidecar holds it: the slot may follow
    write_slot(sequence);
  }

  void write_sidecar() {
    replace_file(json, format_sidecar(meta));
    ::stat(json.c_str(), &seen);
    sidecar_behind = false;
  }

  // Writes the sidecar if commits since it was written are not in it.
  void save_sidecar() {
    if (!sidecar_behind || removed) return;
    meta.commit_sequence = sequence;
    write_sidecar();
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
      if (actual != meta.checksums[b])
        checksum_mismatch(b, start, start + size, meta.checksums[b], actual);
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
    if (n != 0 && bytes > kMaxArrayBytes / n) throw bad("its shape is too large");
    bytes *= n;
    dims.push_back(static_cast<std::int64_t>(n));
  }
  meta.shape = Shape(std::move(dims));
  state.meta = std::move(meta);
  state.meta.attrs = nlohmann::json::object();
  if (entry.contains("check")) state.meta.attrs["check"] = entry["check"];
  state.fill = element_from_json(state.meta.dtype, nullptr);
  state.bin = state.context->fs_path / (hex64(memmpy_hash64(name)) + ".npy");
  state.data = state.open_file(state.bin, "the data file", false, false);
  state.check_file_holds(state.meta);
}

std::shared_ptr<ArrayState> shared_state(const Context& context, const std::string& path,
                                         bool& fresh) {
  return context->arrays.get(path, fresh, [&] {
    auto state = std::make_shared<ArrayState>();
    state->context = context;
    state->path = path;
    state->bin = member_file(context, path, ".bin");
    state->json = member_file(context, path, ".json");
    state->commit_file = member_file(context, path, ".commit");
    state->sums_file = member_file(context, path, ".sums");
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
               s->begin_change();
               auto before = std::pair{std::move(s->meta.attrs), std::move(s->meta.array_attrs)};
               s->meta.attrs = attrs;
               s->meta.array_attrs = arrays;
               try {
                 s->save();
               } catch (...) {
                 std::tie(s->meta.attrs, s->meta.array_attrs) = std::move(before);
                 throw;
               }
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
  std::vector<std::int64_t> chunks() const override {  // never chunked
    return current([](const Sidecar&) { return std::vector<std::int64_t>{}; });
  }
  std::optional<codec::CodecSpec> codec() const override {  // never compressed
    return current([](const Sidecar&) { return std::optional(codec::CodecSpec{}); });
  }
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
    state_->begin_change();
    Sidecar& meta = state_->meta;
    const auto axes = resolve(selection, meta.shape);
    const Shape wanted = result_shape(axes);
    check_values(values, wanted);
    if (wanted.num_elements() == 0) return;
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
    // Everything in the file's byte order: the values, as the block when they
    // are whole rows, else put into a copy of the rows they touch.
    const Array packed = packed_for(values, meta.dtype, wanted);
    if (contiguous_rows(axes, meta.shape)) {
      state_->write_at(packed.data(), end - begin, begin);
    } else {
      auto map = state_->mapping(meta.committed_bytes());
      const Shape rows = axes.empty() ? Shape{} : meta.shape.with(0, high - low + 1);
      Array block = Array::copy_of(ArrayView(map->data + begin, meta.dtype, rows));
      put(block.mutable_view(), shifted(axes, low), packed);
      state_->write_at(block.data(), end - begin, begin);
    }
    state_->rehash(begin, end);
    state_->save();
  }

  void append(ArrayView rows) override {
    std::lock_guard lock(state_->mutex);
    state_->begin_change();
    Sidecar& meta = state_->meta;
    const std::int64_t count =
        rows_to_append(rows, meta.shape, meta.extendable, state_->context->name, path());
    check_values(rows, rows.shape());
    if (count == 0) return;
    // The rows as the file holds them: the caller's memory when it already is.
    const Array packed = packed_as(rows, meta.dtype);
    // What a failed append restores (the bytes past the committed ones are
    // not data): the rows, and the checksum of the block it extended.
    const Shape shape_before = meta.shape;
    const std::size_t blocks_before = meta.checksums.size();
    const std::uint64_t last_before = blocks_before > 0 ? meta.checksums.back() : 0;
    try {
      state_->append_bytes(packed.data(), static_cast<std::uint64_t>(count) * meta.row_bytes());
      meta.shape = meta.shape.with(0, meta.shape[0] + count);
      state_->commit();
    } catch (...) {
      meta.shape = shape_before;
      meta.checksums.resize(blocks_before);
      if (blocks_before > 0) meta.checksums.back() = last_before;
      state_->tail.reset();
      throw;
    }
  }

  void resize(const Shape& shape) override {
    std::lock_guard lock(state_->mutex);
    state_->begin_change();
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
        state->data =
            state->open_file(state->bin, "the data file", is_writable(context->mode), false);
        state->load(true);
        if (context->options.untrusted) state->verify();
        // Commits a killed writer left past the sidecar: the next flush or
        // close records them there.
        if (state->sidecar_behind && is_writable(context->mode)) state->keep_until_saved();
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
  auto fill = check_new_dataset(options, context->name, path);
  Sidecar meta;
  meta.dtype = options.dtype;
  meta.extendable = options.extendable;
  meta.fill_value = options.fill_value;

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
    state->commits.reset();
    state->sums.reset();
    state->data = state->open_file(state->bin, "the data file", true, true);
    state->file_bytes = 0;
    if (options.shape.rank() == 0) {
      state->reserve(state->fill.size());
      state->write_at(state->fill.data(), state->fill.size(), 0);
      state->meta.checksums = block_checksums(state->fill, state->meta.block_bytes);
    } else {
      state->append_fill(static_cast<std::uint64_t>(options.shape[0]));
      state->meta.shape = options.shape;
    }
    // The array exists from the sidecar's rename on.
    if (options.extendable) {
      state->start_journal();
    } else {
      state->write_sidecar();
    }
  } catch (...) {
    context->arrays.erase(path);
    throw;
  }
  return std::make_shared<MmapDataset>(state);
}

void forget_arrays(const Context& context, const std::string& path) {
  const auto under = [&](const std::string& p) {
    return p == path || p.starts_with(path == "/" ? "/" : path + "/");
  };
  {
    std::lock_guard lock(context->unsaved_mutex);
    std::erase_if(context->unsaved, [&](const auto& entry) { return under(entry.first); });
  }
  context->arrays.forget(path, [](ArrayState& state) {
    std::lock_guard lock(state.mutex);
    state.removed = true;
  });
}

void save_sidecars(const Context& context, bool closing) {
  std::map<std::string, std::shared_ptr<ArrayState>> unsaved;
  {
    std::lock_guard lock(context->unsaved_mutex);
    unsaved.swap(context->unsaved);
  }
  std::exception_ptr failure;
  for (auto& [path, state] : unsaved) {
    try {
      std::lock_guard lock(state->mutex);
      state->save_sidecar();
    } catch (...) {
      if (!failure) failure = std::current_exception();
      if (!closing) {  // kept for the next flush
        std::lock_guard lock(context->unsaved_mutex);
        context->unsaved.emplace(path, state);
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace larder::store::mmap
