#pragma once

#include "core/clock.h"
#include "core/dialog_event.h"
#include "core/guard.h"
#include "core/network.h"

#include <optional>
#include <string>
#include <string_view>

namespace switchback {

// What the proxy engine (core/) asks of routing/ and tells it, as three narrow interfaces: which
// addresses are upstream nodes, where a request goes, and what happened. routing/ implements
// them (FailoverRouter); core never depends on routing.

/// Where a request goes when it leaves towards an upstream node.
struct NextHop {
  std::string node;
  Transport transport = Transport::Udp;
  Endpoint endpoint;
};

/// What a request is, for the routing chain.
enum class RequestKind { Register, NewDialog, InDialog, Other };

struct RouteRequest {
  std::string_view aor;            // the phone's address of record (To for REGISTER, From otherwise)
  std::string_view method;
  RequestKind kind;
  std::string_view dialogNode;     // InDialog: the node the route set names, if any
  std::string_view callId;         // the request's Call-ID and its own From and To tags
  std::string_view fromTag;
  std::string_view toTag;
  bool resumed = false;            // asked again after a hold: the policy decides now
  // What the engine saw of the request's destination, for the relay check (no open relay):
  bool foreignRoute = false;       // a Route entry left after ours names no upstream node
  bool foreignTarget = false;      // out of dialog, no Route: the Request-URI names neither an
                                   // allowed domain, nor Switchback, nor an upstream node
};

struct RouteDecision {
  std::optional<NextHop> hop;
  Rejection rejection{503, "No Upstream Available"};   // when there is no hop
  std::optional<Seconds> retryAfter;
  /// No hop yet: hold the request until the router calls ProxyEngine::resume(aor) (a registration
  /// it started has ended) or `hold` has passed, then ask again (with `resumed` set).
  std::optional<Millis> hold;
};

/// The relay check, the first step of every routing chain: a phone's request may only leave
/// towards an upstream node (or a domain of ours). Refuses 403 otherwise.
inline std::optional<RouteDecision> refuseRelay(const RouteRequest& request) {
  if (!request.foreignRoute && !request.foreignTarget) return std::nullopt;
  return RouteDecision{std::nullopt, {403, "Relaying Denied"}, std::nullopt, std::nullopt};
}

/// Which configured upstream node an address is.
class NodeDirectory {
public:
  virtual ~NodeDirectory() = default;
  /// The configured node at this address, if the address is one.
  virtual std::optional<NextHop> nodeAt(const Endpoint& address) const = 0;
  /// A node with this IP address, whatever the port (a TCP upstream connects from any port).
  virtual std::optional<NextHop> nodeAtHost(const boost::asio::ip::address& address) const {
    (void)address;
    return std::nullopt;
  }
};

/// Where requests go: the routing chain.
class RequestRouter {
public:
  virtual ~RequestRouter() = default;
  /// Where a request from a phone goes, or why it does not.
  virtual RouteDecision routeFromPhone(const RouteRequest& request, TimePoint now) = 0;
  /// A request from upstream node `node` towards the phone registered as `aor`: nullopt accepts
  /// it. `request` names the request (kind InDialog when it has a To tag).
  virtual std::optional<Rejection> acceptFromUpstream(std::string_view aor, std::string_view node,
                                                      const RouteRequest& request, TimePoint now) {
    (void)aor, (void)node, (void)request, (void)now;
    return std::nullopt;
  }
};

/// What the proxy saw happen, for the registrant state, the dialog tracker and passive health.
class ProxyObserver {
public:
  virtual ~ProxyObserver() = default;
  /// A 2xx to a REGISTER from `node` left `aor` registered there.
  virtual void onRegistered(std::string_view aor, std::string_view node, TimePoint now) { (void)aor, (void)node, (void)now; }
  /// What happened to a dialog on one leg (offered, answered, failed, an in-dialog request, a
  /// BYE): failback waits for idle phones, whichever end of a call they are.
  virtual void onDialog(const DialogEvent& event, TimePoint now) { (void)event, (void)now; }

  enum class Outcome { Answered, Unavailable, Timeout, TransportError };
  /// How a transaction forwarded to `node` ended. Unavailable is a 503; retryAfter is its
  /// Retry-After, if any.
  virtual void observe(std::string_view node, Outcome outcome, std::optional<Seconds> retryAfter, TimePoint now) {
    (void)node, (void)outcome, (void)retryAfter, (void)now;
  }
};

/// The three, as the proxy engine gets them (one object may be all three).
struct Upstreams {
  const NodeDirectory& directory;
  RequestRouter& router;
  ProxyObserver& observer;
};

} // namespace switchback
