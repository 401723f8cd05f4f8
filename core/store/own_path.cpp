#include "core/store/own_path.h"

#include "core/sip_message.h"
#include "core/sofia.h"

namespace switchback {

std::string withOwnPath(const std::string& lastRegister, const std::string& host, std::uint16_t port) {
  SipMessage::ParseError error;
  auto msg = SipMessage::parse(lastRegister, 65535, error);
  if (!msg) return lastRegister;
  for (sip_path_t* p = msg->sip()->sip_path; p; p = p->r_next) {
    const char* user = p->r_url->url_user;
    if (user == nullptr || std::string_view(user).rfind("sb-", 0) != 0) continue;
    const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    p->r_url->url_host = su_strdup(msg->home(), h.c_str());
    p->r_url->url_port = su_strdup(msg->home(), std::to_string(port).c_str());
    msg_fragment_clear(p->r_common);
    return msg->serialize();
  }
  return lastRegister;
}

} // namespace switchback
