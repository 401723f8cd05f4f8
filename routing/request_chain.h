#pragma once

#include "core/proxy_engine.h"
#include "routing/failover_config.h"
#include "routing/registrant_policy.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchback {

/// One request from a phone on its way through the routing chain: what the steps know and what
/// they have decided so far (cf. resiprocate's repro RequestContext).
struct RouteContext {
  const RouteRequest& request;
  std::string aor;
  FailoverSettings settings;
  std::vector<NodeView> views;
  TimePoint now;
  std::optional<RegistrantPolicy::Choice> choice;   // the failover choice, for the steps after it
};

/// A chain of small steps, each one decision (cf. repro/Processor.hxx): a step either decides
/// the request's fate (a RouteDecision) or passes it on. The steps are assembled in one place,
/// FailoverRouter::makeRequestChain, in the order the advisory's rules apply.
class RequestChain {
public:
  using Step = std::function<std::optional<RouteDecision>(RouteContext&)>;

  void add(std::string_view name, Step step) { steps_.push_back({std::string(name), std::move(step)}); }
  /// Runs the steps in order; the first decision stands. No step decided: no usable node.
  RouteDecision run(RouteContext& context) const;
  std::vector<std::string> names() const;

private:
  struct Named {
    std::string name;
    Step step;
  };
  std::vector<Named> steps_;
};

} // namespace switchback
