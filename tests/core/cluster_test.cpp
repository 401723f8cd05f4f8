#include "core/store/cluster.h"
#include "core/store/own_path.h"
#include "core/store/redis_connection.h"

#include <catch2/catch.hpp>
#include <map>

using namespace switchback;

TEST_CASE("rendezvous hashing: every node agrees, and a death moves only the dead node's share", "[cluster]") {
  const std::vector<std::string> three{"a", "b", "c"}, two{"a", "b"};
  std::map<std::string, int> share;
  std::size_t moved = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string aor = "sip:u" + std::to_string(i) + "@example.com";
    const auto before = hrwOwner(aor, three);
    CHECK(before == hrwOwner(aor, {"c", "b", "a"}));  // order does not matter
    ++share[before];
    const auto after = hrwOwner(aor, two);
    if (before != "c") CHECK(after == before);
    else ++moved;
  }
  for (const auto& [node, n] : share) CHECK(n > 800);  // about a third each
  CHECK(moved == static_cast<std::size_t>(share["c"]));
  CHECK(hrwOwner("sip:x@y", {}).empty());
}

TEST_CASE("a node lapses once, after its heartbeat is gone for the lapse time while the store is up", "[cluster]") {
  ClusterMembership m("a", Millis(1000));
  const TimePoint t0{};
  m.storeUp(t0);
  CHECK(m.heartbeats({"a", "b"}, t0).empty());
  CHECK(m.heartbeats({"a"}, t0 + Millis(500)).empty());         // not yet
  CHECK(m.heartbeats({"a"}, t0 + Millis(1100)) == std::vector<std::string>{"b"});
  CHECK(m.heartbeats({"a"}, t0 + Millis(1500)).empty());        // reported once
  CHECK(m.heartbeats({"a", "b"}, t0 + Millis(2000)).empty());   // back
  CHECK(m.alive("b"));
}

TEST_CASE("a store that has just come back judges nobody (a restarted Redis lost the heartbeats)", "[cluster]") {
  ClusterMembership m("a", Millis(1000));
  const TimePoint t0{};
  m.storeUp(t0);
  CHECK(m.heartbeats({"a", "b"}, t0).empty());
  m.storeDown();
  CHECK(m.heartbeats({"a"}, t0 + Millis(3000)).empty());
  m.storeUp(t0 + Millis(3000));
  CHECK(m.heartbeats({"a"}, t0 + Millis(3300)).empty());
  CHECK(m.heartbeats({"a", "b"}, t0 + Millis(3600)).empty());
}

TEST_CASE("owners: this node by default, a peer's registrants listed for takeover", "[cluster]") {
  ClusterMembership m("a", Millis(1000));
  m.setOwner("sip:1@x", "b");
  m.setOwner("sip:2@x", "b");
  m.setOwner("sip:3@x", "a");
  CHECK(m.ownedHere("sip:3@x"));
  CHECK(m.ownedHere("sip:9@x"));
  CHECK_FALSE(m.ownedHere("sip:1@x"));
  CHECK(m.ownedBy("b").size() == 2);
  CHECK(m.ownerCounts() == std::map<std::string, std::size_t>{{"b", 2}});
  m.setOwner("sip:1@x", "a");
  CHECK(m.ownedBy("b") == std::vector<std::string>{"sip:2@x"});
  CHECK(m.ownerCounts() == std::map<std::string, std::size_t>{{"b", 1}});
  // A node that owns registrants but was never seen alive (dead before this one started) lapses too.
  const TimePoint t0{};
  m.storeUp(t0);
  CHECK(m.heartbeats({"a"}, t0).empty());
  CHECK(m.heartbeats({"a"}, t0 + Millis(1200)) == std::vector<std::string>{"b"});
}

TEST_CASE("a peer's Path entry is rewritten to name this node, the flow token kept", "[cluster]") {
  const std::string reg = "REGISTER sip:example.com SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
                          "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n"
                          "Call-ID: c1\r\nCSeq: 2 REGISTER\r\n"
                          "Path: <sip:sb-u0-7f000001-5061@127.0.0.2:5060;lr;ob>\r\n"
                          "Contact: <sip:alice@127.0.0.1:5061>\r\nContent-Length: 0\r\n\r\n";
  const std::string out = withOwnPath(reg, "127.0.0.3", 5070);
  CHECK(out.find("Path: <sip:sb-u0-7f000001-5061@127.0.0.3:5070;lr;ob>") != std::string::npos);
  CHECK(out.find("127.0.0.2") == std::string::npos);
  const std::string noPath = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\n"
                             "From: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n"
                             "Content-Length: 0\r\n\r\n";
  CHECK(withOwnPath(noPath, "127.0.0.3", 5070) == noPath);
  CHECK(withOwnPath("garbage", "127.0.0.3", 5070) == "garbage");
}

TEST_CASE("redis URLs", "[cluster]") {
  CHECK(parseRedisUrl("redis://127.0.0.1:6390").port == 6390);
  CHECK(parseRedisUrl("redis://localhost").host == "127.0.0.1");
  CHECK(parseRedisUrl("redis://localhost").port == 6379);
  CHECK_THROWS(parseRedisUrl("http://127.0.0.1"));
  CHECK_THROWS(parseRedisUrl("redis://127.0.0.1:0"));
  CHECK_THROWS(parseRedisUrl("redis://:6379"));
}
