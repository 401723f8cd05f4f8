#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace switchback {

/// Counters of one shard. Plain integers: a shard is single-threaded; the admin endpoint
/// reads a copy posted from the shard.
struct Stats {
  std::uint64_t messagesIn = 0;
  std::uint64_t messagesOut = 0;
  std::uint64_t parseErrors = 0;          // dropped: unparseable, NUL bytes, too large
  std::uint64_t oversized = 0;
  std::uint64_t streamErrors = 0;         // TCP streams closed for bad framing
  std::uint64_t tcpConnectionsRefused = 0;
  std::uint64_t tcpIdleClosed = 0;
  std::uint64_t keepAlives = 0;
  std::uint64_t stunAnswered = 0;         // STUN Binding requests answered on UDP (RFC 5626 keep-alives)
  std::uint64_t sendErrors = 0;
  std::uint64_t responsesDropped = 0;     // not ours, no route back, malformed
  std::uint64_t retransmissionsAbsorbed = 0;
  std::uint64_t retriedElsewhere = 0;       // unanswered requests sent once more when their node went down
  std::uint64_t transactionTimeouts = 0;
  std::uint64_t converted503 = 0;           // 503s passed on as 500 (RFC 3261 §16.7 step 6)
  std::map<std::string, std::uint64_t> requestsByMethod;
  std::map<std::string, std::uint64_t> responsesByClass;   // "1xx" … "6xx"
  std::map<std::pair<std::string, std::string>, std::uint64_t> finalResponses;  // (CSeq method, class)
  std::map<std::string, std::uint64_t> rejected;           // by reason phrase we answered
  std::map<std::string, std::uint64_t> dropped;            // hostile input dropped unanswered, by reason
};

} // namespace switchback
