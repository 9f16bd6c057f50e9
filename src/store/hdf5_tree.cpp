// HDF5 files read without libhdf5 (see hdf5_tree.h). The structures follow
// the HDF5 File Format Specification, version 2: superblock versions 0 to 3,
// version 1 and 2 object headers, symbol-table groups (version 1 B-trees,
// symbol table nodes, local heaps) and compact new-style groups (link
// messages; dense ones, in fractal heaps, are declined), global heap
// collections for variable-length strings. Every read is bounds-checked
// against the file; whatever is not understood ends the parse (the caller
// falls back to libhdf5).
#include "larder/store/hdf5_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string_view>

#include "larder/core/endian.h"
#include "larder/store/element_json.h"

namespace larder::store {
namespace {

// Thrown for anything this reader leaves to libhdf5; never leaves this file.
struct NotHandled {};

[[noreturn]] void decline() {
  throw NotHandled{};
}

void require(bool condition) {
  if (!condition) decline();
}

constexpr std::uint64_t kUndefined = ~std::uint64_t{0};
constexpr std::string_view kSignature{"\x89HDF\r\n\x1a\n", 8};
constexpr int kMaxDepth = 256;

// Little-endian fields of one bounds-checked span of the file.
class Fields {
 public:
  Fields(std::span<const std::byte> bytes, unsigned offset_size, unsigned length_size)
      : bytes_(bytes), offset_size_(offset_size), length_size_(length_size) {}

