#include "larder/trace/tiff.h"

#include <fmt/format.h>
#include <tiffio.h>

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <cstring>

#include "larder/core/error.h"

namespace larder::trace {
namespace {

namespace fs = std::filesystem;

// libtiff's messages, kept per handle instead of printed.
int keep_message(TIFF*, void* user_data, const char* module, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  auto& message = *static_cast<std::string*>(user_data);
  if (message.empty()) message = module && *module ? fmt::format("{}: {}", module, text) : text;
  return 1;  // handled: libtiff prints nothing
}

int ignore_warning(TIFF*, void*, const char*, const char*, va_list) {
  return 1;
}

// Memory handed to TIFFClientOpenExt: read-only, seekable.
struct MemoryFile {
  std::span<const std::byte> bytes;
  std::uint64_t position = 0;
};

tmsize_t memory_read(thandle_t handle, void* out, tmsize_t size) {
  auto& f = *static_cast<MemoryFile*>(handle);
  if (size <= 0 || f.position >= f.bytes.size()) return 0;
  const auto n =
      std::min<std::uint64_t>(static_cast<std::uint64_t>(size), f.bytes.size() - f.position);
  std::memcpy(out, f.bytes.data() + f.position, n);
  f.position += n;
  return static_cast<tmsize_t>(n);
}
tmsize_t memory_write(thandle_t, void*, tmsize_t) {
  return 0;
}
toff_t memory_seek(thandle_t handle, toff_t offset, int whence) {
  auto& f = *static_cast<MemoryFile*>(handle);
  const std::uint64_t base = whence == SEEK_CUR   ? f.position
                             : whence == SEEK_END ? f.bytes.size()
                                                  : 0;
  f.position = base + offset;
  return f.position;
}
int memory_close(thandle_t) {
  return 0;
}
toff_t memory_size(thandle_t handle) {
  return static_cast<MemoryFile*>(handle)->bytes.size();
}
int memory_map(thandle_t, void**, toff_t*) {
  return 0;
}
void memory_unmap(thandle_t, void*, toff_t) {}

// The layout of one page (directory).
struct Page {
  std::uint32_t width = 0, height = 0;
  std::uint16_t samples = 1;
  DType dtype = DType::uint8();

