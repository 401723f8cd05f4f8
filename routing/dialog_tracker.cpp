#include "routing/dialog_tracker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace switchback {

namespace {

std::string key(std::string_view callId, std::string_view callerTag) {
  std::string k(callId);
  k.push_back('\n');
  k.append(callerTag);
  return k;
}

} // namespace

std::string DialogTracker::Bye::request(const std::string& via) const {
  std::string r = "BYE " + uri + " SIP/2.0\r\n";
  r += "Via: " + via + "\r\n";
  r += "Max-Forwards: 70\r\n";
  r += "From: " + from + "\r\n";
  r += "To: " + to + "\r\n";
  r += "Call-ID: " + callId + "\r\n";
  r += "CSeq: " + std::to_string(cseq) + " BYE\r\n";
  r += "Reason: SIP;cause=481;text=\"Call Ended: Not Registered via Node\"\r\n";
  r += "Content-Length: 0\r\n\r\n";
  return r;
}

DialogTracker::Map::iterator DialogTracker::find(std::string_view callId, std::string_view fromTag,
                                                 std::string_view toTag) {
  // A request from the caller carries the caller's tag in From; one from the callee in To.
  auto it = dialogs_.find(key(callId, fromTag));
  if (it != dialogs_.end() && (it->second.calleeTag.empty() || toTag.empty() || it->second.calleeTag == toTag))
    return it;
  if (toTag.empty()) return dialogs_.end();
  it = dialogs_.find(key(callId, toTag));
  if (it != dialogs_.end() && (it->second.calleeTag.empty() || it->second.calleeTag == fromTag)) return it;
  return dialogs_.end();
}

void DialogTracker::setEnd(std::optional<End>& slot, const DialogEvent& e) {
  if (!slot) {
    slot = End{std::string(e.aor), e.flow, std::string(e.contact)};
    ++busy_[slot->aor];
    return;
  }
  if (!e.contact.empty()) slot->contact = std::string(e.contact);
  if (e.flow) slot->flow = e.flow;
}

void DialogTracker::setCallee(Dialog& d, const DialogEvent& e) {
  auto same = [&](const End& end) { return end.aor == e.aor; };
  auto it = std::find_if(d.callees.begin(), d.callees.end(), same);
  if (it == d.callees.end()) {
    d.callees.push_back(End{std::string(e.aor), e.flow, std::string(e.contact)});
    ++busy_[d.callees.back().aor];
    it = d.callees.end() - 1;
  } else {
    if (!e.contact.empty()) it->contact = std::string(e.contact);
    if (e.flow) it->flow = e.flow;
  }
  if (e.kind != DialogEvent::Kind::Answered) return;
  // The 2xx: the branches that lost are CANCELled (RFC 3261 §16.7 step 10), their phones idle now.
  End answered = std::move(*it);
  for (auto& end : d.callees)
    if (&end != &*it) release(end);
  d.callees.assign(1, std::move(answered));
}

void DialogTracker::release(const End& end) {
  auto it = busy_.find(end.aor);
  if (it != busy_.end() && --it->second <= 0) busy_.erase(it);
}

void DialogTracker::clearEnd(std::optional<End>& slot) {
  if (!slot) return;
  release(*slot);
  slot.reset();
}

void DialogTracker::erase(Map::iterator it) {
  clearEnd(it->second.caller);
  for (const auto& end : it->second.callees) release(end);
  dialogs_.erase(it);
}

