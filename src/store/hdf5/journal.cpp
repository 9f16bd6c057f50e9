#include "journal.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "../commit_record.h"
#include "../file_io.h"
#include "larder/core/endian.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/store/group.h"

namespace larder::store::hdf5 {
namespace {

constexpr char kTailGroup[] = "/.larder/tails";
constexpr char kDatasetAttr[] = "dataset";               // on each journal: the path of its dataset
constexpr std::uint64_t kMagic = 0x314c4e4a52445231ULL;  // "1RDRJNL1" read as little-endian text
constexpr std::uint64_t kVersion = 1;
constexpr std::uint64_t kCopySpacing = 2048;   // the two commit copies
constexpr std::uint64_t kSegmentTable = 3072;  // file addresses of segments 1, 2, ...
constexpr std::size_t kMaxSegments = 128;
constexpr std::uint64_t kHeaderBytes = 4096;
constexpr std::size_t kCommitWords = 13;
constexpr std::uint64_t kRecordBytes = 24;

std::string journal_name(const std::string& path) {
  return fmt::format("{}/{:016x}", kTailGroup, xxh3_64(path));
}
std::string segment_name(const std::string& name, std::size_t k) {
  return fmt::format("{}.{}", name, k);
}

std::uint64_t dataset_offset(hid_t dataset, const std::string& file, const std::string& name) {
  const haddr_t address = H5Dget_offset(dataset);
  if (address == HADDR_UNDEF) {
    throw Error(ErrorCode::corrupt, "the append journal has no storage", file, name);
  }
  return address;
}

// New objects are linked only once they are whole on disk. libhdf5 flushes
// its metadata in no particular order, so a writer killed in a flush that
// creates objects and links them can leave a link written and what it
// points to not (a group's first symbol table node, say): a group nothing
// can open, which breaks every later append and h5py's and h5dump's walks
// of the file. So the object and any missing groups above it are built
// anonymously, flushed, and the top one is linked into the existing
// ancestor last: a kill leaves no link (a few leaked bytes) or a whole
// subtree.
void link_whole(const Context& context, hid_t object, const std::string& name) {
  const std::vector<std::string> parts = split_path(name);
  // The existing ancestor: parts [0, have).
  std::string ancestor;
  std::size_t have = 0;
  while (have + 1 < parts.size()) {
    const std::string next = ancestor + "/" + parts[have];
    if (H5Lexists(context->file.get(), next.c_str(), H5P_DEFAULT) <= 0) break;
    ancestor = next;
    ++have;
  }
  H5Eclear2(H5E_DEFAULT);
  std::vector<Handle> groups;  // the new groups, innermost first
  hid_t top = object;
  for (std::size_t i = parts.size() - 1; i > have; --i) {
    groups.push_back(
        group_handle(check_id(H5Gcreate_anon(context->file.get(), H5P_DEFAULT, H5P_DEFAULT),
                              "cannot create the append journal", context->name, name)));
    check(H5Olink(top, groups.back().get(), parts[i].c_str(), H5P_DEFAULT, H5P_DEFAULT),
          "cannot link the append journal", context->name, name);
    top = groups.back().get();
  }
  check(H5Fflush(context->file.get(), H5F_SCOPE_LOCAL), "cannot flush", context->name, name);
  const std::string link = ancestor + "/" + parts[have];
  check(H5Olink(top, context->file.get(), link.c_str(), H5P_DEFAULT, H5P_DEFAULT),
        "cannot link the append journal", context->name, link);
}

// A uint8 dataset of `bytes`, contiguous and allocated now, never filled:
// writing into it later changes no metadata. Anonymous: link it with
// link_whole once it is ready.
Handle create_raw(const Context& context, const std::string& name, std::uint64_t bytes) {
  const hsize_t dims = bytes;
  Handle space = space_handle(H5Screate_simple(1, &dims, nullptr));
  Handle dcpl = plist_handle(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS);
  H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  return dataset_handle(check_id(
      H5Dcreate_anon(context->file.get(), H5T_NATIVE_UINT8, space.get(), dcpl.get(), H5P_DEFAULT),
      "cannot create the append journal", context->name, name));
}

bool exists(const Context& context, const std::string& name) {
  const bool yes = H5Lexists(context->file.get(), kTailGroup, H5P_DEFAULT) > 0 &&
                   H5Lexists(context->file.get(), name.c_str(), H5P_DEFAULT) > 0;
  H5Eclear2(H5E_DEFAULT);
  return yes;
}

// The names of the links in the journals' group (none when it is missing).
std::vector<std::string> tail_links(const Context& context) {
  std::vector<std::string> links;
  if (!exists(context, kTailGroup)) return links;
  Handle group = group_handle(H5Gopen2(context->file.get(), kTailGroup, H5P_DEFAULT));
  if (!group) return links;
  H5Literate(
      group.get(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr,
      [](hid_t, const char* link, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(link);
        return 0;
      },
      &links);
  H5Eclear2(H5E_DEFAULT);
  return links;
}

// The commit record's payload: rows, slot, records, clean, extent, stored
// bytes, object, slot bytes, capacity.
constexpr CommitRecordFormat kCommitFormat{
    .magic = kMagic, .version = kVersion, .words = kCommitWords};

// The commit record that counts in a journal's header (see commit_record.h).
std::optional<CommitRecord> latest_commit(std::span<const std::byte, kHeaderBytes> header) {
  return latest_commit_record(kCommitFormat, header.subspan(0, kCopySpacing),
                              header.subspan(kCopySpacing, kCopySpacing));
}

int file_descriptor(const Context& context) {
  void* handle = nullptr;
  check(H5Fget_vfd_handle(context->file.get(), H5P_DEFAULT, &handle),
        "cannot reach the file's descriptor", context->name);
  return *static_cast<int*>(handle);
}

}  // namespace

bool AppendJournal::supported(const Context& context) {
  return !context->options.in_memory;
}

AppendJournal::AppendJournal(Context context, std::string path, std::string name, int fd)
    : context_(std::move(context)), path_(std::move(path)), name_(std::move(name)), fd_(fd) {}

std::unique_ptr<AppendJournal> AppendJournal::create(const Context& context,
                                                     const std::string& path, std::uint64_t object,
                                                     std::uint64_t slot_bytes,
                                                     std::int64_t capacity) {
  remove(context, path);
  const std::string name = journal_name(path);
  Handle id = create_raw(
      context, name,
      kHeaderBytes + 2 * slot_bytes + static_cast<std::uint64_t>(capacity) * kRecordBytes);
  {  // which dataset it serves, for a writable open to find journals to recover
    Handle type = type_handle(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    Handle space = space_handle(H5Screate(H5S_SCALAR));
    Handle attr = attribute_handle(check_id(
        H5Acreate2(id.get(), kDatasetAttr, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        "cannot create the append journal", context->name, name));
    const char* text = path.c_str();
    check(H5Awrite(attr.get(), type.get(), &text), "cannot create the append journal",
          context->name, name);
  }
  std::unique_ptr<AppendJournal> j(
      new AppendJournal(context, path, name, file_descriptor(context)));
  j->base_ = dataset_offset(id.get(), context->name, name);
  j->object_ = object;
  j->slot_bytes_ = slot_bytes;
  j->capacity0_ = capacity;
  j->segments_.push_back({j->base_ + kHeaderBytes + 2 * slot_bytes, 0, capacity});
  // Neither copy holds a commit yet: a kill before the first one leaves a
  // journal that opens as none.
  const std::array<std::byte, kHeaderBytes> zeros{};
  j->pwrite_all(j->base_, zeros);
  link_whole(context, id.get(), name);
  return j;
}

std::unique_ptr<AppendJournal> AppendJournal::open(const Context& context, const std::string& path,
                                                   std::uint64_t object, std::uint64_t slot_bytes) {
  const std::string name = journal_name(path);
  if (!exists(context, name)) return nullptr;
  Handle id = dataset_handle(check_id(H5Dopen2(context->file.get(), name.c_str(), H5P_DEFAULT),
                                      "cannot open the append journal", context->name, name));
  std::unique_ptr<AppendJournal> j(
      new AppendJournal(context, path, name, file_descriptor(context)));
  j->base_ = dataset_offset(id.get(), context->name, name);
  Handle space = space_handle(H5Dget_space(id.get()));
  const auto bytes = static_cast<std::uint64_t>(H5Sget_simple_extent_npoints(space.get()));
  if (bytes < kHeaderBytes) return nullptr;
  std::array<std::byte, kHeaderBytes> header;
  j->pread_all(j->base_, header, true);

  const auto latest = latest_commit(header);
  if (!latest) return nullptr;  // a kill before the first commit: none committed
  const std::vector<std::uint64_t>& w = latest->payload;
  j->sequence_ = latest->sequence;
  j->commit_ = {.rows = static_cast<std::int64_t>(w[0]),
                .slot = static_cast<std::int64_t>(w[1]),
                .records = static_cast<std::int64_t>(w[2]),
                .clean = w[3] != 0,
                .extent = static_cast<std::int64_t>(w[4]),
                .stored_bytes = w[5]};
  j->object_ = w[6];
  j->slot_bytes_ = w[7];
  j->capacity0_ = static_cast<std::int64_t>(w[8]);
  if (j->object_ != object) return nullptr;  // another dataset's, once at this path
  const JournalCommit& c = j->commit_;
  if (j->slot_bytes_ != slot_bytes || c.rows < 0 || (c.slot != 0 && c.slot != 1) || c.records < 0 ||
      j->capacity0_ <= 0 ||
      bytes != kHeaderBytes + 2 * slot_bytes +
                   static_cast<std::uint64_t>(j->capacity0_) * kRecordBytes) {
    throw Error(ErrorCode::corrupt,
                fmt::format("the append journal {} does not fit the dataset (rows {}, slot {}, "
                            "{} records, {} bytes)",
                            name, c.rows, c.slot, c.records, bytes),
                context->name, path);
  }
  j->segments_.push_back({j->base_ + kHeaderBytes + 2 * slot_bytes, 0, j->capacity0_});
  // The segments committed records are in. Later ones (being added when a
  // writer was killed) are not used again: the next append adds its own.
  while (j->segments_.back().first + j->segments_.back().capacity < c.records) {
    const std::size_t k = j->segments_.size();
    const std::uint64_t address =
        k < kMaxSegments ? load_le(header.data() + kSegmentTable + 8 * k, 8) : 0;
    if (address == 0) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("the append journal {} has no segment {} for its {} records", name, k,
                              c.records),
                  context->name, path);
    }
    const Segment& last = j->segments_.back();
    j->segments_.push_back({address, last.first + last.capacity, last.capacity * 2});
  }
  return j;
}

std::vector<std::string> AppendJournal::unclean_datasets(const Context& context) {
  std::vector<std::string> out;
  for (const std::string& link : tail_links(context)) {
    if (link.find('.') != std::string::npos) continue;  // a segment
    const std::string name = fmt::format("{}/{}", kTailGroup, link);
    Handle id = dataset_handle(H5Dopen2(context->file.get(), name.c_str(), H5P_DEFAULT));
    if (!id || H5Aexists(id.get(), kDatasetAttr) <= 0) continue;
    Handle attr = attribute_handle(H5Aopen(id.get(), kDatasetAttr, H5P_DEFAULT));
    Handle type = type_handle(H5Aget_type(attr.get()));
    char* text = nullptr;
    if (H5Aread(attr.get(), type.get(), &text) < 0 || text == nullptr) continue;
    std::string path = text;
    H5free_memory(text);
    const haddr_t base = H5Dget_offset(id.get());
    if (base == HADDR_UNDEF) continue;
    std::array<std::byte, kHeaderBytes> header;
    AppendJournal(context, path, name, file_descriptor(context)).pread_all(base, header, true);
    const auto latest = latest_commit(header);
    if (latest && latest->payload[3] == 0) out.push_back(std::move(path));
  }
  H5Eclear2(H5E_DEFAULT);
  return out;
}

void AppendJournal::remove(const Context& context, const std::string& path) {
  const std::string name = journal_name(path);
  if (!exists(context, kTailGroup)) return;
  // The journal and its segments: every link named "<name>" or "<name>.*".
  const std::string leaf = name.substr(name.rfind('/') + 1);
  const std::vector<std::string> links = tail_links(context);
  Handle group = group_handle(H5Gopen2(context->file.get(), kTailGroup, H5P_DEFAULT));
  if (!group) return;
  for (const std::string& link : links) {
    if (link == leaf || link.starts_with(leaf + "."))
      H5Ldelete(group.get(), link.c_str(), H5P_DEFAULT);  // a torn one may not go: harmless
  }
  H5Eclear2(H5E_DEFAULT);
}

void AppendJournal::add_segment() {
  const std::size_t k = segments_.size();
  const Segment& last = segments_.back();
  if (k >= kMaxSegments) {
    throw Error(ErrorCode::unsupported,
                fmt::format("the append journal is full: {} segments hold {} chunk records",
                            kMaxSegments, last.first + last.capacity),
                context_->name, path_);
  }
  const std::int64_t capacity = last.capacity * 2;
  // A segment of this number left by a killed writer may still be there,
  // perhaps unreadable: take the next free name.
  std::string name = segment_name(name_, k);
  for (int n = 1; exists(context_, name); ++n) {
    H5Ldelete(context_->file.get(), name.c_str(), H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    if (exists(context_, name)) name = fmt::format("{}.{}", segment_name(name_, k), n);
  }
  Handle id = create_raw(context_, name, static_cast<std::uint64_t>(capacity) * kRecordBytes);
  const std::uint64_t address = dataset_offset(id.get(), context_->name, name);
  // Its storage is allocated on disk (link_whole flushes) before the table
  // points at it.
  link_whole(context_, id.get(), name);
  std::array<std::byte, 8> entry;
  store_le(entry.data(), address, 8);
  pwrite_all(base_ + kSegmentTable + 8 * k, entry);
  segments_.push_back({address, last.first + last.capacity, capacity});
}

void AppendJournal::commit(const JournalCommit& c) {
  const std::uint64_t sequence = sequence_ + 1;
  std::array<std::byte, 8 * kCommitWords> p{};
  encode_commit_record(
      kCommitFormat,
      {.sequence = sequence,
       .payload = {static_cast<std::uint64_t>(c.rows), static_cast<std::uint64_t>(c.slot),
                   static_cast<std::uint64_t>(c.records), c.clean ? 1u : 0u,
                   static_cast<std::uint64_t>(c.extent), c.stored_bytes, object_, slot_bytes_,
                   static_cast<std::uint64_t>(capacity0_)}},
      p);
  pwrite_all(base_ + commit_copy(sequence) * kCopySpacing, p);
  sequence_ = sequence;
  commit_ = c;
}

void AppendJournal::read_slot(std::int64_t slot, std::span<std::byte> out) const {
  pread_all(base_ + kHeaderBytes + static_cast<std::uint64_t>(slot) * slot_bytes_, out);
}

void AppendJournal::write_slot(std::int64_t slot, std::uint64_t offset,
                               std::span<const std::byte> bytes) {
  if (offset + bytes.size() > slot_bytes_) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("{} bytes at byte {} of a slot of {} bytes", bytes.size(), offset, slot_bytes_),
        context_->name, path_);
  }
  pwrite_all(base_ + kHeaderBytes + static_cast<std::uint64_t>(slot) * slot_bytes_ + offset, bytes);
}

std::vector<ChunkRecord> AppendJournal::read_records(std::int64_t count) const {
  std::vector<ChunkRecord> out;
  out.reserve(static_cast<std::size_t>(count));
  std::vector<std::byte> bytes;
  for (const Segment& s : segments_) {
    const std::int64_t n = std::min(count - s.first, s.capacity);
    if (n <= 0) break;
    bytes.resize(static_cast<std::size_t>(n) * kRecordBytes);
    pread_all(s.address, bytes);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::byte* p = bytes.data() + i * kRecordBytes;
      out.push_back(
          {load_le(p, 8), load_le(p + 8, 8), static_cast<std::uint32_t>(load_le(p + 16, 8))});
    }
  }
  return out;
}

