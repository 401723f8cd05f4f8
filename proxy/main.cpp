#include "conf/config.h"
#include "proxy/app.h"
#include "proxy/healthcheck.h"
#include "proxy/listen_names.h"
#include "proxy/logging.h"
#include "health/dns_resolver.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <spdlog/spdlog.h>
#include <thread>

namespace {

constexpr const char* kUsage = R"(Usage: switchback [OPTIONS]

A failover-aware SIP outbound proxy for phones in front of redundant registrars.

Options:
  --config FILE         run with this YAML configuration
  --check-config FILE   validate the configuration, print the result, exit (0 valid, 2 invalid)
  --log-format FORMAT   text (default) or json: one JSON object per line (overrides log.format)
  --healthcheck [ADDR]  GET /healthz from a running Switchback's admin endpoint ADDR (HOST:PORT;
                        default $SWITCHBACK_ADMIN, else 127.0.0.1:8080), exit 0 if it is ready
  --version             print the version and exit
  --help                print this help and exit
)";

} // namespace

int main(int argc, char** argv) {
  std::string configPath;
  bool checkOnly = false;
  std::optional<bool> jsonLogs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "switchback " << SWITCHBACK_VERSION << "\n";
      return 0;
    }
    if (arg == "--healthcheck") {
      const char* env = std::getenv("SWITCHBACK_ADMIN");
      return switchback::runHealthcheck(i + 1 < argc ? argv[i + 1] : env && *env ? env : "127.0.0.1:8080");
    }
    if ((arg == "--config" || arg == "--check-config") && i + 1 < argc) {
      checkOnly = arg == "--check-config";
      configPath = argv[++i];
      continue;
    }
    if (arg == "--log-format" && i + 1 < argc) {
      const std::string f = argv[++i];
      if (f != "text" && f != "json") {
        std::cerr << "switchback: --log-format takes text or json, not '" << f << "'\n";
        return 2;
      }
      jsonLogs = f == "json";
      continue;
    }
    std::cerr << "switchback: unknown or incomplete option '" << arg << "'\n\n" << kUsage;
    return 2;
  }
  if (configPath.empty()) {
    std::cerr << "switchback: --config FILE is required\n\n" << kUsage;
    return 2;
  }
  switchback::Config config;
  try {
    config = switchback::loadConfigFile(configPath);
  } catch (const switchback::ConfigError& e) {
    std::cerr << "switchback: invalid configuration: " << e.what() << "\n";
    return 2;
  }
  const auto warnings = switchback::configWarnings(config);
  if (checkOnly) {
    for (const auto& w : warnings) std::cout << configPath << ": warning: " << w << "\n";
    std::cout << configPath << ": configuration OK (" << config.transport.listen.size() << " listen addresses, "
              << config.upstreams.size() << " upstreams)\n";
    return 0;
  }
  if (jsonLogs) config.log.json = *jsonLogs;
  switchback::setupLogging(config.log);
  for (const auto& w : warnings) spdlog::warn("{}", w);
  try {
    // Names (listen addresses, upstreams by RFC 3263) are resolved before anything listens. In a
    // container or at boot the resolver may come up after Switchback: retry each second until
    // dns.startup_timeout_s has passed, then give up with the last error.
    std::vector<std::tuple<std::string, switchback::Transport, std::optional<std::uint16_t>>> names;
    for (const auto& u : config.upstreams)
      if (u.hostIsName) names.emplace_back(u.host, u.transport, u.portGiven ? std::optional<std::uint16_t>(u.port) : std::nullopt);
    const auto deadline = std::chrono::steady_clock::now() + config.dns.startupTimeout;
    switchback::NodeTable::Resolved resolved;
    for (;;) {
      try {
        switchback::resolveListenNames(config.transport.listen);
        resolved = switchback::resolveAtStartup(names, config.dns.resolvConf, switchback::Millis(3000));
        break;
      } catch (const std::runtime_error& e) {
        if (std::chrono::steady_clock::now() >= deadline) throw;
        spdlog::warn("{}; retrying each second for up to {} s (dns.startup_timeout_s)", e.what(),
                     config.dns.startupTimeout.count());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
    switchback::App app(config, resolved, configPath);
    return app.run();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}
