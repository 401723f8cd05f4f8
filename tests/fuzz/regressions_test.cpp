// Every input the fuzzer ever crashed on (tests/fuzz/regressions) and the seed corpus, replayed
// through the same receive path in every build, sanitizers included.
#include "fuzz/receive_path.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace {

std::size_t replayAll(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename().string().front() == '.') continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    INFO(entry.path().string());
    switchback::fuzz::runInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  return n;
}

} // namespace

TEST_CASE("every input the fuzzer found a crash with is survived", "[fuzz]") {
  CHECK(replayAll(SWITCHBACK_FUZZ_DIR "/regressions") >= 1);
}

TEST_CASE("every seed of the fuzz corpus is survived", "[fuzz]") {
  CHECK(replayAll(SWITCHBACK_FUZZ_DIR "/corpus") >= 5);
}
