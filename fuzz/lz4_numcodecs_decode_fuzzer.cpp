#include "decode_fuzzer.h"

LARDER_DECODE_FUZZER("lz4_numcodecs")
