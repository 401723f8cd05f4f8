#include "health/node_table.h"

#include <boost/asio/ip/address.hpp>
#include <stdexcept>

namespace switchback {

NodeTable::NodeTable(const UpstreamList& upstreams, const Resolved& resolved, TimePoint now) {
  if (upstreams.empty()) throw std::invalid_argument("no upstream configured");
  for (const auto& u : upstreams) {
    if (!u.hostIsName) {
      boost::system::error_code ec;
      auto address = boost::asio::ip::make_address(u.host, ec);
      if (ec) throw std::invalid_argument("upstream '" + u.name + "': host '" + u.host + "' is not an IP address");
      nodes_.push_back(UpstreamNode{nodes_.size(), u.name, u.uri, u.transport, Endpoint{address, u.port}, u.outboundProxy,
                                    u.name, {}, std::nullopt, {}});
      continue;
    }
    auto it = resolved.find(u.host);
    if (it == resolved.end() || it->second.empty())
      throw std::invalid_argument("upstream '" + u.name + "': '" + u.host + "' did not resolve");
    const auto& targets = it->second;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const DnsTarget& t = targets[i];
      const std::string name = targets.size() == 1 ? u.name : u.name + "-" + std::to_string(i + 1);
      nodes_.push_back(UpstreamNode{nodes_.size(), name, u.uri, u.transport, t.endpoint, u.outboundProxy, u.name, t.host,
                                    t.ttl, now + t.ttl});
    }
  }
}

std::size_t NodeTable::refresh(const std::string& host, const std::vector<DnsTarget>& targets, TimePoint now) {
  std::size_t changed = 0;
  std::map<std::string, std::size_t> used;  // several nodes may share a target name (e.g. two ports)
  for (auto& n : nodes_) {
    if (n.dnsTarget.empty()) continue;
    bool ours = false;
    for (const auto& t : targets) ours = ours || t.host == n.dnsTarget;
    if (!ours && n.upstream != host) continue;
    std::size_t seen = 0;
    for (const auto& t : targets) {
      if (t.host != n.dnsTarget) continue;
      if (seen++ != used[n.dnsTarget]) continue;
      if (!(t.endpoint == n.endpoint)) ++changed;
      n.endpoint = t.endpoint;
      n.dnsTtl = t.ttl;
      n.dnsExpires = now + t.ttl;
      ++used[n.dnsTarget];
      break;
    }
  }
  return changed;
}

NodeTable::Remap NodeTable::replace(NodeTable&& fresh) {
  Remap remap;
  for (const auto& old : nodes_) {
    const UpstreamNode* n = fresh.findByName(old.name);
    remap.push_back(n ? std::optional<std::size_t>(n->index) : std::nullopt);
  }
  nodes_ = std::move(fresh.nodes_);
  return remap;
}

const UpstreamNode* NodeTable::findBySource(const Endpoint& source) const {
  for (const auto& n : nodes_)
    if (n.endpoint == source) return &n;
  return nullptr;
}

const UpstreamNode* NodeTable::findByName(std::string_view name) const {
  for (const auto& n : nodes_)
    if (n.name == name) return &n;
  return nullptr;
}

} // namespace switchback
