#include "health/node_table.h"

#include <boost/asio/ip/address.hpp>
#include <stdexcept>

namespace switchback {

NodeTable::NodeTable(const UpstreamList& upstreams) {
  if (upstreams.empty()) throw std::invalid_argument("no upstream configured");
  for (const auto& u : upstreams) {
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(u.host, ec);
    if (ec) throw std::invalid_argument("upstream '" + u.name + "': host '" + u.host + "' is not an IP address");
    nodes_.push_back(UpstreamNode{nodes_.size(), u.name, u.uri, u.transport, Endpoint{address, u.port}, u.outboundProxy});
  }
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
