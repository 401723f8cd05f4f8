#include "core/binding_store.h"
#include "fakes/fake_wire.h"
#include "health/node_table.h"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace switchback;
using namespace std::chrono_literals;

namespace {

Binding sample(TimePoint now) {
  Binding b;
  b.aor = "sip:u1@example.com";
  b.callId = "cid-1";
  b.cseq = 7;
  b.lastRegister = "REGISTER sip:example.com SIP/2.0\r\nAuthorization: Digest username=\"u1\", nonce=\"n:1\"\r\n\r\n";
  b.lastRegisteredBy = RegisteredBy::Surrogate;
  b.contacts.push_back({"sip:u1@10.0.0.1:5062", now + 600s, "<urn:uuid:1>", 1, Flow{Transport::Udp, 0, test::ep("10.0.0.1", 40000), 0}});
  b.contacts.push_back({"sip:u1@[::1]:5064;transport=tcp", now + 300s, "", std::nullopt,
                        Flow{Transport::Tcp, 2, test::ep("::1", 40002), 17}});
  b.nodes["primary"] = NodeRegistration{false, now - 5s, now - 100s, {"<sip:u1@10.0.0.1:5062>;expires=3600"}};
  b.nodes["secondary"] = NodeRegistration{true, now + 3600s, now, "<a>\n<b>"};
  return b;
}

} // namespace

TEST_CASE("a stored binding reads back the same after a restart (new steady clock, same wall clock)", "[store]") {
  const TimePoint before = TimePoint{} + 1000s;
  const Binding b = sample(before);
  const std::string record = encodeBinding(b, before, 1'700'000'000'000);
  // The process restarts 30 s later: its steady clock starts elsewhere.
  const TimePoint after = TimePoint{} + 5s;
  const auto back = decodeBinding(record, after, 1'700'000'030'000);
  REQUIRE(back);
  CHECK(back->aor == b.aor);
  CHECK(back->callId == "cid-1");
  CHECK(back->cseq == 7);
  CHECK(back->lastRegister == b.lastRegister);
  CHECK(back->authorization() == "Digest username=\"u1\", nonce=\"n:1\"");
  CHECK(back->lastRegisteredBy == RegisteredBy::Surrogate);
  REQUIRE(back->contacts.size() == 2);
  CHECK(back->contacts[0].expires == after + 570s);   // 600 s then, 30 s have passed
  CHECK(back->contacts[0].instance == "<urn:uuid:1>");
  CHECK(back->contacts[0].regId == 1u);
  CHECK(back->contacts[0].flow == b.contacts[0].flow);
  CHECK(back->contacts[1].flow == b.contacts[1].flow);
  CHECK_FALSE(back->contacts[1].regId);
  REQUIRE(back->nodes.size() == 2);
  CHECK_FALSE(back->nodes.at("primary").registered);
  CHECK(back->nodes.at("secondary").registered);
  CHECK(back->nodes.at("secondary").expires == after + 3570s);
  CHECK(back->nodes.at("secondary").granted() == std::vector<std::string_view>{"<a>", "<b>"});
}

TEST_CASE("a damaged or foreign record is skipped, never thrown", "[store]") {
  const TimePoint now{};
  const std::string record = encodeBinding(sample(now), now, 0);
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, record.size() / 2, record.size() - 1})
    CHECK_FALSE(decodeBinding(record.substr(0, cut), now, 0));
  CHECK_FALSE(decodeBinding("3:sb9" + record.substr(5), now, 0));
  CHECK_FALSE(decodeBinding(record + "1:x", now, 0));
  CHECK_FALSE(decodeBinding("99999999999999999999:x", now, 0));
}

TEST_CASE("the store writes batches on its own thread and reads them back", "[store]") {
  const auto path = std::filesystem::temp_directory_path() / ("switchback-store-test-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    BindingStore store(path.string());
    CHECK(store.loadAll().empty());
    store.submit({{"sip:a@x", std::string("record-a")}, {"sip:b@x", std::string("record-b")}});
    store.submit({{"sip:a@x", std::string("record-a2")}, {"sip:b@x", std::nullopt}});
    store.flush();
    CHECK(store.counters().rowsWritten == 4);
    CHECK(store.counters().errors == 0);
  }
  BindingStore reopened(path.string());
  const auto rows = reopened.loadAll();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].first == "sip:a@x");
  CHECK(rows[0].second == "record-a2");
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST_CASE("an unusable store path is an error naming it", "[store]") {
  CHECK_THROWS_WITH(BindingStore("/nonexistent-dir/x.db"), Catch::Contains("/nonexistent-dir/x.db"));
}

TEST_CASE("the binding table reports each changed registrant once", "[store]") {
  BindingTable t;
  t.trackChanges();
  RegisterOutcome o;
  o.aor = "sip:u1@example.com";
  o.node = "primary";
  o.contacts.push_back({"sip:u1@10.0.0.1", 60, "", std::nullopt});
  const TimePoint t0{};
  t.apply(o, t0);
  t.apply(o, t0 + 1s);
  CHECK(t.takeChanged() == std::vector<std::string>{"sip:u1@example.com"});
  CHECK(t.takeChanged().empty());
  t.invalidate("sip:u1@example.com", "primary");
  CHECK(t.takeChanged().size() == 1);
  t.invalidate("sip:u1@example.com", "primary");  // already invalid: no change
  CHECK(t.takeChanged().empty());
  CHECK(t.purgeExpired(t0 + 120s) == 1);           // gone: the store must delete it
  CHECK(t.takeChanged() == std::vector<std::string>{"sip:u1@example.com"});
  CHECK(t.find("sip:u1@example.com") == nullptr);
}

TEST_CASE("a reload's new node table says where each old node went", "[reload]") {
  auto up = [](std::string name, std::string host) {
    UpstreamConfig u;
    u.name = std::move(name);
    u.uri = "sip:" + host;
    u.host = std::move(host);
    return u;
  };
  NodeTable nodes({up("a", "10.0.0.1"), up("b", "10.0.0.2"), up("c", "10.0.0.3")});
  const auto remap = nodes.replace(NodeTable({up("c", "10.0.0.3"), up("new", "10.0.0.9"), up("a", "10.0.0.1")}));
  REQUIRE(remap.size() == 3);
  CHECK(remap[0] == std::optional<std::size_t>(2));  // a: now third
  CHECK_FALSE(remap[1]);                             // b: removed
  CHECK(remap[2] == std::optional<std::size_t>(0));  // c: now the primary
  CHECK(nodes.primary().name == "c");
}
