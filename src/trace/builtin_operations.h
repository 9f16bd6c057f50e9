// The built-in operations (threshold, patches, patch_fft, standardize):
// volume.h's streaming functions registered under those names, each
// checking its JSON parameters. The registry adds them when first used.
#pragma once

#include "larder/trace/operation.h"

namespace larder::trace {

void register_builtin_operations(OperationRegistry& registry);

}  // namespace larder::trace
