// libFuzzer entry point over Switchback's receive path (see receive_path.h for the input format).
// Build with -DSWITCHBACK_FUZZ=ON and clang; run with scripts/fuzz.sh.
#include "fuzz/receive_path.h"

#include <spdlog/spdlog.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  switchback::fuzz::runInput(data, size);
  return 0;
}
