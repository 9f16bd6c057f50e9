// Content hashes of trace variables: xxh3-128 of kind, dtype, shape and the
// values in C order and native byte order, as 32 hex digits. The same
// values hash the same whether they come from RAM or a stored dataset.
#pragma once

#include <string>
#include <string_view>

#include "larder/core/array_view.h"
#include "larder/store/dataset.h"

namespace larder::trace {

std::string hash_values(ArrayView values, std::string_view kind);
// Reads `dataset` in blocks of rows (bounded memory).
std::string hash_dataset(store::Dataset& dataset, std::string_view kind);

}  // namespace larder::trace
