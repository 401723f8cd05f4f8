#include "core/outbound.h"

#include "core/sofia.h"

#include <strings.h>
#include <string>

namespace switchback {

bool wantsOutbound(const SipMessage& request) {
  const sip_t* sip = request.sip();
  for (const sip_contact_t* m = sip->sip_contact; m; m = m->m_next)
    if (msg_header_find_param(m->m_common, "reg-id")) return true;
  for (const sip_supported_t* s = sip->sip_supported; s; s = s->k_next)
    for (const msg_param_t* item = s->k_items; item && *item; ++item)
      if (strcasecmp(*item, "outbound") == 0) return true;
  return false;
}

void addFlowTimer(SipMessage& response, const SipMessage& request, Seconds interval) {
  if (interval.count() <= 0 || !wantsOutbound(request)) return;
  sip_t* sip = response.sip();
  for (const sip_unknown_t* u = sip->sip_unknown; u; u = u->un_next)
    if (u->un_name && strcasecmp(u->un_name, "Flow-Timer") == 0) return;
  const std::string header = "Flow-Timer: " + std::to_string(interval.count());
  sip_add_make(response.msg(), sip, sip_unknown_class, header.c_str());
}

} // namespace switchback

namespace switchback {

std::optional<SipMessage> replayOf(std::string_view lastRegister, const std::string& via, std::uint32_t cseq,
                                   std::size_t maxSize) {
  SipMessage::ParseError error;
  auto msg = SipMessage::parse(lastRegister, maxSize, error);
  if (!msg) return std::nullopt;
  sip_t* sip = msg->sip();
  auto* pub = reinterpret_cast<msg_pub_t*>(sip);
  while (sip->sip_via) msg_header_remove(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_via));
  msg_header_insert(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip_via_make(msg->home(), via.c_str())));
  if (sip->sip_cseq) {
    auto* fresh = sip_cseq_create(msg->home(), cseq, sip_method_register, nullptr);
    msg_header_replace(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_cseq), reinterpret_cast<msg_header_t*>(fresh));
  }
  if (sip->sip_max_forwards) {
    sip->sip_max_forwards->mf_count = 70;
    msg_fragment_clear(sip->sip_max_forwards->mf_common);
  }
  return msg;
}

std::string buildDeregistration(const std::string& lastRegister, const std::string& via, std::uint32_t cseq,
                                const std::vector<std::string>& contacts) {
  auto msg = contacts.empty() ? std::nullopt : replayOf(lastRegister, via, cseq);
  if (!msg) return {};
  sip_t* sip = msg->sip();
  auto* pub = reinterpret_cast<msg_pub_t*>(sip);
  while (sip->sip_contact) msg_header_remove(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_contact));
  while (sip->sip_expires) msg_header_remove(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_expires));
  for (const auto& uri : contacts) {
    const std::string value = "<" + uri + ">;expires=0";
    msg_header_insert(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip_contact_make(msg->home(), value.c_str())));
  }
  msg_header_insert(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip_expires_create(msg->home(), 0)));
  return msg->serialize();
}

} // namespace switchback
