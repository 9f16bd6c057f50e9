#include "larder/store/dataset.h"

#include <fmt/format.h>

#include "driver_common.h"
#include "fixed_strings.h"
#include "larder/core/error.h"

namespace larder::store {

Array Dataset::gather(std::span<const std::int64_t> rows) {
  if (shape().rank() == 0) {
    throw Error(ErrorCode::invalid_argument, "a scalar dataset has no rows to gather",
                store_path().string(), path());
  }
  return read(Selection{AxisSelection::indices({rows.begin(), rows.end()})});
}

std::vector<std::string> Dataset::read_strings(const Selection& selection) {
  require_strings(dtype(), "read_strings", store_path().string(), path());
  return unpack_fixed_strings(read(selection));
}

void Dataset::write_strings(const Selection& selection, const std::vector<std::string>& values) {
  const std::string file = store_path().string();
  require_strings(dtype(), "write_strings", file, path());
  const Shape wanted = result_shape(resolve_selection(selection, shape(), file, path()));
  write(selection, pack_fixed_strings(dtype().native(), values, wanted, file, path()));
}

Sequences Dataset::read_sequences(std::span<const std::int64_t>) {
  throw Error(ErrorCode::type_mismatch,
              fmt::format("read_sequences on a dataset of dtype {}, which holds no variable-length "
                          "sequences",
                          dtype().name()),
              store_path().string(), path());
}

}  // namespace larder::store
