#include "proxy/admin_routes.h"

#include <catch2/catch.hpp>

using namespace switchback;

namespace {

struct World {
  TimePoint now{};
  UpstreamList ups{{"primary", "sip:127.0.0.1:5070", Transport::Udp, "127.0.0.1", 5070, false, true, false},
                   {"secondary b", "sip:127.0.0.1:5080", Transport::Udp, "127.0.0.1", 5080, false, true, false}};
  NodeTable nodes{ups, {}, now};
  HealthMonitor health{HealthConfig{}, nodes, now};
  BindingTable bindings;
  Stats stats;
  bool draining = false;
  std::vector<std::pair<std::string, bool>> switched;

  AdminServer::Reply get(std::string_view method, std::string_view target) {
    AppStatus app;
    app.draining = draining;
    const StatusView view{stats, bindings, nodes, health, nullptr, nullptr, 0, 0, now, app};
    return routeAdmin(method, target, view, [this](const UpstreamNode& n, bool enabled) {
      switched.emplace_back(n.name, enabled);
      if (enabled) health.enable(n.index, now);
      else health.disable(n.index, now);
    });
  }
};

} // namespace

TEST_CASE("admin routes: status, one registrant, metrics, the page", "[admin]") {
  World w;
  CHECK(w.get("GET", "/status").status == 200);
  CHECK(w.get("GET", "/status").body.find("\"primary\"") != std::string::npos);
  CHECK(w.get("GET", "/metrics").contentType.starts_with("text/plain"));
  CHECK(w.get("GET", "/").contentType.starts_with("text/html"));
  CHECK(w.get("GET", "/status/bindings").status == 400);
  const auto unknown = w.get("GET", "/status/bindings?aor=sip%3Anobody%40example.com");
  CHECK(unknown.status == 404);
  CHECK(unknown.body.find("no such registrant") != std::string::npos);
  CHECK(w.get("GET", "/nope").status == 404);
  CHECK(w.get("DELETE", "/status").status == 405);
}

TEST_CASE("admin routes: readiness follows draining and usable nodes; liveness does not", "[admin]") {
  World w;
  CHECK(w.get("GET", "/healthz").status == 200);
  CHECK(w.get("GET", "/healthz/ready").body == "ok\n");
  w.draining = true;
  CHECK(w.get("GET", "/healthz").status == 503);
  CHECK(w.get("GET", "/healthz").body == "draining\n");
  CHECK(w.get("GET", "/healthz/live").status == 200);
  w.draining = false;
  w.get("POST", "/nodes/primary/disable");
  w.get("POST", "/nodes/secondary%20b/disable");
  const auto ready = w.get("GET", "/healthz");
  CHECK(ready.status == 503);
  CHECK(ready.body.find("no upstream node is usable") != std::string::npos);
}

TEST_CASE("admin routes: a node is taken out of service by hand, by its (percent-encoded) name", "[admin]") {
  World w;
  const auto off = w.get("POST", "/nodes/secondary%20b/disable");
  CHECK(off.status == 200);
  CHECK(w.switched == std::vector<std::pair<std::string, bool>>{{"secondary b", false}});
  CHECK_FALSE(w.health.usable(1, w.now));
  CHECK(w.get("POST", "/nodes/secondary%20b/enable").status == 200);
  CHECK(w.switched.back() == std::pair<std::string, bool>{"secondary b", true});
  const auto unknown = w.get("POST", "/nodes/tertiary/disable");
  CHECK(unknown.status == 404);
  CHECK(unknown.body == "no upstream node named 'tertiary'\n");
  CHECK(w.get("POST", "/nodes/primary/reboot").status == 404);
  CHECK(w.get("POST", "/nodes//disable").status == 404);
  CHECK(w.switched.size() == 2);
}

TEST_CASE("percent-decoding of names and registrants", "[admin]") {
  CHECK(percentDecode("sip%3Aalice%40example.com") == "sip:alice@example.com");
  CHECK(percentDecode("a+b") == "a b");
  CHECK(percentDecode("100%") == "100%");
  CHECK(percentDecode("%zz") == "%zz");
}
