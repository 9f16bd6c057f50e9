// `larder cat FILE:PATH` — print a dataset (or a slice of it) as text, CSV
// or a .npy file on stdout; ragged records one per line.
#include <fmt/format.h>

#include <complex>
#include <cstdio>

#include "commands.h"
#include "larder/core/error.h"
#include "larder/ragged/ragged.h"
#include "larder/store/store.h"
#include "location.h"

namespace larder::cli {
namespace {

std::string element_text(const DType& dtype, const std::byte* p) {
  auto load = [p]<class T>(T) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  };
  switch (dtype.kind()) {
    case DTypeKind::boolean:
      return load(std::uint8_t{}) ? "True" : "False";
    case DTypeKind::int_: {
      std::int64_t v = 0;
      std::memcpy(&v, p, dtype.item_size());
      const int shift = 64 - 8 * static_cast<int>(dtype.item_size());
      return std::to_string(shift > 0 ? (v << shift) >> shift : v);
    }
    case DTypeKind::uint: {
      std::uint64_t v = 0;
      std::memcpy(&v, p, dtype.item_size());
      return std::to_string(v);
    }
    case DTypeKind::float_:
      if (dtype.item_size() == 4) return fmt::format("{}", load(float{}));
      if (dtype.item_size() == 8) return fmt::format("{}", load(double{}));
      return fmt::format("<f2:{:04x}>", load(std::uint16_t{}));
    case DTypeKind::complex:
      if (dtype.item_size() == 8) {
        const auto c = load(std::complex<float>{});
        return fmt::format("({}{:+}j)", c.real(), c.imag());
      } else {
        const auto c = load(std::complex<double>{});
        return fmt::format("({}{:+}j)", c.real(), c.imag());
      }
    case DTypeKind::string: {
      std::string s(reinterpret_cast<const char*>(p), dtype.item_size());
      return s.substr(0, std::min(s.find('\0'), s.size()));
    }
    case DTypeKind::vstring:
      return "";
  }
  return "";
}

// An array as nested lists: "[[1, 2], [3, 4]]".
std::string nested_text(ArrayView a, std::size_t axis, const std::byte*& p) {
  if (axis == a.rank()) {
    std::string out = element_text(a.dtype(), p);
    p += a.dtype().item_size();
    return out;
  }
  std::string out = "[";
  for (std::int64_t i = 0; i < a.shape()[axis]; ++i) {
    if (i > 0) out += ", ";
    out += nested_text(a, axis + 1, p);
  }
  return out + "]";
}

// Records chosen by a one-axis selection ("5", "10:20", "[3, 1, 3]"), a
// line each: text as nested lists, CSV as flat values.
void print_records(ragged::Ragged& r, const Selection& selection, const std::string& format) {
  if (format == "npy") {
    throw Error(ErrorCode::unsupported,
                "ragged records have no .npy form; use --format text or csv", r.file(), r.path());
  }
  std::vector<ResolvedAxis> axes;
  try {
    axes = selection.resolve(Shape{r.size()});
  } catch (const Error& e) {
    throw e.at(r.file(), r.path());
  }
  std::vector<std::int64_t> rows;
  for (std::int64_t k = 0; k < axes[0].count; ++k)
    rows.push_back(axes[0].source_index(k));
  constexpr std::size_t kBlock = 4096;  // records read at a time
  for (std::size_t first = 0; first < rows.size(); first += kBlock) {
    const auto block = std::span(rows).subspan(first, std::min(kBlock, rows.size() - first));
    const ragged::Records records = r.gather(block);
    for (std::int64_t i = 0; i < records.size(); ++i) {
      const ArrayView record = records[i];
      const std::byte* p = record.data();
      if (format == "csv") {
        std::string line;
        for (std::int64_t k = 0; k < record.num_elements(); ++k, p += record.dtype().item_size())
          line += (k > 0 ? "," : "") + element_text(record.dtype(), p);
        fmt::print("{}\n", line);
      } else {
        fmt::print("{}\n", nested_text(record, 0, p));
      }
    }
  }
}

void write_npy(const Array& a) {
  std::string shape;
  for (std::int64_t d : a.shape())
    shape += std::to_string(d) + ", ";
  if (a.rank() > 1) shape.resize(shape.size() - 2);
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                   a.dtype().numpy_str(), shape);
  const std::size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  const auto length = static_cast<std::uint16_t>(header.size());
  std::fwrite("\x93NUMPY\x01\x00", 1, 8, stdout);
  const unsigned char len[2] = {static_cast<unsigned char>(length & 0xff),
                                static_cast<unsigned char>(length >> 8)};
  std::fwrite(len, 1, 2, stdout);
  std::fwrite(header.data(), 1, header.size(), stdout);
  std::fwrite(a.data(), 1, a.nbytes(), stdout);
}

}  // namespace

void add_cat_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("cat", "Print a dataset, or a slice of it");
  auto where = std::make_shared<std::string>();
  auto slice = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  cmd->add_option("FILE:PATH", *where, "The dataset")->required();
  cmd->add_option("--slice", *slice, "numpy-style selection, e.g. '10:20, ::2' or '[5, 1, 5]'");
  cmd->add_option("--format", *format, "text, csv or npy")
      ->check(CLI::IsMember({"text", "csv", "npy"}));
  cmd->callback([where, slice, format] {
    const Location loc = parse_location(*where);
    auto st = store::Store::open(loc.file, "r");
    const Selection selection = Selection::parse(*slice);
    if (ragged::Ragged::is_ragged(*st->root(), loc.path)) {
      print_records(*ragged::Ragged::open(*st->root(), loc.path), selection, *format);
      return;
    }
    auto ds = st->root()->open_dataset(loc.path);
    if (!ds->dtype().is_fixed_size()) {
      if (*format == "npy") {
        throw Error(ErrorCode::unsupported,
                    "variable-length strings have no .npy form; use --format text", loc.file,
                    ds->path());
      }
      for (const auto& s : ds->read_strings(selection))
        fmt::print("{}\n", s);
      return;
    }
    const Array a = ds->read(selection);
    if (*format == "npy") {
      write_npy(a);
      return;
    }
    if (*format == "csv" && a.rank() > 2) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("CSV holds at most 2 dimensions; this selection has shape {}",
                              a.shape().to_string()),
                  loc.file, ds->path());
    }
    const std::int64_t width = a.rank() == 0 ? 1 : a.shape()[a.rank() - 1];
    const std::string sep = *format == "csv" ? "," : " ";
    const std::size_t item = a.dtype().item_size();
    std::string line;
    for (std::int64_t i = 0; i < a.num_elements(); ++i) {
      if (!line.empty()) line += sep;
      line += element_text(a.dtype(), a.data() + static_cast<std::size_t>(i) * item);
      if ((i + 1) % std::max<std::int64_t>(width, 1) == 0) {
        fmt::print("{}\n", line);
        line.clear();
      }
    }
  });
}

}  // namespace larder::cli
