// .npy and .npz files (numpy's format, documented in numpy.lib.format and
// PKWARE's APPNOTE for the zip container). Every byte count read from a file
// is checked against the bytes that are really there before anything is
// allocated, so a damaged or hostile file costs nothing but an error.
#include "larder/store/npy.h"

#include <zlib.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>

#include "file_io.h"
#include "larder/core/endian.h"
#include "larder/core/error.h"

namespace larder::store {
namespace {

constexpr std::string_view magic = "\x93NUMPY";

[[noreturn]] void corrupt(std::string_view origin, const std::string& what) {
  throw Error(ErrorCode::corrupt, fmt::format("not a valid .npy: {}", what), std::string(origin));
}

// Where the bytes of one .npy come from: memory, a file region, or a
// deflated zip member inflating as it is read. read() fills `out` whole or
// throws Error(corrupt).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual void read(std::span<std::byte> out) = 0;
  virtual std::uint64_t size() const = 0;  // bytes the source holds in all
};

class SpanSource final : public ByteSource {
 public:
  SpanSource(std::span<const std::byte> bytes, std::string_view origin)
      : bytes_(bytes), origin_(origin) {}
  void read(std::span<std::byte> out) override {
    if (out.size() > bytes_.size() - position_)
      corrupt(origin_, fmt::format("it ends after {} bytes", bytes_.size()));
    if (out.empty()) return;
    std::memcpy(out.data(), bytes_.data() + position_, out.size());
    position_ += out.size();
  }
  std::uint64_t size() const override { return bytes_.size(); }

 private:
  std::span<const std::byte> bytes_;
  std::string_view origin_;
  std::size_t position_ = 0;
};

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::uint64_t offset, std::uint64_t size, std::string origin)
      : fd_(fd), offset_(offset), size_(size), origin_(std::move(origin)) {}
  void read(std::span<std::byte> out) override {
    if (out.size() > size_ - position_)
      corrupt(origin_, fmt::format("it ends after {} bytes", size_));
    if (read_at(fd_, out, offset_ + position_, origin_, "") != out.size())
      corrupt(origin_, "the file is shorter than its directory says");
    position_ += out.size();
  }
  std::uint64_t size() const override { return size_; }

 private:
  int fd_;
  std::uint64_t offset_, size_, position_ = 0;
  std::string origin_;
};

// A raw deflate stream read from `compressed`, producing `size` bytes whose
// CRC-32 must be `crc` once all are read.
class InflateSource final : public ByteSource {
 public:
  InflateSource(ByteSource& compressed, std::uint64_t size, std::uint32_t crc, std::string origin)
      : compressed_(compressed), size_(size), crc_(crc), origin_(std::move(origin)) {
    if (inflateInit2(&stream_, -MAX_WBITS) != Z_OK)
      throw Error(ErrorCode::io, "zlib could not start inflating", origin_);
  }
  ~InflateSource() override { inflateEnd(&stream_); }
  InflateSource(const InflateSource&) = delete;
  InflateSource& operator=(const InflateSource&) = delete;

  void read(std::span<std::byte> out) override {
    if (out.size() > size_ - produced_)
      corrupt(origin_, fmt::format("it ends after {} bytes", size_));
    std::size_t done = 0;
    while (done < out.size()) {
      if (stream_.avail_in == 0) refill();
      const std::size_t want = std::min<std::size_t>(out.size() - done, 1u << 30);
      stream_.next_out = reinterpret_cast<Bytef*>(out.data() + done);
      stream_.avail_out = static_cast<uInt>(want);
      const int status = inflate(&stream_, Z_NO_FLUSH);
      const std::size_t made = want - stream_.avail_out;
      done += made;
      if (status == Z_STREAM_END && done < out.size())
        corrupt(origin_, "the deflated member ends early");
      if (status != Z_OK && status != Z_STREAM_END && !(status == Z_BUF_ERROR && made > 0))
        corrupt(origin_, fmt::format("the deflated member does not inflate (zlib {})", status));
    }
    running_crc_ = crc32_z(running_crc_, reinterpret_cast<const Bytef*>(out.data()), out.size());
    produced_ += out.size();
    if (produced_ == size_ && running_crc_ != crc_)
      corrupt(origin_,
              fmt::format("CRC-32 {:08x} differs from the recorded {:08x}", running_crc_, crc_));
  }
  std::uint64_t size() const override { return size_; }

