#pragma once

#include <string>

namespace switchback {

/// `switchback --healthcheck [HOST:PORT]`: GET /healthz from a running Switchback's admin
/// endpoint (the container's HEALTHCHECK, so the image needs no shell and no curl).
/// Returns 0 when it answers 200 within the timeout, 1 otherwise, saying why on stderr.
int runHealthcheck(const std::string& address, int timeoutMs = 3000);

} // namespace switchback
