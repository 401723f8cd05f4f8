#pragma once

// The sofia-sip headers the core needs, in one place. sip_parser.h is deliberately not
// included: it drags in macros that do not compile cleanly under -Wall -Werror.
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include <string>
#include <string_view>

namespace switchback {

inline std::string_view sv(const char* s) { return s ? std::string_view(s) : std::string_view(); }

/// A header encoded by sofia-sip (one value, no name, no CRLF).
std::string encodeHeaderValue(const msg_header_t* h);
/// A URL encoded by sofia-sip.
std::string encodeUrl(const url_t* url);

} // namespace switchback
