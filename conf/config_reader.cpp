#include "conf/config_reader.h"

#include <boost/asio/ip/address.hpp>
#include <cctype>

namespace switchback::config_reading {

std::string joined(const Keys& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// What the person wrote instead, for "expected X, got Y".
std::string kindOf(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return node.size() == 0 ? "an empty list" : "a list";
  return "'" + node.Scalar() + "'";
}

namespace {

bool isDnsName(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.front() == '-') return false;
  bool letter = false;
  for (char c : h) {
    if (std::isalpha(static_cast<unsigned char>(c))) letter = true;
    else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return letter;
}

} // namespace

// "host:port" or "[v6]:port" with an IP literal host. `text` is the value as written, for
// messages; `hostPort` the part of it to parse.
HostPort parseHostPort(const Reader& r, const YAML::Node& node, const std::string& key, const std::string& text,
                       std::string_view hostPort, std::optional<std::uint16_t> defaultPort, bool allowName) {
  const std::string quoted = "'" + text + "'";
  const bool bracketed = !hostPort.empty() && hostPort.front() == '[';
  std::string_view host = hostPort;
  std::optional<std::string_view> port;
  if (bracketed) {
    const auto close = hostPort.find(']');
    if (close == std::string_view::npos) r.fail(node, key, quoted + " has an unclosed '['; allowed: [IPv6]:PORT");
    host = hostPort.substr(1, close - 1);
    const auto rest = hostPort.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        r.fail(node, key, quoted + " has '" + std::string(rest) + "' after ']'; allowed: ':' and a port 1-65535");
      port = rest.substr(1);
    }
  } else if (const auto colon = hostPort.find(':'); colon != std::string_view::npos) {
    if (hostPort.find(':', colon + 1) != std::string_view::npos)
      r.fail(node, key, quoted + " has an IPv6 address without brackets; allowed: [IPv6]:PORT, e.g. [::1]:5060");
    host = hostPort.substr(0, colon);
    port = hostPort.substr(colon + 1);
  }

  std::uint16_t portValue = defaultPort.value_or(0);
  if (port) {
    unsigned v = 0;
    const auto [p, e] = std::from_chars(port->data(), port->data() + port->size(), v);
    if (port->empty() || e != std::errc() || p != port->data() + port->size() || v < 1 || v > 65535)
      r.fail(node, key, quoted + (port->empty() ? " has an empty port" : " has port " + std::string(*port)) + "; allowed: 1-65535");
    portValue = static_cast<std::uint16_t>(v);
  } else if (!defaultPort) {
    r.fail(node, key, quoted + " has no port; allowed: HOST:PORT with PORT 1-65535");
  }

  const std::string hostText(host);
  if (allowName && !bracketed && isDnsName(hostText)) {
    boost::system::error_code v4;
    boost::asio::ip::make_address_v4(hostText, v4);
    if (v4) return {hostText, portValue, hostText + ":" + std::to_string(portValue), true, port.has_value()};
  }
  boost::system::error_code ec;
  std::string canonical;
  if (bracketed) {
    canonical = "[" + boost::asio::ip::make_address_v6(hostText, ec).to_string() + "]";
    boost::system::error_code v4;
    if (ec && (boost::asio::ip::make_address_v4(hostText, v4), !v4))
      r.fail(node, key, quoted + " has an IPv4 address in brackets; allowed: brackets only around an IPv6 address");
  } else {
    canonical = boost::asio::ip::make_address_v4(hostText, ec).to_string();
  }
  if (ec || hostText.empty())
    r.fail(node, key,
           quoted + " has host '" + hostText + "'; allowed: " +
               (allowName ? "an IPv4 address, a bracketed IPv6 address or a DNS name"
                          : "an IPv4 address or a bracketed IPv6 address (not a DNS name)"));
  return {hostText, portValue, canonical + ":" + std::to_string(portValue), false, port.has_value()};
}

Transport parseTransport(const Reader& r, const YAML::Node& node, const std::string& key, std::string_view t,
                         const std::string& text) {
  if (t == "udp" || t == "UDP") return Transport::Udp;
  if (t == "tcp" || t == "TCP") return Transport::Tcp;
  if (t == "tls" || t == "TLS") return Transport::Tls;
  r.fail(node, key, "'" + text + "' has transport '" + std::string(t) + "'; allowed: udp, tcp, tls");
}

bool flag(const Reader& r, const YAML::Node& node, const std::string& key) {
  const std::string v = r.string(node, key);
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  r.fail(node, key, "'" + v + "' is not allowed; allowed: 0, 1");
}

// The advisory's parameters, by their own names, for one scope.
std::vector<std::string> stringList(const Reader& r, const YAML::Node& node, const std::string& key, const std::string& of) {
  if (!node.IsSequence()) r.fail(node, key, "expected a list of " + of + ", got " + kindOf(node));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) out.push_back(r.string(node[i], key + "[" + std::to_string(i) + "]"));
  return out;
}

} // namespace switchback::config_reading
