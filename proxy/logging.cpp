#include "proxy/logging.h"

#include <cstdarg>
#include <cstdio>
#include <sofia-sip/su_log.h>
#include <spdlog/spdlog.h>
#include <string>

namespace switchback {

namespace {

// sofia-sip logs in printf fragments; buffer them up to the newline, one spdlog line each.
void sofiaLogger(void*, const char* fmt, va_list ap) {
  static thread_local std::string line;
  char buf[1024];
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  if (n <= 0) return;
  line.append(buf, static_cast<std::size_t>(n) < sizeof buf ? static_cast<std::size_t>(n) : sizeof buf - 1);
  std::size_t nl;
  while ((nl = line.find('\n')) != std::string::npos) {
    if (nl > 0) spdlog::debug("sofia: {}", line.substr(0, nl));
    line.erase(0, nl + 1);
  }
}

} // namespace

void setupLogging(const LogConfig& config) {
  spdlog::set_level(spdlog::level::from_str(config.level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  su_log_redirect(nullptr, sofiaLogger, nullptr);
}

} // namespace switchback
