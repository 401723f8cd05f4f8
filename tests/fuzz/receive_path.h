#pragma once

#include <cstddef>
#include <cstdint>

namespace switchback::fuzz {

/// Runs one input through the whole receive path Switchback runs on network bytes: datagram
/// delivery and stream framing, parsing, validation, the hostile-input guard and the proxy's
/// decision, against a fake wire and a fake clock. Shared by the libFuzzer target and the unit
/// test that replays tests/fuzz/regressions (and the seed corpus).
///
/// The input is a sequence of pieces separated by NUL bytes (a NUL never survives the parser's
/// pre-scan, so nothing is lost). A piece's first byte chooses how it arrives: bits 0-1 the
/// flow (0, 3: a phone over UDP; 1: a phone over TCP, through the stream framer, cut in two at
/// a point given by bits 2-4; 2: the upstream node over UDP), bits 5-7 how far the clock
/// moves afterwards. Every request the proxy forwards upstream is answered by the fake node
/// (100, then 200 or 486), so the response path and the transaction timers run too.
void runInput(const std::uint8_t* data, std::size_t size);

} // namespace switchback::fuzz