void AppendJournal::write_records(std::int64_t first, std::span<const ChunkRecord> records) {
  std::int64_t i = first;
  std::size_t done = 0;
  std::vector<std::byte> bytes;
  while (done < records.size()) {
    while (segments_.back().first + segments_.back().capacity <= i)
      add_segment();
    const Segment* s = &segments_.front();
    for (const Segment& candidate : segments_) {
      if (i >= candidate.first && i < candidate.first + candidate.capacity) s = &candidate;
    }
    const auto n = std::min<std::size_t>(records.size() - done,
                                         static_cast<std::size_t>(s->first + s->capacity - i));
    bytes.assign(n * kRecordBytes, std::byte{0});
    for (std::size_t k = 0; k < n; ++k) {
      const ChunkRecord& r = records[done + k];
      store_le(bytes.data() + k * kRecordBytes, r.address, 8);
      store_le(bytes.data() + k * kRecordBytes + 8, r.size, 8);
      store_le(bytes.data() + k * kRecordBytes + 16, r.mask, 8);
    }
    pwrite_all(s->address + static_cast<std::uint64_t>(i - s->first) * kRecordBytes, bytes);
    done += n;
    i += static_cast<std::int64_t>(n);
  }
}

std::vector<std::byte> AppendJournal::read_file(std::uint64_t address, std::uint64_t size) const {
  std::vector<std::byte> out(size);
  pread_all(address, out);
  return out;
}

void AppendJournal::pwrite_all(std::uint64_t address, std::span<const std::byte> bytes) const {
  write_at(fd_, bytes, address, context_->name, path_);
}

void AppendJournal::pread_all(std::uint64_t address, std::span<std::byte> out,
                              bool zeros_past_end) const {
  const std::size_t n = read_at(fd_, out, address, context_->name, path_);
  if (n == out.size()) return;
  if (!zeros_past_end) {
    throw Error(
        ErrorCode::corrupt,
        fmt::format("the append journal points past the end of the file (byte {})", address + n),
        context_->name, path_);
  }
  std::memset(out.data() + n, 0, out.size() - n);  // allocated, never written
}

}  // namespace larder::store::hdf5
