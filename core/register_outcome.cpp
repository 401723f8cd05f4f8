#include "core/register_outcome.h"

#include "core/sofia.h"

#include <cstdlib>

namespace switchback {

RegisterOutcome registerOutcome(const SipMessage& request, const SipMessage& response, const std::string& node,
                                const Flow& flow, const std::string& requestBytes, RegisteredBy how) {
  const sip_t* req = request.sip();
  const sip_t* rsp = response.sip();
  const url_t* to = req->sip_to->a_url;
  RegisterOutcome o;
  o.aor = canonicalAor(sv(to->url_scheme), sv(to->url_user), sv(to->url_host));
  o.node = node;
  o.flow = flow;
  o.how = how;
  o.callId = sv(req->sip_call_id->i_id);
  o.cseq = req->sip_cseq->cs_seq;
  o.request = requestBytes;
  if (req->sip_authorization)
    o.authorization = encodeHeaderValue(reinterpret_cast<const msg_header_t*>(req->sip_authorization));
  for (const sip_contact_t* m = req->sip_contact; m; m = m->m_next) {
    if (m->m_url->url_type == url_any) {
      o.removeAll = true;
      continue;
    }
    RegisterOutcome::Contact c;
    c.uri = encodeUrl(m->m_url);
    if (const char* inst = msg_header_find_param(m->m_common, "+sip.instance")) c.instance = inst;
    if (const char* reg = msg_header_find_param(m->m_common, "reg-id"))
      c.regId = static_cast<std::uint32_t>(std::strtoul(reg, nullptr, 10));
    for (const sip_contact_t* g = rsp->sip_contact; g; g = g->m_next) {
      if (url_cmp(g->m_url, m->m_url) != 0) continue;
      if (g->m_expires) c.expiresSeconds = static_cast<std::uint32_t>(std::strtoul(g->m_expires, nullptr, 10));
      else if (rsp->sip_expires) c.expiresSeconds = static_cast<std::uint32_t>(rsp->sip_expires->ex_delta);
      break;
    }
    o.contacts.push_back(std::move(c));
  }
  for (const sip_contact_t* g = rsp->sip_contact; g; g = g->m_next)
    o.grantedContacts.push_back(encodeHeaderValue(reinterpret_cast<const msg_header_t*>(g)));
  return o;
}

bool validRegistration(const SipMessage& request, const SipMessage& response) {
  if (response.status() != 200) return false;
  const sip_t* req = request.sip();
  const sip_t* rsp = response.sip();
  for (const sip_contact_t* m = req->sip_contact; m; m = m->m_next) {
    if (m->m_url->url_type == url_any) continue;
    const unsigned long asked = m->m_expires ? std::strtoul(m->m_expires, nullptr, 10)
                                : req->sip_expires ? req->sip_expires->ex_delta
                                                   : 3600;
    if (asked == 0) continue;  // a removal: the 200 is enough
    bool granted = false;
    for (const sip_contact_t* g = rsp->sip_contact; g && !granted; g = g->m_next) {
      if (url_cmp(g->m_url, m->m_url) != 0) continue;
      const unsigned long e = g->m_expires ? std::strtoul(g->m_expires, nullptr, 10)
                              : rsp->sip_expires ? rsp->sip_expires->ex_delta
                                                 : 0;
      granted = e > 0;
    }
    if (!granted) return false;
  }
  return true;
}

} // namespace switchback
