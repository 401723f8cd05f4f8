#include "core/digest.h"

#include "core/sofia.h"

#include <sofia-sip/su_md5.h>
#include <strings.h>

namespace switchback {

std::string md5Hex(std::string_view s) {
  su_md5_t ctx;
  su_md5_init(&ctx);
  su_md5_update(&ctx, s.data(), s.size());
  char hex[2 * SU_MD5_DIGEST_SIZE + 1];
  su_md5_hexdigest(&ctx, hex);
  return std::string(hex, 2 * SU_MD5_DIGEST_SIZE);
}

namespace {

// A challenge parameter's value without its quotes, or empty.
std::string param(const msg_auth_t* a, const char* name) {
  const char* v = msg_params_find(a->au_params, name);
  if (v == nullptr) return {};
  std::string_view s(v);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

} // namespace

std::optional<std::string> digestAuthorization(const msg_auth_t* challenge, std::string_view method, std::string_view uri,
                                               const DigestCredentials& c, std::string_view cnonce) {
  if (challenge == nullptr || challenge->au_scheme == nullptr || strcasecmp(challenge->au_scheme, "Digest") != 0)
    return std::nullopt;
  const std::string realm = param(challenge, "realm=");
  const std::string nonce = param(challenge, "nonce=");
  const std::string opaque = param(challenge, "opaque=");
  const std::string algorithm = param(challenge, "algorithm=");
  const std::string qopOffer = param(challenge, "qop=");
  if (nonce.empty() || (!algorithm.empty() && strcasecmp(algorithm.c_str(), "MD5") != 0)) return std::nullopt;
  bool qopAuth = false;
  for (std::size_t p = 0; p < qopOffer.size();) {  // "auth,auth-int"
    const std::size_t comma = qopOffer.find(',', p);
    std::string token = qopOffer.substr(p, comma == std::string::npos ? std::string::npos : comma - p);
    while (!token.empty() && token.front() == ' ') token.erase(0, 1);
    while (!token.empty() && token.back() == ' ') token.pop_back();
    if (token == "auth") qopAuth = true;
    p = comma == std::string::npos ? qopOffer.size() : comma + 1;
  }
  if (!qopOffer.empty() && !qopAuth) return std::nullopt;  // auth-int only: not for us

  const std::string ha1 = md5Hex(c.username + ":" + realm + ":" + c.password);
  const std::string ha2 = md5Hex(std::string(method) + ":" + std::string(uri));
  const std::string nc = "00000001";
  const std::string response = qopAuth ? md5Hex(ha1 + ":" + nonce + ":" + nc + ":" + std::string(cnonce) + ":auth:" + ha2)
                                       : md5Hex(ha1 + ":" + nonce + ":" + ha2);
  std::string out = "Digest username=\"" + c.username + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
                    "\", uri=\"" + std::string(uri) + "\", response=\"" + response + "\", algorithm=MD5";
  if (qopAuth) out += ", qop=auth, nc=" + nc + ", cnonce=\"" + std::string(cnonce) + "\"";
  if (!opaque.empty()) out += ", opaque=\"" + opaque + "\"";
  return out;
}

} // namespace switchback
