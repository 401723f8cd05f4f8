#include "core/digest.h"
#include "core/sofia.h"

#include <catch2/catch.hpp>

using namespace switchback;

TEST_CASE("digest response of RFC 2617 §3.5", "[digest]") {
  auto* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
  auto* challenge = sip_www_authenticate_make(
      home, "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  REQUIRE(challenge);
  auto v = digestAuthorization(challenge, "GET", "/dir/index.html", {"Mufasa", "Circle Of Life"}, "0a4f113b");
  REQUIRE(v);
  CHECK_THAT(*v, Catch::Contains("response=\"6629fae49393a05397450978507c4ef1\""));
  CHECK_THAT(*v, Catch::Contains("qop=auth, nc=00000001, cnonce=\"0a4f113b\""));
  CHECK_THAT(*v, Catch::Contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
  su_home_unref(home);
}

TEST_CASE("challenges Switchback cannot answer", "[digest]") {
  auto* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
  CHECK_FALSE(digestAuthorization(sip_www_authenticate_make(home, "Basic realm=\"x\""), "REGISTER", "sip:a", {"u", "p"}, "c"));
  CHECK_FALSE(digestAuthorization(sip_www_authenticate_make(home, "Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256"),
                                  "REGISTER", "sip:a", {"u", "p"}, "c"));
  CHECK_FALSE(digestAuthorization(sip_www_authenticate_make(home, "Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\""),
                                  "REGISTER", "sip:a", {"u", "p"}, "c"));
  CHECK_FALSE(digestAuthorization(nullptr, "REGISTER", "sip:a", {"u", "p"}, "c"));
  su_home_unref(home);
}

TEST_CASE("without qop the RFC 2069 form is used", "[digest]") {
  auto* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
  auto v = digestAuthorization(sip_www_authenticate_make(home, "Digest realm=\"r\", nonce=\"n\""), "REGISTER",
                               "sip:example.com", {"u", "p"}, "c");
  REQUIRE(v);
  const std::string expected = md5Hex(md5Hex("u:r:p") + ":n:" + md5Hex("REGISTER:sip:example.com"));
  CHECK_THAT(*v, Catch::Contains("response=\"" + expected + "\""));
  CHECK_THAT(*v, !Catch::Contains("qop"));
  su_home_unref(home);
}
