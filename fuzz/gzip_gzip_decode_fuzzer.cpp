#include "decode_fuzzer.h"

LARDER_DECODE_FUZZER("gzip_gzip")
