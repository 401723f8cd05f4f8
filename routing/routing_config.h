#pragma once

#include "core/digest.h"
#include "routing/failover_config.h"
#include "routing/pacer.h"

#include <string>
#include <unordered_map>

namespace switchback {

/// The SBC side: what a phone hears when it may not signal.
struct SbcConfig {
  bool requireRegistration = true;     // dialog-initiating requests need a registration through us
  int rejectStatus = 403;
  std::string rejectReason = "Not Registered via This Node";
  int dialogEndStatus = 481;           // in-dialog signaling via a node the phone is not registered on
  std::string dialogEndReason = "Call Ended: Not Registered via Node";
  Seconds maxPhoneExpires{600};        // the longest registration phones are granted (0: as the registrar says)
  Seconds dialogLifetime{7200};        // a call with no in-dialog traffic this long is forgotten (idle again)
};

/// Per registrant (address of record) the credentials for surrogate registration, from the
/// credentials file; secrets never reach a log.
using CredentialStore = std::unordered_map<std::string, DigestCredentials>;

struct RoutingConfig {
  FailoverConfig failover;
  PacingConfig pacing;
  SbcConfig sbc;
  bool healthGatedFailback = true;     // timed failback only to a node the probes report up
  // failBack.mode DNSTTL for a node with no DNS record (an IP literal): the TTL it is taken to
  // have (dns.ip_literal_ttl_s), so that it fails back too.
  Seconds ipLiteralDnsTtl{3600};
  CredentialStore credentials;
};

} // namespace switchback