void DialogTracker::onEvent(const DialogEvent& e, TimePoint now) {
  using Kind = DialogEvent::Kind;
  if (e.callId.empty()) return;
  switch (e.kind) {
  case Kind::Offered:
  case Kind::Answered: {
    // Both are about the INVITE: its From tag is the caller's, whichever leg this is.
    auto [it, fresh] = dialogs_.try_emplace(key(e.callId, e.fromTag));
    Dialog& d = it->second;
    if (fresh) {
      d.callId = std::string(e.callId);
      d.callerTag = std::string(e.fromTag);
    }
    if (e.kind == Kind::Offered && e.cseq > d.callerCseq) d.callerCseq = e.cseq;
    if (e.kind == Kind::Answered) {
      if (d.calleeTag.empty()) d.calleeTag = std::string(e.toTag);
      if (!e.from.empty()) d.from = std::string(e.from);
      if (!e.to.empty()) d.to = std::string(e.to);
      d.confirmed = true;
    }
    if (!e.aor.empty()) {
      if (e.phoneIsCaller) setEnd(d.caller, e);
      else setCallee(d, e);
    }
    d.lastActivity = now;
    return;
  }
  case Kind::Failed: {
    auto it = dialogs_.find(key(e.callId, e.fromTag));
    // Another fork answered: the call goes on, and the losing branches were freed at its 2xx.
    if (it == dialogs_.end() || it->second.confirmed) return;
    Dialog& d = it->second;
    if (e.phoneIsCaller) {
      clearEnd(d.caller);
    } else {
      // This branch's phone only: the others may still ring.
      auto lost = std::find_if(d.callees.begin(), d.callees.end(), [&](const End& end) { return end.aor == e.aor; });
      if (lost != d.callees.end()) {
        release(*lost);
        d.callees.erase(lost);
      }
    }
    if (!d.caller && d.callees.empty()) dialogs_.erase(it);
    return;
  }
  case Kind::Request: {
    auto it = find(e.callId, e.fromTag, e.toTag);
    if (it == dialogs_.end()) return;
    Dialog& d = it->second;
    d.lastActivity = now;
    std::uint32_t& seen = e.fromTag == d.callerTag ? d.callerCseq : d.calleeCseq;
    if (e.cseq > seen) seen = e.cseq;
    return;
  }
  case Kind::Bye: {
    auto it = find(e.callId, e.fromTag, e.toTag);
    if (it != dialogs_.end()) erase(it);
    return;
  }
  }
}

std::vector<DialogTracker::Bye> DialogTracker::endByRule(std::string_view callId, std::string_view fromTag,
                                                         std::string_view toTag) {
  std::vector<Bye> out;
  auto it = find(callId, fromTag, toTag);
  if (it == dialogs_.end()) return out;
  ++endedByRule_;
  const Dialog& d = it->second;
  const bool sentByCaller = fromTag == d.callerTag;
  const End* other = sentByCaller ? callee(d) : (d.caller ? &*d.caller : nullptr);
  if (other && other->flow && !other->contact.empty() && !d.from.empty() && !d.to.empty()) {
    Bye bye;
    bye.flow = *other->flow;
    bye.aor = other->aor;
    bye.callId = d.callId;
    bye.uri = other->contact;
    // The BYE comes from the sender's side of the dialog: its From is that side's header.
    bye.from = sentByCaller ? d.from : d.to;
    bye.to = sentByCaller ? d.to : d.from;
    bye.cseq = (sentByCaller ? d.callerCseq : d.calleeCseq) + 1;
    out.push_back(std::move(bye));
  }
  erase(it);
  return out;
}

std::size_t DialogTracker::expire(TimePoint now) {
  std::size_t n = 0;
  for (auto it = dialogs_.begin(); it != dialogs_.end();) {
    if (now - it->second.lastActivity < lifetime_) {
      ++it;
      continue;
    }
    const Dialog& d = it->second;
    spdlog::warn("dialog {} ({} / {}) forgotten after {} s without in-dialog traffic: its ends count as idle",
                 d.callId, d.caller ? d.caller->aor : "-", callee(d) ? callee(d)->aor : "-", lifetime_.count());
    ++expired_;
    ++n;
    erase(it++);
  }
  return n;
}

int DialogTracker::busy(std::string_view aor) const {
  auto it = busy_.find(std::string(aor));
  return it == busy_.end() ? 0 : it->second;
}

} // namespace switchback
