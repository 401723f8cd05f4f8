// The dialog half of ProxyEngine: what each leg says about its dialog, reported to the policy
// (routing/ keeps the dialogs; the engine keeps only transactions).
#include "core/proxy_context.h"
#include "core/sip_uri.h"
#include "core/sofia.h"

namespace switchback {

namespace {

std::string_view headerText(SipMessage& m, const void* h) {
  if (h == nullptr) return {};
  const char* s = sip_header_as_string(m.home(), static_cast<const sip_header_t*>(h));
  return s ? std::string_view(s) : std::string_view();
}

std::string_view contactOf(SipMessage& m) {
  const sip_contact_t* c = m.sip()->sip_contact;
  if (c == nullptr) return {};
  const char* s = url_as_string(m.home(), c->m_url);
  return s ? std::string_view(s) : std::string_view();
}

} // namespace

void ProxyEngine::reportInvite(DialogEvent::Kind kind, const Context& ctx, const SipMessage* response, TimePoint now) {
  if (ctx.local || !ctx.forwarded) return;
  SipMessage& request = const_cast<SipMessage&>(*ctx.forwarded);
  const sip_t* f = request.sip();
  if (f->sip_to == nullptr || f->sip_to->a_tag || f->sip_from == nullptr || f->sip_call_id == nullptr) return;
  DialogEvent e;
  e.kind = kind;
  e.callId = sv(f->sip_call_id->i_id);
  e.fromTag = sv(f->sip_from->a_tag);
  e.cseq = f->sip_cseq ? f->sip_cseq->cs_seq : 0;
  // The leg's phone end: the caller when the INVITE went upstream, else the callee.
  e.phoneIsCaller = !ctx.node.empty();
  const url_t* u = e.phoneIsCaller ? f->sip_from->a_url : f->sip_to->a_url;
  std::string aor = canonicalAor(sv(u->url_scheme), sv(u->url_user), sv(u->url_host));
  // A callee is the phone this branch goes to: when the registrar forks to another AOR's contact
  // (RFC 3261 §16.6), the To names the called AOR, not the phone that rings (issue 21 item 4).
  if (!e.phoneIsCaller) aor = bindings_.aorAt(ctx.out.remote, aor);
  e.aor = aor;
  e.flow = e.phoneIsCaller ? ctx.in : ctx.out;
  if (e.phoneIsCaller) e.contact = contactOf(request);
  if (response) {
    SipMessage& r = const_cast<SipMessage&>(*response);
    const sip_t* rs = r.sip();
    if (rs->sip_to) e.toTag = sv(rs->sip_to->a_tag);
    if (kind == DialogEvent::Kind::Answered) {
      e.from = headerText(r, rs->sip_from);
      e.to = headerText(r, rs->sip_to);
      if (!e.phoneIsCaller) e.contact = contactOf(r);
    }
  }
  observer_.onDialog(e, now);
}

ProxyEngine::InDialogRequest ProxyEngine::inDialogRequest(const SipMessage& msg) {
  const sip_t* sip = msg.sip();
  InDialogRequest r;
  if (sip->sip_to == nullptr || sip->sip_to->a_tag == nullptr || sip->sip_from == nullptr || sip->sip_call_id == nullptr)
    return r;
  r.present = true;
  r.bye = sip->sip_request->rq_method == sip_method_bye;
  r.callId = sv(sip->sip_call_id->i_id);
  r.fromTag = sv(sip->sip_from->a_tag);
  r.toTag = sv(sip->sip_to->a_tag);
  r.cseq = sip->sip_cseq ? sip->sip_cseq->cs_seq : 0;
  return r;
}

void ProxyEngine::reportInDialog(const InDialogRequest& r, TimePoint now) {
  if (!r.present) return;
  DialogEvent e;
  e.kind = r.bye ? DialogEvent::Kind::Bye : DialogEvent::Kind::Request;
  e.callId = r.callId;
  e.fromTag = r.fromTag;
  e.toTag = r.toTag;
  e.cseq = r.cseq;
  observer_.onDialog(e, now);
}

} // namespace switchback