  bool operator==(const Page&) const = default;
  std::int64_t bytes() const {
    return static_cast<std::int64_t>(width) * height * samples *
           static_cast<std::int64_t>(dtype.item_size());
  }
  std::string describe() const {
    return fmt::format("{} x {}{} {}", height, width,
                       samples > 1 ? fmt::format(" x {}", samples) : "", dtype.numpy_str());
  }
};

// One open TIFF; `origin` names it in errors.
class Reader {
 public:
  explicit Reader(const fs::path& file) : origin_(file.string()) {
    TIFFOpenOptions* options = make_options();
    tiff_ = TIFFOpenExt(origin_.c_str(), "rm", options);
    TIFFOpenOptionsFree(options);
    if (!tiff_)
      fail(fs::exists(file) ? ErrorCode::corrupt : ErrorCode::not_found, "cannot open as TIFF");
  }
  Reader(std::span<const std::byte> bytes, std::string_view origin, std::size_t max_alloc)
      : origin_(origin), memory_{bytes} {
    TIFFOpenOptions* options = make_options();
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, static_cast<tmsize_t>(max_alloc));
    tiff_ =
        TIFFClientOpenExt(origin_.c_str(), "rm", &memory_, memory_read, memory_write, memory_seek,
                          memory_close, memory_size, memory_map, memory_unmap, options);
    TIFFOpenOptionsFree(options);
    if (!tiff_) fail(ErrorCode::corrupt, "not a TIFF");
  }
  ~Reader() {
    if (tiff_) TIFFClose(tiff_);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  int pages() {
    const tdir_t n = TIFFNumberOfDirectories(tiff_);
    if (n == 0) fail(ErrorCode::corrupt, "the file has no pages");
    return n;
  }

  Page page(int index) {
    if (!TIFFSetDirectory(tiff_, static_cast<tdir_t>(index)))
      fail(ErrorCode::corrupt, fmt::format("page {} cannot be read", index));
    Page p;
    std::uint16_t bits = 1, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
    TIFFGetField(tiff_, TIFFTAG_IMAGEWIDTH, &p.width);
    TIFFGetField(tiff_, TIFFTAG_IMAGELENGTH, &p.height);
    TIFFGetFieldDefaulted(tiff_, TIFFTAG_SAMPLESPERPIXEL, &p.samples);
    TIFFGetFieldDefaulted(tiff_, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(tiff_, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tiff_, TIFFTAG_PLANARCONFIG, &planar);
    if (p.width == 0 || p.height == 0 || p.samples == 0)
      fail(ErrorCode::corrupt, fmt::format("page {} has no pixels", index));
    if (planar != PLANARCONFIG_CONTIG && p.samples > 1)
      fail(ErrorCode::unsupported,
           fmt::format("page {} stores its samples in separate planes", index));
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
      fail(ErrorCode::unsupported,
           fmt::format("page {} has {} bits per sample (8, 16, 32 and 64 are read)", index, bits));
    const std::size_t size = bits / 8;
    switch (format) {
      case SAMPLEFORMAT_UINT:
        p.dtype = DType::from_string(fmt::format("u{}", size));
        break;
      case SAMPLEFORMAT_INT:
        p.dtype = DType::from_string(fmt::format("i{}", size));
        break;
      case SAMPLEFORMAT_IEEEFP:
        if (size < 4)
          fail(ErrorCode::unsupported, fmt::format("page {} has {}-bit floats", index, bits));
        p.dtype = DType::from_string(fmt::format("f{}", size));
        break;
      default:
        fail(ErrorCode::unsupported, fmt::format("page {} has sample format {}", index, format));
    }
    return p;
  }

  // Decodes the current page (after page()) into `out`, which holds
  // page.bytes() bytes.
  void read(const Page& p, std::span<std::byte> out) {
    const std::size_t row_bytes =
        static_cast<std::size_t>(p.width) * p.samples * p.dtype.item_size();
    if (TIFFIsTiled(tiff_)) {
      std::uint32_t tile_width = 0, tile_height = 0;
      TIFFGetField(tiff_, TIFFTAG_TILEWIDTH, &tile_width);
      TIFFGetField(tiff_, TIFFTAG_TILELENGTH, &tile_height);
      const tmsize_t tile_size = TIFFTileSize(tiff_);
      if (tile_width == 0 || tile_height == 0 || tile_size <= 0)
        fail(ErrorCode::corrupt, "bad tile size");
      const std::size_t pixel = p.samples * p.dtype.item_size();
      if (static_cast<std::size_t>(tile_size) < std::size_t{tile_width} * tile_height * pixel)
        fail(ErrorCode::corrupt, "tiles smaller than their size says");
      std::vector<std::byte> tile(static_cast<std::size_t>(tile_size));
      for (std::uint32_t y = 0; y < p.height; y += tile_height) {
        for (std::uint32_t x = 0; x < p.width; x += tile_width) {
          if (TIFFReadTile(tiff_, tile.data(), x, y, 0, 0) < 0)
            fail(ErrorCode::corrupt, fmt::format("tile at ({}, {}) does not decode", y, x));
          const std::uint32_t rows = std::min(tile_height, p.height - y);
          const std::size_t bytes = std::min(tile_width, p.width - x) * pixel;
          for (std::uint32_t r = 0; r < rows; ++r)
            std::memcpy(out.data() + (y + r) * row_bytes + x * pixel,
                        tile.data() + r * tile_width * pixel, bytes);
        }
      }
      return;
    }
    const tmsize_t strip_size = TIFFStripSize(tiff_);
    std::uint32_t rows_per_strip = p.height;
    TIFFGetFieldDefaulted(tiff_, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
    rows_per_strip = std::clamp<std::uint32_t>(rows_per_strip, 1, p.height);
    if (strip_size <= 0 || static_cast<std::size_t>(strip_size) < rows_per_strip * row_bytes)
      fail(ErrorCode::corrupt, "strips smaller than their rows");
    std::vector<std::byte> strip(static_cast<std::size_t>(strip_size));
    for (std::uint32_t y = 0, s = 0; y < p.height; y += rows_per_strip, ++s) {
      if (TIFFReadEncodedStrip(tiff_, s, strip.data(), strip_size) < 0)
        fail(ErrorCode::corrupt, fmt::format("strip {} does not decode", s));
      const std::uint32_t rows = std::min(rows_per_strip, p.height - y);
      std::memcpy(out.data() + y * row_bytes, strip.data(), rows * row_bytes);
    }
  }

  [[noreturn]] void fail(ErrorCode code, const std::string& what) {
    throw Error(code, message_.empty() ? what : fmt::format("{} ({})", what, message_), origin_);
  }

 private:
  TIFFOpenOptions* make_options() {
    TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(options, keep_message, &message_);
    TIFFOpenOptionsSetWarningHandlerExtR(options, ignore_warning, nullptr);
    return options;
  }

  std::string origin_;
  std::string message_;
  MemoryFile memory_;
  TIFF* tiff_ = nullptr;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "slice_2" < "slice_10": digit runs compare as numbers.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i_end = i, j_end = j;
      while (i_end < a.size() && std::isdigit(static_cast<unsigned char>(a[i_end])))
        ++i_end;
      while (j_end < b.size() && std::isdigit(static_cast<unsigned char>(b[j_end])))
        ++j_end;
      std::string_view x(a.data() + i, i_end - i), y(b.data() + j, j_end - j);
      while (x.size() > 1 && x.front() == '0')
        x.remove_prefix(1);
      while (y.size() > 1 && y.front() == '0')
        y.remove_prefix(1);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::vector<fs::path> slice_files(const fs::path& folder, const TiffOptions& options) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    const std::string suffix = lower(entry.path().extension().string());
    if (entry.is_regular_file() && std::find(options.extensions.begin(), options.extensions.end(),
                                             suffix) != options.extensions.end())
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    return natural_less(a.filename(), b.filename());
  });
  if (files.empty()) {
    throw Error(ErrorCode::not_found,
                fmt::format("no TIFF slices (files ending {}) in this folder",
                            fmt::join(options.extensions, ", ")),
                folder.string());
  }
  return files;
}

Shape stack_shape(std::int64_t pages, const Page& p) {
  if (p.samples > 1) return Shape{pages, p.height, p.width, p.samples};
  return Shape{pages, p.height, p.width};
}

}  // namespace

TiffStack import_tiff(const fs::path& file_or_folder, store::Group& parent, std::string_view name,
                      const TiffOptions& options) {
  TiffStack stack;
  if (!fs::exists(file_or_folder))
    throw Error(ErrorCode::not_found, "no such TIFF file or folder", file_or_folder.string());
  stack.files = fs::is_directory(file_or_folder) ? slice_files(file_or_folder, options)
                                                 : std::vector<fs::path>{file_or_folder};

  // First pass: count the pages and take the first one's layout.
  std::int64_t pages = 0;
  Page first;
  for (const fs::path& file : stack.files) {
    Reader reader(file);
    if (pages == 0) first = reader.page(0);
    pages += reader.pages();
  }

  const Shape shape = stack_shape(pages, first);
  std::vector<std::int64_t> chunks(shape.dims().begin(), shape.dims().end());
  chunks[0] = 1;
  // Slices above 16 MiB are chunked by bands of rows.
  const std::int64_t row_bytes = first.bytes() / first.height;
  chunks[1] = std::clamp<std::int64_t>(
      (std::int64_t{16} << 20) / std::max<std::int64_t>(row_bytes, 1), 1, first.height);
  stack.dataset = parent.create_dataset(
      name, {.dtype = first.dtype, .shape = shape, .chunks = chunks, .codec = options.codec});
  try {
    Array slice = Array::empty(first.dtype, stack_shape(1, first));
    std::int64_t z = 0;
    for (const fs::path& file : stack.files) {
      Reader reader(file);
      const int n = reader.pages();
      for (int i = 0; i < n; ++i, ++z) {
        const Page p = reader.page(i);
        if (!(p == first)) {
          reader.fail(ErrorCode::invalid_argument,
                      fmt::format("page {} is {} but the stack's first page is {}", i, p.describe(),
                                  first.describe()));
        }
        reader.read(p, slice.bytes());
        stack.dataset->write(Selection{AxisSelection::slice(z, z + 1, 1)}, slice);
      }
    }
  } catch (...) {
    stack.dataset.reset();
    parent.remove(name);  // no half-imported stack is left behind
    throw;
  }
  return stack;
}

Array decode_tiff(std::span<const std::byte> bytes, std::string_view origin,
                  std::size_t max_bytes) {
  Reader reader(bytes, origin, max_bytes);
  const int n = reader.pages();
  const Page first = reader.page(0);
  if (static_cast<std::uint64_t>(first.bytes()) > max_bytes / static_cast<std::uint64_t>(n))
    reader.fail(ErrorCode::unsupported,
                fmt::format("{} pages of {} exceed {} bytes", n, first.describe(), max_bytes));
  Array stack = Array::empty(first.dtype, stack_shape(n, first));
  for (int i = 0; i < n; ++i) {
    const Page p = reader.page(i);
    if (!(p == first))
      reader.fail(ErrorCode::corrupt,
                  fmt::format("page {} is {}, page 0 {}", i, p.describe(), first.describe()));
    reader.read(p, stack.bytes().subspan(static_cast<std::size_t>(i * first.bytes()),
                                         static_cast<std::size_t>(first.bytes())));
  }
  return stack;
}

void write_tiff(const fs::path& file, ArrayView stack, bool deflate) {
  if (stack.rank() != 3 && stack.rank() != 4)
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a TIFF stack is (pages, height, width[, samples]), not {}",
                            stack.shape().to_string()),
                file.string());
  const DType dtype = stack.dtype();
  std::uint16_t format = SAMPLEFORMAT_UINT;
  if (dtype.kind() == DTypeKind::int_)
    format = SAMPLEFORMAT_INT;
  else if (dtype.kind() == DTypeKind::float_ && dtype.item_size() >= 4)
    format = SAMPLEFORMAT_IEEEFP;
  else if (dtype.kind() != DTypeKind::uint)
    throw Error(ErrorCode::type_mismatch, fmt::format("TIFF has no {} samples", dtype.numpy_str()),
                file.string());
  const Array packed = Array::copy_of(stack);
  const auto pages = stack.shape()[0], height = stack.shape()[1], width = stack.shape()[2];
  const std::uint16_t samples =
      stack.rank() == 4 ? static_cast<std::uint16_t>(stack.shape()[3]) : 1;
  const std::size_t row_bytes = static_cast<std::size_t>(width) * samples * dtype.item_size();

  std::string message;
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options, keep_message, &message);
  TIFFOpenOptionsSetWarningHandlerExtR(options, ignore_warning, nullptr);
  TIFF* tiff = TIFFOpenExt(file.string().c_str(), "w", options);
  TIFFOpenOptionsFree(options);
  if (!tiff)
    throw Error(ErrorCode::io, fmt::format("cannot create TIFF ({})", message), file.string());
  bool ok = true;
  for (std::int64_t z = 0; z < pages && ok; ++z) {
    TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(width));
    TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(height));
    TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, samples);
    TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, static_cast<std::uint16_t>(dtype.item_size() * 8));
    TIFFSetField(tiff, TIFFTAG_SAMPLEFORMAT, format);
    TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC,
                 samples == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tiff, TIFFTAG_COMPRESSION, deflate ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_NONE);
    TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP,
                 std::max<std::uint32_t>(1, static_cast<std::uint32_t>(
                                                (64 << 10) / std::max<std::size_t>(row_bytes, 1))));
    TIFFSetField(tiff, TIFFTAG_SUBFILETYPE, pages > 1 ? FILETYPE_PAGE : 0);
    TIFFSetField(tiff, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(z),
                 static_cast<std::uint16_t>(pages));
    const std::byte* page = packed.data() + static_cast<std::size_t>(z * height) * row_bytes;
    for (std::int64_t y = 0; y < height && ok; ++y)
      ok = TIFFWriteScanline(tiff, const_cast<std::byte*>(page + y * row_bytes),
                             static_cast<std::uint32_t>(y), 0) >= 0;
    ok = ok && TIFFWriteDirectory(tiff);
  }
  TIFFClose(tiff);
  if (!ok)
    throw Error(ErrorCode::io, fmt::format("cannot write TIFF ({})", message), file.string());
}

}  // namespace larder::trace