 private:
  void refill() {
    const std::uint64_t left = compressed_.size() - consumed_;
    if (left == 0) corrupt(origin_, "the deflated member ends early");
    input_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 20)));
    compressed_.read(input_);
    consumed_ += input_.size();
    stream_.next_in = reinterpret_cast<Bytef*>(input_.data());
    stream_.avail_in = static_cast<uInt>(input_.size());
  }

  ByteSource& compressed_;
  std::uint64_t size_, produced_ = 0, consumed_ = 0;
  std::uint32_t crc_;
  std::uint32_t running_crc_ = 0;
  std::string origin_;
  z_stream stream_{};
  std::vector<std::byte> input_;
};

// The header dictionary, e.g. {'descr': '<f8', 'fortran_order': False,
// 'shape': (3, 4), } — a Python literal, parsed as the few forms numpy
// writes, never evaluated.
struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view origin) : text_(text), origin_(origin) {}

  Header parse() {
    Header header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!take('}')) {
      const std::string key = string();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() == '[')
          throw Error(ErrorCode::unsupported, "structured dtypes in .npy files are not supported",
                      std::string(origin_));
        header.descr = string();
        seen_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = boolean();
        seen_order = true;
      } else if (key == "shape") {
        header.shape = tuple();
        seen_shape = true;
      } else {
        corrupt(origin_, fmt::format("the header has an unknown key '{}'", key));
      }
      if (!take(',')) {
        expect('}');
        break;
      }
    }
    if (!seen_descr || !seen_order || !seen_shape)
      corrupt(origin_, "the header lacks 'descr', 'fortran_order' or 'shape'");
    return header;
  }

 private:
  void skip_space() {
    while (position_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[position_])))
      ++position_;
  }
  char peek() const { return position_ < text_.size() ? text_[position_] : '\0'; }
  bool take(char c) {
    skip_space();
    if (peek() != c) return false;
    ++position_;
    return true;
  }
  void expect(char c) {
    if (!take(c)) corrupt(origin_, fmt::format("the header lacks '{}' at byte {}", c, position_));
  }
  std::string string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"')
      corrupt(origin_, fmt::format("the header has no string at byte {}", position_));
    const std::size_t end = text_.find(quote, position_ + 1);
    if (end == std::string_view::npos) corrupt(origin_, "the header has an unterminated string");
    std::string value(text_.substr(position_ + 1, end - position_ - 1));
    position_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(position_).starts_with(word)) {
        position_ += std::strlen(word);
        return value;
      }
    }
    corrupt(origin_, "'fortran_order' is neither True nor False");
  }
  std::vector<std::int64_t> tuple() {
    std::vector<std::int64_t> dims;
    expect('(');
    while (!take(')')) {
      skip_space();
      std::int64_t dim = -1;
      const auto [end, ec] =
          std::from_chars(text_.data() + position_, text_.data() + text_.size(), dim);
      if (ec != std::errc() || dim < 0)
        corrupt(origin_, fmt::format("the shape has no valid size at byte {}", position_));
      position_ = static_cast<std::size_t>(end - text_.data());
      take('L');  // written by Python 2
      dims.push_back(dim);
      if (dims.size() > 64) corrupt(origin_, "the shape has more than 64 axes");
      if (!take(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }

  std::string_view text_;
  std::string_view origin_;
  std::size_t position_ = 0;
};

DType dtype_of(const std::string& descr, std::string_view origin) {
  const std::size_t code =
      !descr.empty() && std::string_view("<>|=").find(descr[0]) != std::string_view::npos;
  if (code < descr.size() &&
      std::string_view("OUVMm").find(descr[code]) != std::string_view::npos) {
    throw Error(ErrorCode::unsupported,
                fmt::format("dtype '{}' is not supported in .npy files (object, unicode, void, "
                            "datetime and timedelta arrays are refused; object arrays are pickles)",
                            descr),
                std::string(origin));
  }
  try {
    return DType::from_string(descr);
  } catch (const Error&) {
    throw Error(ErrorCode::unsupported,
                fmt::format("dtype '{}' is not supported in .npy files", descr),
                std::string(origin));
  }
}

void to_native_order(Array& a) {
  const DType dtype = a.dtype();
  if (dtype.is_native()) return;
  const std::size_t unit =
      dtype.kind() == DTypeKind::complex ? dtype.item_size() / 2 : dtype.item_size();
  std::byte* p = a.data();
  for (std::size_t i = 0, n = a.nbytes(); i < n; i += unit)
    std::reverse(p + i, p + i + unit);
  a = Array::adopt(dtype.native(), a.shape(), a.buffer());
}

Array read_npy_from(ByteSource& source, std::string_view origin) {
  std::array<std::byte, 12> lead{};
  source.read(std::span(lead).first(10));
  if (std::memcmp(lead.data(), magic.data(), magic.size()) != 0)
    corrupt(origin, "it does not start with numpy's magic bytes");
  const int major = std::to_integer<int>(lead[6]);
  std::uint64_t header_length = 0, lead_length = 10;
  if (major == 1) {
    header_length = load_le(lead.data() + 8, 2);
  } else if (major == 2 || major == 3) {
    source.read(std::span(lead).subspan(10, 2));
    header_length = load_le(lead.data() + 8, 4);
    lead_length = 12;
  } else {
    throw Error(ErrorCode::unsupported,
                fmt::format(".npy format version {} is not supported", major), std::string(origin));
  }
  if (header_length > source.size() - lead_length)
    corrupt(origin, fmt::format("its header of {} bytes is longer than the file", header_length));
  std::string text(header_length, '\0');
  source.read(std::as_writable_bytes(std::span(text)));
  const Header header = HeaderParser(text, origin).parse();
  const DType dtype = dtype_of(header.descr, origin);

  const std::uint64_t available = source.size() - lead_length - header_length;
  std::uint64_t elements = 1;
  for (const std::int64_t dim : header.shape) {
    if (dim != 0 && elements > available / static_cast<std::uint64_t>(dim))
      elements = available + 1;
    else
      elements *= static_cast<std::uint64_t>(dim);
  }
  const std::uint64_t bytes = elements > available ? available + 1 : elements * dtype.item_size();
  if (bytes != available)
    corrupt(origin, fmt::format("shape ({}) of {} needs {} bytes of data but the file has {}",
                                fmt::join(header.shape, ", "), header.descr,
                                elements > available ? std::string("more") : std::to_string(bytes),
                                available));

  std::vector<std::int64_t> stored_shape = header.shape;
  if (header.fortran_order) std::reverse(stored_shape.begin(), stored_shape.end());
  Array a = Array::empty(dtype, Shape(stored_shape));
  source.read(a.bytes());
  to_native_order(a);
  if (!header.fortran_order || a.rank() < 2)
    return Array::adopt(a.dtype(), Shape(header.shape), a.buffer());

  // Stored column-major: a view with Fortran strides, copied into C order.
  std::vector<std::int64_t> strides(header.shape.size());
  std::int64_t stride = static_cast<std::int64_t>(a.dtype().item_size());
  for (std::size_t i = 0; i < strides.size(); ++i) {
    strides[i] = stride;
    stride *= header.shape[i];
  }
  return Array::copy_of(ArrayView(a.data(), a.dtype(), Shape(header.shape), std::move(strides)));
}

// --- zip ---------------------------------------------------------------

struct Member {
  std::string name;
  std::uint16_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed = 0, size = 0, local_offset = 0;
};

// Reads the archive's bytes [offset, offset + out.size()).
using ReadAt = std::function<void(std::span<std::byte> out, std::uint64_t offset)>;

// The central directory, found through the end-of-central-directory record
// (and its zip64 form, which numpy's writer uses).
std::vector<Member> central_directory(const ReadAt& read, std::uint64_t archive_size,
                                      const std::string& origin) {
  auto bad = [&](const std::string& what) -> void {
    throw Error(ErrorCode::corrupt, fmt::format("not a valid .npz: {}", what), origin);
  };
  const std::uint64_t tail_size = std::min<std::uint64_t>(archive_size, 22 + 65535);
  std::vector<std::byte> tail(tail_size);
  read(tail, archive_size - tail_size);
  std::optional<std::size_t> eocd;
  for (std::size_t i = tail_size >= 22 ? tail_size - 22 + 1 : 0; i-- > 0;) {
    if (load_le(tail.data() + i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (!eocd) bad("it has no zip end-of-directory record");
  const std::byte* e = tail.data() + *eocd;
  std::uint64_t entries = load_le(e + 10, 2);
  std::uint64_t directory_size = load_le(e + 12, 4);
  std::uint64_t directory_offset = load_le(e + 16, 4);
  const std::uint64_t eocd_offset = archive_size - tail_size + *eocd;
  if (directory_offset == 0xffffffff || entries == 0xffff) {
    if (eocd_offset < 20) bad("its zip64 locator is missing");
    std::array<std::byte, 20> locator{};
    read(locator, eocd_offset - 20);
    if (load_le(locator.data(), 4) != 0x07064b50) bad("its zip64 locator is missing");
    const std::uint64_t record_offset = load_le(locator.data() + 8, 8);
    if (record_offset > archive_size - 56) bad("its zip64 record lies outside the file");
    std::array<std::byte, 56> record{};
    read(record, record_offset);
    if (load_le(record.data(), 4) != 0x06064b50) bad("its zip64 record is damaged");
    entries = load_le(record.data() + 32, 8);
    directory_size = load_le(record.data() + 40, 8);
    directory_offset = load_le(record.data() + 48, 8);
  }
  if (directory_offset > archive_size || directory_size > archive_size - directory_offset)
    bad("its central directory lies outside the file");
  if (entries > directory_size / 46) bad("its central directory is shorter than its entry count");
  std::vector<std::byte> directory(directory_size);
  read(directory, directory_offset);

  std::vector<Member> members;
  std::size_t p = 0;
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (directory_size - p < 46 || load_le(directory.data() + p, 4) != 0x02014b50)
      bad(fmt::format("central directory entry {} is damaged", i));
    const std::byte* d = directory.data() + p;
    Member m;
    const std::uint16_t flags = static_cast<std::uint16_t>(load_le(d + 8, 2));
    m.method = static_cast<std::uint16_t>(load_le(d + 10, 2));
    m.crc = static_cast<std::uint32_t>(load_le(d + 16, 4));
    m.compressed = load_le(d + 20, 4);
    m.size = load_le(d + 24, 4);
    const std::size_t name_length = load_le(d + 28, 2), extra_length = load_le(d + 30, 2),
                      comment_length = load_le(d + 32, 2);
    m.local_offset = load_le(d + 42, 4);
    if (directory_size - p - 46 < name_length + extra_length + comment_length)
      bad(fmt::format("central directory entry {} is damaged", i));
    m.name.assign(reinterpret_cast<const char*>(d + 46), name_length);
    if (flags & 1) {
      throw Error(
          ErrorCode::unsupported,
          fmt::format("member '{}' is encrypted, which .npz readers do not support", m.name),
          origin);
    }
    // zip64 extra field: the 0xffffffff fields, in order, as 8-byte values.
    const std::byte* x = d + 46 + name_length;
    for (std::size_t q = 0; q + 4 <= extra_length;) {
      const std::uint64_t id = load_le(x + q, 2), length = load_le(x + q + 2, 2);
      if (q + 4 + length > extra_length) break;
      if (id == 1) {
        std::size_t r = q + 4;
        for (std::uint64_t* field : {&m.size, &m.compressed, &m.local_offset}) {
          if (*field != 0xffffffff) continue;
          if (r + 8 > q + 4 + length)
            bad(fmt::format("member '{}' has a short zip64 field", m.name));
          *field = load_le(x + r, 8);
          r += 8;
        }
      }
      q += 4 + length;
    }
    members.push_back(std::move(m));
    p += 46 + name_length + extra_length + comment_length;
  }
  return members;
}

std::vector<std::pair<std::string, Array>> read_members(
    const ReadAt& read, std::uint64_t archive_size, const std::string& origin,
    const std::function<std::unique_ptr<ByteSource>(std::uint64_t, std::uint64_t, std::string)>&
        region) {
  std::vector<std::pair<std::string, Array>> arrays;
  for (const Member& m : central_directory(read, archive_size, origin)) {
    const std::string member_origin = fmt::format("{}: member '{}'", origin, m.name);
    if (m.local_offset > archive_size || archive_size - m.local_offset < 30)
      throw Error(ErrorCode::corrupt, "its local header lies outside the file", member_origin);
    std::array<std::byte, 30> local{};
    read(local, m.local_offset);
    if (load_le(local.data(), 4) != 0x04034b50)
      throw Error(ErrorCode::corrupt, "its local header is damaged", member_origin);
    const std::uint64_t data_offset =
        m.local_offset + 30 + load_le(local.data() + 26, 2) + load_le(local.data() + 28, 2);
    if (data_offset > archive_size || m.compressed > archive_size - data_offset)
      throw Error(ErrorCode::corrupt, "its data lies outside the file", member_origin);
    std::unique_ptr<ByteSource> stored = region(data_offset, m.compressed, member_origin);
    Array a = Array::empty(DType::uint8(), Shape{0});
    if (m.method == 0) {
      if (m.size != m.compressed)
        throw Error(ErrorCode::corrupt, "a stored member's sizes differ", member_origin);
      a = read_npy_from(*stored, member_origin);
    } else if (m.method == 8) {
      InflateSource inflated(*stored, m.size, m.crc, member_origin);
      a = read_npy_from(inflated, member_origin);
    } else {
      throw Error(
          ErrorCode::unsupported,
          fmt::format("zip compression method {} is not supported (stored and deflated are)",
                      m.method),
          member_origin);
    }
    std::string name = m.name;
    if (name.ends_with(".npy")) name.resize(name.size() - 4);
    arrays.emplace_back(std::move(name), std::move(a));
  }
  return arrays;
}

std::uint64_t size_of(const std::filesystem::path& file) {
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(file, ec);
  if (ec)
    throw Error(ErrorCode::not_found, fmt::format("cannot read: {}", ec.message()), file.string());
  return size;
}

}  // namespace

Array parse_npy(std::span<const std::byte> bytes, std::string_view origin) {
  SpanSource source(bytes, origin);
  return read_npy_from(source, origin);
}

Array read_npy(const std::filesystem::path& file) {
  const std::uint64_t size = size_of(file);
  const ReadOnlyFile f(file.string());
  FileSource source(f.fd(), 0, size, file.string());
  return read_npy_from(source, file.string());
}

std::vector<std::pair<std::string, Array>> parse_npz(std::span<const std::byte> bytes,
                                                     std::string_view origin) {
  const std::string name(origin);
  const ReadAt read = [&](std::span<std::byte> out, std::uint64_t offset) {
    if (!out.empty()) std::memcpy(out.data(), bytes.data() + offset, out.size());
  };
  return read_members(read, bytes.size(), name,
                      [&](std::uint64_t offset, std::uint64_t size, const std::string& member) {
                        return std::make_unique<SpanSource>(bytes.subspan(offset, size), member);
                      });
}

std::vector<std::pair<std::string, Array>> read_npz(const std::filesystem::path& file) {
  const std::uint64_t size = size_of(file);
  const ReadOnlyFile f(file.string());
  const std::string name = file.string();
  const ReadAt read = [&](std::span<std::byte> out, std::uint64_t offset) {
    if (read_at(f.fd(), out, offset, name, "") != out.size())
      throw Error(ErrorCode::corrupt, "not a valid .npz: the file ends early", name);
  };
  return read_members(
      read, size, name, [&](std::uint64_t offset, std::uint64_t length, std::string member) {
        return std::make_unique<FileSource>(f.fd(), offset, length, std::move(member));
      });
}

std::vector<std::byte> encode_npy(ArrayView a) {
  if (a.dtype().kind() == DTypeKind::vstring)
    throw Error(ErrorCode::unsupported, "variable-length strings have no .npy form");
  std::string shape;
  for (const std::int64_t dim : a.shape().dims())
    shape += fmt::format("{}, ", dim);
  if (a.rank() > 1)
    shape.resize(shape.size() - 2);
  else if (a.rank() == 1)
    shape.pop_back();
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                   a.dtype().numpy_str(), shape);
  const bool version2 = header.size() + 11 > 65535;
  const std::size_t lead = version2 ? 12 : 10;
  header.append(63 - (lead + header.size()) % 64, ' ');  // pad to a multiple of 64, then '\n'
  header.push_back('\n');

  std::vector<std::byte> out(lead + header.size() + a.nbytes());
  std::memcpy(out.data(), magic.data(), magic.size());
  out[6] = std::byte{static_cast<unsigned char>(version2 ? 2 : 1)};
  out[7] = std::byte{0};
  store_le(out.data() + 8, header.size(), version2 ? 4 : 2);
  std::memcpy(out.data() + lead, header.data(), header.size());
  std::byte* data = out.data() + lead + header.size();
  if (a.is_contiguous()) {
    if (a.nbytes() > 0) std::memcpy(data, a.data(), a.nbytes());
  } else {
    const Array packed = Array::copy_of(a);  // a strided view, gathered
    std::memcpy(data, packed.data(), packed.nbytes());
  }
  return out;
}

void write_npy(const std::filesystem::path& file, ArrayView a) {
  replace_file(file, encode_npy(a));
}

}  // namespace larder::store
