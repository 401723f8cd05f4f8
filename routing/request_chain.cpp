#include "routing/request_chain.h"

namespace switchback {

RouteDecision RequestChain::run(RouteContext& context) const {
  for (const auto& s : steps_)
    if (auto decision = s.step(context)) return std::move(*decision);
  return RouteDecision{std::nullopt, {503, "No Upstream Available"}, std::nullopt, std::nullopt};
}

std::vector<std::string> RequestChain::names() const {
  std::vector<std::string> out;
  for (const auto& s : steps_) out.push_back(s.name);
  return out;
}

} // namespace switchback