  std::uint64_t number(unsigned width) {
    require(width <= 8 && remaining() >= width);
    const std::uint64_t v = load_le(bytes_.data() + at_, static_cast<int>(width));
    at_ += width;
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(number(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(number(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(number(4)); }
  std::uint64_t length() { return number(length_size_); }
  // An address; all bits set (any width) is "undefined".
  std::uint64_t address() {
    const std::uint64_t v = number(offset_size_);
    const std::uint64_t all =
        offset_size_ == 8 ? kUndefined : (std::uint64_t{1} << (8 * offset_size_)) - 1;
    return v == all ? kUndefined : v;
  }
  std::span<const std::byte> take(std::uint64_t n) {
    require(n <= remaining());
    auto out = bytes_.subspan(at_, static_cast<std::size_t>(n));
    at_ += static_cast<std::size_t>(n);
    return out;
  }
  void skip(std::uint64_t n) { take(n); }
  bool starts_with(std::string_view tag) {
    if (remaining() < tag.size() || std::memcmp(bytes_.data() + at_, tag.data(), tag.size()) != 0) {
      return false;
    }
    at_ += tag.size();
    return true;
  }
  std::size_t remaining() const { return bytes_.size() - at_; }
  std::size_t position() const { return at_; }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
  unsigned offset_size_;
  unsigned length_size_;
};

// The checksum of the newer structures (superblock 2/3, version 2 object
// headers): Bob Jenkins' lookup3 hash of the bytes, initial value 0.
std::uint32_t lookup3(std::span<const std::byte> bytes) {
  const auto rot = [](std::uint32_t x, int k) { return (x << k) | (x >> (32 - k)); };
  std::uint32_t a = 0xdeadbeef + static_cast<std::uint32_t>(bytes.size());
  std::uint32_t b = a, c = a;
  const auto word = [&](std::size_t at, std::size_t n) {  // n <= 4 bytes
    return static_cast<std::uint32_t>(load_le(bytes.data() + at, static_cast<int>(n)));
  };
  std::size_t at = 0, left = bytes.size();
  while (left > 12) {
    a += word(at, 4);
    b += word(at + 4, 4);
    c += word(at + 8, 4);
    a -= c, a ^= rot(c, 4), c += b;
    b -= a, b ^= rot(a, 6), a += c;
    c -= b, c ^= rot(b, 8), b += a;
    a -= c, a ^= rot(c, 16), c += b;
    b -= a, b ^= rot(a, 19), a += c;
    c -= b, c ^= rot(b, 4), b += a;
    at += 12;
    left -= 12;
  }
  if (left == 0) return c;
  a += word(at, std::min<std::size_t>(left, 4));
  if (left > 4) b += word(at + 4, std::min<std::size_t>(left - 4, 4));
  if (left > 8) c += word(at + 8, left - 8);
  c ^= b, c -= rot(b, 14);
  a ^= c, a -= rot(c, 11);
  b ^= a, b -= rot(a, 25);
  c ^= b, c -= rot(b, 16);
  a ^= c, a -= rot(c, 4);
  b ^= a, b -= rot(a, 14);
  c ^= b, c -= rot(b, 24);
  return c;
}

// Whether the 4 bytes after `covered` are its lookup3 checksum (always, in
// fuzzing builds: the fuzzer explores what the checksums guard).
bool checksum_matches(std::span<const std::byte> covered, std::span<const std::byte> stored) {
#ifdef LARDER_FUZZING
  return true;
#endif
  return lookup3(covered) == load_le(stored.data(), 4);
}

// A datatype message, reduced to what a dataset or an attribute needs.
struct Type {
  DType dtype = DType::uint8();
  std::uint64_t size = 0;  // bytes per element in the file
  int string_pad = -1;     // fixed strings: 0 nullterm, 1 nullpad, 2 spacepad
  int string_cset = 0;
};

struct Message {
  std::uint16_t type;
  std::span<const std::byte> body;
};

// The file's bytes by absolute offset: a span stays valid as long as the
// source. Out-of-range requests decline.
class Source {
 public:
  explicit Source(std::uint64_t size) : size_(size) {}
  virtual ~Source() = default;
  std::uint64_t size() const { return size_; }
  virtual std::span<const std::byte> bytes(std::uint64_t offset, std::uint64_t size) = 0;
  // Copies into `out` (the values of a dataset).
  virtual void copy(std::uint64_t offset, std::span<std::byte> out) = 0;

 protected:
  void check(std::uint64_t offset, std::uint64_t size) const {
    require(offset <= size_ && size <= size_ - offset);
  }

 private:
  std::uint64_t size_;
};

// A file already in memory.
class ImageSource final : public Source {
 public:
  explicit ImageSource(std::span<const std::byte> image) : Source(image.size()), image_(image) {}
  std::span<const std::byte> bytes(std::uint64_t offset, std::uint64_t size) override {
    check(offset, size);
    return image_.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(size));
  }
  void copy(std::uint64_t offset, std::span<std::byte> out) override {
    if (!out.empty()) std::memcpy(out.data(), bytes(offset, out.size()).data(), out.size());
  }

 private:
  std::span<const std::byte> image_;
};

// A large file read piece by piece: the metadata the parse visits and the
// values it copies, not the rest.
class FileSource final : public Source {
 public:
  FileSource(int fd, std::uint64_t size) : Source(size), fd_(fd) {}
  std::span<const std::byte> bytes(std::uint64_t offset, std::uint64_t size) override {
    check(offset, size);
    require(size <= kMaxHeld && held_ <= kMaxHeld - size);
    held_ += size;
    auto& piece = pieces_.emplace_back(new std::byte[static_cast<std::size_t>(size)]);
    const std::span<std::byte> out(piece.get(), static_cast<std::size_t>(size));
    copy(offset, out);
    return out;
  }
  void copy(std::uint64_t offset, std::span<std::byte> out) override {
    check(offset, out.size());
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      require(n > 0);  // an error, or the file shrank
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  static constexpr std::uint64_t kMaxHeld = std::uint64_t{256} << 20;  // metadata and strings
  int fd_;
  std::vector<std::unique_ptr<std::byte[]>> pieces_;
  std::uint64_t held_ = 0;
};

class Reader {
 public:
  // Hard links may share objects, variable-length strings heap objects, and
  // an empty attribute's shape may still be large, so a small file can
  // describe a huge tree: what a file of this size can plausibly hold is
  // read, more is left to libhdf5.
  Reader(Source& file, const Hdf5TreeOptions& options)
      : file_(file),
        options_(options),
        node_budget_(file.size() / 16 + 64),
        string_budget_(4 * file.size() + (std::uint64_t{1} << 20)),
        json_budget_(string_budget_) {}

  Hdf5TreeNode read() {
    const std::uint64_t root = superblock();
    Hdf5TreeNode node;
    std::vector<std::uint64_t> ancestors;
    object(root, node, ancestors, true);
    require(node.kind == NodeKind::group);
    return node;
  }

  Hdf5ChunkIndex chunk_index(std::uint64_t header, std::size_t max_chunks) {
    superblock();
    const Message* layout = nullptr;
    const auto messages = header_messages(header);
    for (const auto& m : messages) {
      if (m.type != 0x08) continue;
      require(layout == nullptr);
      layout = &m;
    }
    require(layout != nullptr);
    Fields f(layout->body, offset_size_, length_size_);
    require(f.u8() == 3 && f.u8() == 2);  // version 3, chunked: a version 1 B-tree
    // The chunk's rank plus one: the last "axis" is the element size.
    const unsigned dimensionality = f.u8();
    require(dimensionality >= 2 && dimensionality <= 33);
    const std::uint64_t root = f.address();
    Hdf5ChunkIndex index;
    index.chunk_shape.resize(dimensionality - 1);
    for (auto& d : index.chunk_shape) {
      d = f.u32();
      require(d > 0);
    }
    if (root == kUndefined) return index;  // no chunk written yet
    std::set<std::uint64_t> visited;
    chunk_nodes(root, -1, index, max_chunks, visited);
    std::set<std::vector<std::uint64_t>> seen;
    for (const auto& c : index.chunks)
      require(seen.insert(c.offset).second);
    return index;
  }

 private:
  // The superblock (found at 0, 512, 1024, ...): sets the field sizes and
  // the base address; gives the root group's object header address.
  std::uint64_t superblock() {
    std::uint64_t at = 0;
    while (true) {
      const auto signature = file_.bytes(at, kSignature.size());
      if (std::memcmp(signature.data(), kSignature.data(), kSignature.size()) == 0) break;
      at = at == 0 ? 512 : at * 2;
    }
    // Versions 0 and 1 take at most 92 bytes after the signature (with
    // 8-byte addresses and lengths).
    const auto block = file_.bytes(
        at + kSignature.size(), std::min<std::uint64_t>(92, file_.size() - at - kSignature.size()));
    Fields f(block, 8, 8);
    const std::uint8_t version = f.u8();
    if (version == 2 || version == 3) return superblock_2(at, block);
    require(version <= 1);
    f.skip(3);             // free-space, root entry and (reserved) versions
    require(f.u8() == 0);  // shared header message format
    field_sizes(f);
    f.skip(1 + 2 + 2 + 4);  // reserved, group leaf and internal K, consistency flags
    if (version == 1) f.skip(4);
    Fields a(block.subspan(f.position()), offset_size_, length_size_);
    base_ = a.address();
    require(base_ != kUndefined && base_ <= file_.size());
    a.address();                         // free-space info
    a.address();                         // end of file
    require(a.address() == kUndefined);  // a driver block: family or multi files
    return symbol_entry(a).header;
  }

  // The sizes of addresses and lengths, the next two bytes of a superblock.
  void field_sizes(Fields& f) {
    offset_size_ = f.u8();
    length_size_ = f.u8();
    require((offset_size_ == 4 || offset_size_ == 8) && (length_size_ == 4 || length_size_ == 8));
  }

  // Versions 2 and 3 (h5py's libver="latest"), at file offset `at`: sizes,
  // flags, then the addresses; the root group's object header address is
  // given directly.
  std::uint64_t superblock_2(std::uint64_t at, std::span<const std::byte> block) {
    Fields f(block, 8, 8);
    f.skip(1);  // version
    field_sizes(f);
    require(f.u8() == 0);  // consistency flags: a writer (or SWMR writer) has it open
    Fields a(block.subspan(f.position()), offset_size_, length_size_);
    base_ = a.address();
    require(base_ != kUndefined && base_ <= file_.size());
    require(a.address() == kUndefined);  // an extension: shared messages, file space, ...
    a.address();                         // end of file
    const std::uint64_t root = a.address();
    const std::size_t covered = kSignature.size() + f.position() + 4 * offset_size_;
    const auto whole = file_.bytes(at, covered + 4);
    require(checksum_matches(whole.first(covered), whole.subspan(covered)));
    return root;
  }

  struct SymbolEntry {
    std::uint64_t name_offset;
    std::uint64_t header;
  };

  SymbolEntry symbol_entry(Fields& f) {
    const std::uint64_t name_offset = f.number(offset_size_);
    const std::uint64_t header = f.address();
    const std::uint32_t cache_type = f.u32();
    f.skip(4 + 16);                                    // reserved, scratch pad
    require(cache_type != 2 && header != kUndefined);  // 2: a soft link
    return {name_offset, header};
  }

  // The file offset of `address` (relative to the base address).
  std::uint64_t offset(std::uint64_t address) const {
    require(address != kUndefined && base_ + address >= base_);
    return base_ + address;
  }

  std::span<const std::byte> bytes(std::uint64_t address, std::uint64_t size) {
    return file_.bytes(offset(address), size);
  }

  Fields fields(std::uint64_t address, std::uint64_t size) {
    return {bytes(address, size), offset_size_, length_size_};
  }

  // A continuation message: where the header's next block is, and its size.
  std::pair<std::uint64_t, std::uint64_t> continuation(std::span<const std::byte> body) {
    Fields f(body, offset_size_, length_size_);
    const std::uint64_t at = f.address();
    return {at, f.length()};
  }

  std::vector<Message> header_messages(std::uint64_t address) {
    if (Fields sig = fields(address, 4); sig.starts_with("OHDR")) return header_messages_2(address);
    Fields f = fields(address, 16);
    require(f.u8() == 1);  // object header version 1
    f.skip(1);
    const std::uint16_t count = f.u16();
    f.skip(4);  // reference count
    const std::uint32_t size = f.u32();
    std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks{{address + 16, size}};
    std::vector<Message> out;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      require(blocks.size() <= 4096);
      Fields block = fields(blocks[b].first, blocks[b].second);
      while (block.remaining() >= 8 && out.size() < count) {
        const std::uint16_t type = block.u16();
        const std::uint16_t body_size = block.u16();
        const std::uint8_t flags = block.u8();
        block.skip(3);
        const auto body = block.take(body_size);
        require((flags & 0x02) == 0);  // shared (committed) messages
        if (type == 0x10) blocks.push_back(continuation(body));
        out.push_back({type, body});
      }
    }
    return out;
  }

  // A version 2 object header ("OHDR"; continuation blocks "OCHK"), each
  // block's checksum verified.
  std::vector<Message> header_messages_2(std::uint64_t address) {
    Fields f = fields(address, 6);
    f.skip(4);
    require(f.u8() == 2);
    const std::uint8_t flags = f.u8();
    const std::uint64_t times = (flags & 0x20) != 0 ? 16 : 0;
    const std::uint64_t phase = (flags & 0x10) != 0 ? 4 : 0;
    const unsigned size_bytes = 1U << (flags & 0x03);
    Fields c = fields(address + 6 + times + phase, size_bytes);
    const std::uint64_t size = c.number(size_bytes);
    const std::uint64_t first = address + 6 + times + phase + size_bytes;
    const bool ordered = (flags & 0x04) != 0;  // messages carry a creation order
    {
      const std::uint64_t covered = first - address + size;
      require(covered >= size);
      const auto chunk = bytes(address, covered + 4);
      require(checksum_matches(chunk.first(covered), chunk.subspan(covered)));
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks{{first, size}};
    std::vector<Message> out;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      require(blocks.size() <= 4096 && out.size() <= 65536);
      const auto raw = bytes(blocks[b].first, blocks[b].second);
      if (b > 0) {
        require(raw.size() >= 8 && checksum_matches(raw.first(raw.size() - 4), raw.last(4)));
      }
      Fields block(raw, offset_size_, length_size_);
      if (b > 0) require(block.starts_with("OCHK"));
      const std::size_t header = ordered ? 6 : 4;
      // The last 4 bytes of a continuation block are its checksum (chunk 0's
      // follows its size); fewer bytes than a message header are a gap.
      const std::size_t end = b > 0 ? 4 : 0;
      while (block.remaining() >= header + end) {
        const std::uint8_t type = block.u8();
        const std::uint16_t body_size = block.u16();
        const std::uint8_t message_flags = block.u8();
        if (ordered) block.skip(2);
        require(body_size + end <= block.remaining());
        const auto body = block.take(body_size);
        require((message_flags & 0x02) == 0);  // shared (committed) messages
        if (type == 0x10) blocks.push_back(continuation(body));
        out.push_back({type, body});
      }
    }
    return out;
  }

  std::vector<std::uint64_t> dataspace(std::span<const std::byte> body) {
    Fields f(body, offset_size_, length_size_);
    const std::uint8_t version = f.u8();
    const std::uint8_t rank = f.u8();
    const std::uint8_t flags = f.u8();
    require(rank <= 32);
    if (version == 1) {
      require((flags & 0x02) == 0);  // permutation indices
      f.skip(1 + 4);
    } else {
      require(version == 2 && f.u8() == (rank == 0 ? 0 : 1));  // scalar or simple, not null
    }
    std::vector<std::uint64_t> dims(rank);
    std::uint64_t count = 1;
    for (auto& d : dims) {
      d = f.length();
      require(d < (std::uint64_t{1} << 62) && (d == 0 || count <= (std::uint64_t{1} << 62) / d));
      count *= d;
    }
    return dims;
  }

  Type datatype(Fields& f, int depth = 0) {
    require(depth < 2);
    const std::uint8_t class_version = f.u8();
    const int cls = class_version & 0x0f;
    const int version = class_version >> 4;
    const auto bits = static_cast<std::uint32_t>(f.number(3));
    Type t;
    t.size = f.u32();
    switch (cls) {
      case 0: {                       // fixed-point
        require((bits & 0x01) == 0);  // little-endian
        const bool is_signed = (bits & 0x08) != 0;
        require(f.u16() == 0 && f.u16() == t.size * 8);  // bit offset, precision
        static constexpr std::array<DType (*)(), 4> s{DType::int8, DType::int16, DType::int32,
                                                      DType::int64};
        static constexpr std::array<DType (*)(), 4> u{DType::uint8, DType::uint16, DType::uint32,
                                                      DType::uint64};
        const int index = t.size == 1   ? 0
                          : t.size == 2 ? 1
                          : t.size == 4 ? 2
                          : t.size == 8 ? 3
                                        : -1;
        require(index >= 0);
        t.dtype = is_signed ? s[index]() : u[index]();
        return t;
      }
      case 1: {  // floating-point: IEEE 754 binary16, 32 and 64 only
        require((bits & 0x41) == 0 && ((bits >> 4) & 0x03) == 2);  // little-endian, implied 1
        const unsigned sign = (bits >> 8) & 0xff;
        const unsigned offset = f.u16(), precision = f.u16();
        const unsigned exp_at = f.u8(), exp_size = f.u8(), mant_at = f.u8(), mant_size = f.u8();
        const std::uint32_t bias = f.u32();
        struct Ieee {
          std::uint64_t size;
          unsigned exp_at, exp_size, mant_size, bias;
          DType (*dtype)();
        };
        static constexpr std::array<Ieee, 3> formats{{{2, 10, 5, 10, 15, DType::float16},
                                                      {4, 23, 8, 23, 127, DType::float32},
                                                      {8, 52, 11, 52, 1023, DType::float64}}};
        for (const auto& ieee : formats) {
          if (t.size == ieee.size && offset == 0 && precision == 8 * ieee.size &&
              sign == 8 * ieee.size - 1 && exp_at == ieee.exp_at && exp_size == ieee.exp_size &&
              mant_at == 0 && mant_size == ieee.mant_size && bias == ieee.bias) {
            t.dtype = ieee.dtype();
            return t;
          }
        }
        decline();
      }
      case 3:  // fixed-length string
        require(t.size >= 1);
        t.dtype = DType::string(static_cast<std::size_t>(t.size));
        t.string_pad = static_cast<int>(bits & 0x0f);
        t.string_cset = static_cast<int>((bits >> 4) & 0x0f);
        return t;
      case 8: {  // enumeration: h5py's booleans only
        const std::uint32_t members = bits & 0xffff;
        const Type base = datatype(f, depth + 1);
        require(members == 2 && base.dtype == DType::int8() && t.size == 1);
        std::array<std::string, 2> names;
        for (auto& name : names) {
          const std::size_t start = f.position();
          for (char c = 0; (c = static_cast<char>(f.u8())) != '\0';)
            name.push_back(c);
          if (version < 3) f.skip((8 - (f.position() - start) % 8) % 8);
        }
        const std::int8_t first = static_cast<std::int8_t>(f.u8());
        const std::int8_t second = static_cast<std::int8_t>(f.u8());
        const bool h5py_bool =
            (names[0] == "FALSE" && first == 0 && names[1] == "TRUE" && second == 1) ||
            (names[0] == "TRUE" && first == 1 && names[1] == "FALSE" && second == 0);
        require(h5py_bool);
        t.dtype = DType::boolean();
        return t;
      }
      case 9:  // variable-length: strings only
        require((bits & 0x0f) == 1 && t.size == 4 + offset_size_ + 4);
        t.dtype = DType::vstring();
        return t;
      default:
        decline();
    }
  }

  // The collection's objects by index (index 0, free space, is not one).
  const std::map<std::uint16_t, std::span<const std::byte>>& heap_collection(
      std::uint64_t address) {
    const auto found = heaps_.find(address);
    if (found != heaps_.end()) return found->second;
    Fields head = fields(address, 8 + length_size_);
    require(head.starts_with("GCOL") && head.u8() == 1);
    head.skip(3);
    const std::uint64_t size = head.length();
    require(size >= 8 + length_size_);
    Fields f = fields(address, size);
    f.skip(8 + length_size_);
    std::map<std::uint16_t, std::span<const std::byte>> objects;
    while (f.remaining() >= 8 + length_size_) {
      const std::uint16_t index = f.u16();
      f.skip(2 + 4);  // reference count, reserved
      const std::uint64_t object_size = f.length();
      if (index == 0) break;
      objects[index] = f.take(object_size);
      f.skip(std::min<std::uint64_t>((8 - object_size % 8) % 8, f.remaining()));
    }
    require(heaps_.size() < 4096);
    return heaps_.emplace(address, std::move(objects)).first->second;
  }

  // Elements of a string type, stored at `raw` (count x type.size bytes).
  std::vector<std::string> strings(const Type& type, std::span<const std::byte> raw,
                                   std::uint64_t count) {
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    Fields f(raw, offset_size_, length_size_);
    for (std::uint64_t i = 0; i < count; ++i) {
      if (type.dtype.kind() == DTypeKind::string) {
        const auto item = f.take(type.size);
        const char* p = reinterpret_cast<const char*>(item.data());
        out.emplace_back(p, std::find(p, p + item.size(), '\0'));
        continue;  // no larger than the file
      }
      const std::uint32_t length = f.u32();
      const std::uint64_t collection = f.address();
      const std::uint32_t index = f.u32();
      if (length == 0) {
        out.emplace_back();
        continue;
      }
      require(index <= 0xffff);
      const auto& objects = heap_collection(collection);
      const auto object = objects.find(static_cast<std::uint16_t>(index));
      require(object != objects.end() && length <= object->second.size() &&
              length <= string_budget_);
      string_budget_ -= length;
      const char* p = reinterpret_cast<const char*>(object->second.data());
      // libhdf5 hands a string out up to its first NUL.
      out.emplace_back(p, std::find(p, p + length, '\0'));
    }
    return out;
  }

  static std::uint64_t element_count(const std::vector<std::uint64_t>& dims) {
    std::uint64_t n = 1;
    for (const auto d : dims)
      n *= d;
    return n;
  }

  static Shape shape_of(const std::vector<std::uint64_t>& dims) {
    return Shape(std::vector<std::int64_t>(dims.begin(), dims.end()));
  }

  struct Attribute {
    std::string name;
    Type type;
    std::vector<std::uint64_t> dims;
    std::span<const std::byte> raw;
  };

  Attribute attribute(std::span<const std::byte> body) {
    Fields f(body, offset_size_, length_size_);
    const std::uint8_t version = f.u8();
    require(version >= 1 && version <= 3);
    require(f.u8() == 0 || version == 1);  // version 2+: shared type or space flags
    const std::uint16_t name_size = f.u16(), type_size = f.u16(), space_size = f.u16();
    if (version == 3) f.skip(1);  // the name's character set
    const auto padded = [version](std::uint64_t n) { return version == 1 ? (n + 7) / 8 * 8 : n; };
    require(name_size >= 1);
    const auto name = f.take(padded(name_size));
    Attribute a;
    a.name.assign(reinterpret_cast<const char*>(name.data()), name_size - 1);
    require(a.name.find('\0') == std::string::npos);
    Fields t(f.take(padded(type_size)), offset_size_, length_size_);
    a.type = datatype(t);
    a.dims = dataspace(f.take(padded(space_size)));
    const std::uint64_t count = element_count(a.dims);
    require(a.type.size == 0 || count <= f.remaining() / a.type.size);
    a.raw = f.take(count * a.type.size);
    return a;
  }

  // An attribute's value as Hdf5Attributes::get gives it, then get_json.
  nlohmann::json attribute_json(const Attribute& a, bool marked_json) {
    const std::uint64_t count = element_count(a.dims);
    // Nested lists: one JSON value per element of each prefix of the shape,
    // many even for no elements at all (shape (2**40, 0)).
    std::uint64_t json_values = 1, prefix = 1;
    for (const auto d : a.dims) {
      prefix *= d;  // no overflow: the shape's element count fits (dataspace())
      json_values = std::min(json_values + prefix, kUndefined);
    }
    require(json_values <= json_budget_);
    json_budget_ -= json_values;
    const DTypeKind kind = a.type.dtype.kind();
    if (kind == DTypeKind::string || kind == DTypeKind::vstring) {
      auto values = strings(a.type, a.raw, count);
      if (!a.dims.empty()) return nlohmann::json(std::move(values));
      std::string text = values.empty() ? std::string() : std::move(values[0]);
      if (!marked_json) return nlohmann::json(std::move(text));
      nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
      require(!parsed.is_discarded());
      return parsed;
    }
    Array values = Array::empty(a.type.dtype, shape_of(a.dims));
    if (!a.raw.empty()) std::memcpy(values.data(), a.raw.data(), a.raw.size());
    return array_to_json(values);
  }

  void attributes(const std::vector<Message>& messages, Hdf5TreeNode& node) {
    std::vector<Attribute> found;
    for (const auto& m : messages) {
      if (m.type == 0x0C) found.push_back(attribute(m.body));
    }
    std::sort(found.begin(), found.end(),
              [](const Attribute& x, const Attribute& y) { return x.name < y.name; });
    std::set<std::string> marked;
    for (std::size_t i = 0; i < found.size(); ++i) {
      require(i == 0 || found[i].name != found[i - 1].name);
      if (found[i].name == "larder.json") {
        const Attribute& list = found[i];
        require(list.type.dtype.kind() == DTypeKind::vstring ||
                list.type.dtype.kind() == DTypeKind::string);
        for (auto& s : strings(list.type, list.raw, element_count(list.dims)))
          marked.insert(std::move(s));
      }
    }
    for (const auto& a : found) {
      if (a.name == "larder.json") continue;
      node.attrs.emplace_back(a.name, attribute_json(a, marked.count(a.name) > 0));
    }
  }

  // The object at `address` into `node` (its name already set).
  void object(std::uint64_t address, Hdf5TreeNode& node, std::vector<std::uint64_t>& ancestors,
              bool is_root) {
    require(node_budget_-- > 0 && static_cast<int>(ancestors.size()) < kMaxDepth);
    require(std::find(ancestors.begin(), ancestors.end(), address) == ancestors.end());
    const auto messages = header_messages(address);
    const Message* symbols = nullptr;
    const Message* space = nullptr;
    const Message* type = nullptr;
    const Message* layout = nullptr;
    const Message* link_info = nullptr;
    std::vector<std::pair<std::string, std::uint64_t>> links;
    // A message an object has at most once.
    const auto only = [](const Message*& slot, const Message& m) {
      require(slot == nullptr);
      slot = &m;
    };
    for (const auto& m : messages) {
      switch (m.type) {
        case 0x00:  // NIL
        case 0x04:  // fill value (old)
        case 0x05:  // fill value
        case 0x0D:  // comment
        case 0x0E:  // modification time (old)
        case 0x10:  // continuation (followed already)
        case 0x12:  // modification time
        case 0x0C:  // attribute (below)
        case 0x0A:  // group info (link storage thresholds)
        case 0x16:  // object reference count
          break;
        case 0x02:  // link info: links in this header unless in a fractal heap
          require(compact_storage(m.body, 8));
          only(link_info, m);
          break;
        case 0x06:  // link
          links.push_back(link(m.body));
          break;
        case 0x15:  // attribute info: attributes in this header unless in a heap
          require(compact_storage(m.body, 2));
          break;
        case 0x01:
          only(space, m);
          break;
        case 0x03:
          only(type, m);
          break;
        case 0x08:
          only(layout, m);
          break;
        case 0x11:
          only(symbols, m);
          break;
        default:  // filters, external files, shared message tables, ...
          decline();
      }
    }
    if (symbols != nullptr || link_info != nullptr) {
      require(space == nullptr && type == nullptr && layout == nullptr);
      require((symbols == nullptr) != (link_info == nullptr) &&
              (symbols == nullptr || links.empty()));
      node.kind = NodeKind::group;
      attributes(messages, node);
      ancestors.push_back(address);
      if (symbols != nullptr) links = symbol_table_links(*symbols);
      members(std::move(links), node, ancestors, is_root);
      ancestors.pop_back();
      return;
    }
    require(links.empty());
    require(space != nullptr && type != nullptr && layout != nullptr && !is_root);
    node.kind = NodeKind::dataset;
    attributes(messages, node);
    dataset(*space, *type, *layout, node);
  }

  void dataset(const Message& space, const Message& type_message, const Message& layout,
               Hdf5TreeNode& node) {
    const auto dims = dataspace(space.body);
    Fields t(type_message.body, offset_size_, length_size_);
    const Type type = datatype(t);
    // Fixed strings are read as NUL-padded ASCII; libhdf5 converts others.
    if (type.dtype.kind() == DTypeKind::string)
      require(type.string_pad == 1 && type.string_cset == 0);
    node.dtype = type.dtype;
    node.shape = shape_of(dims);
    const std::uint64_t count = element_count(dims);
    require(type.size == 0 || count <= file_.size() / type.size);
    const bool strings_type =
        type.dtype.kind() == DTypeKind::string || type.dtype.kind() == DTypeKind::vstring;
    const std::uint64_t nbytes = count * type.size;

    Fields f(layout.body, offset_size_, length_size_);
    const std::uint8_t version = f.u8();
    require(version == 3 || version == 4);
    std::span<const std::byte> compact;
    std::uint64_t contiguous = kUndefined;  // the values' file offset
    switch (f.u8()) {
      case 0:  // compact
        require(f.u16() == nbytes);
        compact = f.take(nbytes);
        break;
      case 1: {  // contiguous
        const std::uint64_t at = f.address();
        require(f.length() == nbytes && (at != kUndefined || nbytes == 0));
        if (nbytes > 0) {
          contiguous = offset(at);
          require(contiguous <= file_.size() && nbytes <= file_.size() - contiguous);
        }
        break;
      }
      default:  // chunked, virtual
        decline();
    }
    if (strings_type) {
      const auto raw = contiguous == kUndefined ? compact : file_.bytes(contiguous, nbytes);
      node.strings = strings(type, raw, count);
      return;
    }
    if (!options_.numbers) return;
    Array values = Array::empty(type.dtype, node.shape);
    const std::span<std::byte> out(values.data(), static_cast<std::size_t>(nbytes));
    if (contiguous != kUndefined) {
      file_.copy(contiguous, out);
    } else if (nbytes > 0) {
      std::memcpy(out.data(), compact.data(), out.size());
    }
    node.data = std::move(values);
  }

  // A link info or attribute info message: whether its fractal heap address
  // (after the version, the flags and, when flagged, a creation index of
  // `index_size` bytes) is undefined, i.e. its links or attributes are
  // messages of the object header itself.
  bool compact_storage(std::span<const std::byte> body, std::size_t index_size) {
    Fields f(body, offset_size_, length_size_);
    require(f.u8() == 0);
    if ((f.u8() & 0x01) != 0) f.skip(index_size);
    return f.address() == kUndefined;
  }

  // A link message: a hard link's name and object header address.
  std::pair<std::string, std::uint64_t> link(std::span<const std::byte> body) {
    Fields f(body, offset_size_, length_size_);
    require(f.u8() == 1);
    const std::uint8_t flags = f.u8();
    require((flags & 0x08) == 0 || f.u8() == 0);  // the link type: 0 hard, else soft or external
    if ((flags & 0x04) != 0) f.skip(8);           // creation order
    if ((flags & 0x10) != 0) f.skip(1);           // the name's character set
    const std::uint64_t length = f.number(1U << (flags & 0x03));
    const auto name = f.take(length);
    std::string text(reinterpret_cast<const char*>(name.data()), name.size());
    return {std::move(text), f.address()};
  }

  // A group's members, read from its links (name, object header address).
  void members(std::vector<std::pair<std::string, std::uint64_t>> links, Hdf5TreeNode& node,
               std::vector<std::uint64_t>& ancestors, bool is_root) {
    for (const auto& [name, address] : links) {
      require(!name.empty() && name.find('/') == std::string::npos &&
              name.find('\0') == std::string::npos && name != "." && name != "..");
      require(address != kUndefined);
      // larder's private group holds journals that libhdf5's reading applies.
      require(!(is_root && name == ".larder"));
    }
    std::sort(links.begin(), links.end());
    node.members.resize(links.size());
    for (std::size_t i = 0; i < links.size(); ++i) {
      require(i == 0 || links[i].first != links[i - 1].first);
      Hdf5TreeNode& member = node.members[i];
      member.name = links[i].first;
      object(links[i].second, member, ancestors, false);
    }
  }

  // The links of an old-style group: its symbol table (B-tree and heap).
  std::vector<std::pair<std::string, std::uint64_t>> symbol_table_links(const Message& symbols) {
    Fields s(symbols.body, offset_size_, length_size_);
    const std::uint64_t btree = s.address();
    const std::uint64_t heap_address = s.address();

    Fields h = fields(heap_address, 8 + 2 * length_size_ + offset_size_);
    require(h.starts_with("HEAP") && h.u8() == 0);
    h.skip(3);
    const std::uint64_t heap_size = h.length();
    h.length();  // free list
    const auto heap = bytes(h.address(), heap_size);

    std::vector<SymbolEntry> entries;
    std::set<std::uint64_t> visited;
    symbol_nodes(btree, -1, entries, visited);

    std::vector<std::pair<std::string, std::uint64_t>> links;
    for (const auto& e : entries) {
      require(e.name_offset < heap.size());
      const char* p = reinterpret_cast<const char*>(heap.data()) + e.name_offset;
      const char* end = reinterpret_cast<const char*>(heap.data()) + heap.size();
      const char* nul = std::find(p, end, '\0');
      require(nul != end);
      links.emplace_back(std::string(p, nul), e.header);
    }
    return links;
  }

  // The symbol table entries under version 1 B-tree node `address`, whose
  // level is `level` (-1: the root, any level).
  void symbol_nodes(std::uint64_t address, int level, std::vector<SymbolEntry>& out,
                    std::set<std::uint64_t>& visited) {
    require(visited.insert(address).second);
    const std::uint64_t head_size = 8 + 2 * offset_size_;
    Fields head = fields(address, head_size);
    require(head.starts_with("TREE") && head.u8() == 0);  // a group node
    const int node_level = head.u8();
    require(level < 0 || node_level == level);
    const std::uint16_t used = head.u16();
    // (siblings unused;) the children, each after its key, a heap offset
    Fields f = fields(address + head_size, std::uint64_t{used} * (length_size_ + offset_size_));
    std::vector<std::uint64_t> children(used);
    for (auto& child : children) {
      f.length();  // key: a heap offset
      child = f.address();
    }
    for (const auto child : children) {
      if (node_level > 0) {
        symbol_nodes(child, node_level - 1, out, visited);
        continue;
      }
      require(visited.insert(child).second);
      Fields n_head = fields(child, 8);
      require(n_head.starts_with("SNOD") && n_head.u8() == 1);
      n_head.skip(1);
      const std::uint16_t count = n_head.u16();
      Fields n = fields(child + 8, std::uint64_t{count} * (2 * offset_size_ + 24));
      for (std::uint16_t i = 0; i < count; ++i)
        out.push_back(symbol_entry(n));
    }
  }

  // The chunks under version 1 B-tree node `address` of a chunk index,
  // whose level is `level` (-1: the root, any level). Each key holds the
  // stored size, the filter mask and the element offsets (one more than the
  // rank, the last 0) of the chunk or subtree after it.
  void chunk_nodes(std::uint64_t address, int level, Hdf5ChunkIndex& index, std::size_t max_chunks,
                   std::set<std::uint64_t>& visited) {
    require(visited.insert(address).second);
    const std::uint64_t head_size = 8 + 2 * offset_size_;
    Fields head = fields(address, head_size);
    require(head.starts_with("TREE") && head.u8() == 1);  // a raw data chunk node
    const int node_level = head.u8();
    require(node_level < 64 && (level < 0 || node_level == level));
    const std::uint16_t used = head.u16();
    const std::size_t rank = index.chunk_shape.size();
    const std::uint64_t key_size = 8 + 8 * (rank + 1);
    Fields f = fields(address + head_size, used * (key_size + offset_size_) + key_size);
    for (std::uint16_t i = 0; i < used; ++i) {
      Hdf5StoredChunk chunk;
      chunk.size = f.u32();
      chunk.filter_mask = f.u32();
      chunk.offset.resize(rank);
      for (std::size_t a = 0; a < rank; ++a) {
        chunk.offset[a] = f.number(8);
        require(chunk.offset[a] % index.chunk_shape[a] == 0);
      }
      require(f.number(8) == 0);
      chunk.address = f.address();
      require(chunk.address != kUndefined);
      if (node_level > 0) {
        chunk_nodes(chunk.address, node_level - 1, index, max_chunks, visited);
        continue;
      }
      require(chunk.size > 0 && index.chunks.size() < max_chunks);
      require(offset(chunk.address) <= file_.size() &&
              chunk.size <= file_.size() - offset(chunk.address));
      index.chunks.push_back(std::move(chunk));
    }
  }

  Source& file_;
  Hdf5TreeOptions options_;
  unsigned offset_size_ = 8;
  unsigned length_size_ = 8;
  std::uint64_t base_ = 0;
  std::size_t node_budget_;
  std::uint64_t string_budget_;
  std::uint64_t json_budget_;  // values in attributes' JSON
  std::map<std::uint64_t, std::map<std::uint16_t, std::span<const std::byte>>> heaps_;
};

std::optional<Hdf5TreeNode> parse(Source& source, const Hdf5TreeOptions& options) {
  try {
    return Reader(source, options).read();
  } catch (const NotHandled&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<Hdf5TreeNode> parse_hdf5_tree(std::span<const std::byte> file,
                                            const Hdf5TreeOptions& options) {
  ImageSource source(file);
  return parse(source, options);
}

std::optional<Hdf5ChunkIndex> parse_hdf5_chunk_index(std::span<const std::byte> file,
                                                     std::uint64_t object_header,
                                                     std::size_t max_chunks) {
  ImageSource source(file);
  try {
    return Reader(source, {}).chunk_index(object_header, max_chunks);
  } catch (const NotHandled&) {
    return std::nullopt;
  }
}

std::optional<Hdf5ChunkIndex> read_hdf5_chunk_index(int fd, std::uint64_t object_header,
                                                    std::size_t max_chunks) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  FileSource source(fd, static_cast<std::uint64_t>(st.st_size));
  try {
    return Reader(source, {}).chunk_index(object_header, max_chunks);
  } catch (const NotHandled&) {
    return std::nullopt;
  }
}

std::optional<Hdf5TreeNode> read_hdf5_tree(const std::filesystem::path& path,
                                           const Hdf5TreeOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  FileSource file(fd, size);
  if (size > options.whole_file_bytes) return parse(file, options);
  try {
    const std::unique_ptr<std::byte[]> buffer(new std::byte[static_cast<std::size_t>(size)]);
    const std::span<std::byte> image(buffer.get(), static_cast<std::size_t>(size));
    file.copy(0, image);
    return parse_hdf5_tree(image, options);
  } catch (const NotHandled&) {
    return std::nullopt;  // the file shrank
  }
}

}  // namespace larder::store
