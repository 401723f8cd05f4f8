#pragma once

#include "core/clock.h"

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchback {

/// An IPv4 or IPv6 network, "10.0.0.0/8", "2001:db8::/32"; a bare address is a /32 or /128.
struct Cidr {
  boost::asio::ip::address network;
  unsigned prefix = 0;

  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const boost::asio::ip::address& a) const;
  std::string str() const;
  bool operator==(const Cidr&) const = default;
};

/// Limits on one message, checked before (header count and size) and after (Via depth) parsing.
struct MessageLimits {
  std::size_t maxHeaders = 128;       // header lines, folded lines included
  std::size_t maxHeaderBytes = 16384; // start line and headers, without the body
  std::size_t maxVia = 70;            // Via entries, comma-separated ones included: one per hop, and
                                      // 70 is RFC 3261's Max-Forwards default (RFC 4475 longreq has 34)

  bool operator==(const MessageLimits&) const = default;
};

/// Who may send what (no open relay).
struct AccessConfig {
  std::vector<Cidr> phoneNetworks;    // sources allowed to send requests as phones; empty: any
  std::vector<std::string> domains;   // Request-URI domains phones may reach; empty: any

  bool operator==(const AccessConfig&) const = default;
};

/// Per-source rate limits (token buckets), bans, and global caps. 0 turns a limit off.
struct RateLimitConfig {
  double requestsPerSecond = 0;       // every message from one address (phones; never upstream nodes)
  double registersPerSecond = 0;      // REGISTERs from one address
  Seconds banTime{60};                // how long a flooding address is dropped
  Seconds retryAfter{5};              // Retry-After of the 503 a rate-limited request gets
  std::size_t maxTransactions = 0;    // transactions in flight, all sources
  std::size_t maxTrackedSources = 100000;  // addresses with a bucket; beyond, idle ones are forgotten
  std::vector<std::string> scannerUserAgents{"friendly-scanner", "sipvicious", "sipcli", "sip-scan", "sipsak-scan",
                                             "VaxSIPUserAgent", "iWar", "sundayddr", "SIVuS", "pplsip"};

  bool operator==(const RateLimitConfig&) const = default;
};

struct GuardConfig {
  MessageLimits limits;
  AccessConfig access;
  RateLimitConfig rate;

  bool operator==(const GuardConfig&) const = default;
};

} // namespace switchback
