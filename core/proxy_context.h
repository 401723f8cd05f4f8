#pragma once

// The per-transaction state of ProxyEngine, shared by its two source files.
#include "core/proxy_engine.h"

#include <memory>

namespace switchback {

inline constexpr std::string_view kOurBranch = "z9hG4bKsb";   // our Via branches: magic, "sb", loop hash, "."

inline std::string clientKey(std::string_view branch, std::string_view method) {
  std::string key(branch);
  key.push_back('|');
  key.append(method);
  return key;
}

struct ProxyEngine::Context {
  std::uint64_t id = 0;
  std::string serverKey;
  std::string clientKey;
  std::string cancelKey;
  Flow in;
  Flow out;
  std::string node;                       // upstream node the request went to, if any
  std::optional<SipMessage> forwarded;    // as sent (for ACK, CANCEL, the binding table)
  std::optional<ServerTransaction> server;
  std::optional<ClientTransaction> client;
  std::unique_ptr<ClientTransaction> cancel;  // INVITEs only: not carried inline by every context
  bool isInvite = false;
  bool isRegister = false;
  bool provisional = false;
  bool cancelRequested = false;
  bool finalSent = false;
  bool clientFailed = false;
  std::string toTag;
  std::optional<TimePoint> timerC;
  std::optional<TimePoint> scheduled;
  LocalCompletion local;                  // set for requests Switchback originated itself
  std::string aor;                        // towards a node: the phone's AOR and the request's kind,
  RequestKind kind = RequestKind::Other;  // to route it again (retryUnanswered)
  bool answered = false;                  // any response came from the node
  bool retried = false;
};

} // namespace switchback
