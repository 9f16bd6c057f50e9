#include "larder/store/dataset.h"

#include <fmt/format.h>

#include "larder/core/error.h"

namespace larder::store {

Sequences Dataset::read_sequences(std::span<const std::int64_t>) {
  throw Error(ErrorCode::type_mismatch,
              fmt::format("read_sequences on a dataset of dtype {}, which holds no variable-length "
                          "sequences",
                          dtype().name()),
              store_path().string(), path());
}

}  // namespace larder::store
