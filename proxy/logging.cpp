#include "proxy/logging.h"

#include "proxy/status.h"

#include <cstdarg>
#include <cstdio>
#include <sofia-sip/su_log.h>
#include <spdlog/pattern_formatter.h>
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

/// One JSON object per line ({"ts","level","msg"}), for log shippers.
class JsonFormatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto t = spdlog::log_clock::to_time_t(msg.time);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[96];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line = "{\"ts\":\"";
    line.append(ts).append("\",\"level\":\"").append(level.data(), level.size()).append("\",\"msg\":");
    line.append(jsonEscape(std::string_view(msg.payload.data(), msg.payload.size()))).append("}\n");
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

} // namespace

void setupLogging(const LogConfig& config) {
  spdlog::set_level(spdlog::level::from_str(config.level));
  if (config.json) spdlog::set_formatter(std::make_unique<JsonFormatter>());
  else spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  su_log_redirect(nullptr, sofiaLogger, nullptr);
}

} // namespace switchback
