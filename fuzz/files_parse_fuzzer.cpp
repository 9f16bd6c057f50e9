// The readers of numpy's .npy/.npz files and of CSV text take files of any
// origin: anything but a valid file must be Error(corrupt), (unsupported) or,
// for CSV, (invalid_argument) — never a crash or an allocation the bytes do
// not justify. Byte 0 picks the reader (and for CSV, whether text columns
// are read).
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "larder/core/error.h"
#include "larder/store/csv.h"
#include "larder/store/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: {
        const larder::Array a = larder::store::parse_npy(bytes, "fuzz.npy");
        if (a.nbytes() > size) std::abort();  // every element came from the input
        break;
      }
      case 1:
        larder::store::parse_npz(bytes, "fuzz.npz");
        break;
      default: {  // 2: numbers only, 3: text columns too
        const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        const larder::store::Table t =
            larder::store::parse_csv(text, "fuzz.csv", {.text = data[0] % 4 == 3});
        larder::store::check_table(t);
        std::size_t held = 0;
        for (const auto& column : t.columns)
          held += column.nbytes();
        if (held > 64 * size + (std::size_t{64} << 20)) std::abort();
        break;
      }
    }
  } catch (const larder::Error& e) {
    const auto code = e.code();
    if (code != larder::ErrorCode::corrupt && code != larder::ErrorCode::unsupported &&
        code != larder::ErrorCode::invalid_argument)
      std::abort();
  }
  return 0;
}
