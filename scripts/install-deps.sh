#!/usr/bin/env bash
# Installs the Debian 12 packages Switchback builds and tests with, if any is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libsofia-sip-ua-dev libboost-dev libspdlog-dev libyaml-cpp-dev libsqlite3-dev catch2
  kamailio sip-tester dnsmasq-base python3 curl gnuplot-nox
  clang-14 libclang-rt-14-dev libssl-dev openssl socat
  prometheus chromium python3-jsonschema podman-compose
  redis-server redis-sentinel libhiredis-dev keepalived iproute2
  baresip linphone-cli
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The kamailio package starts a system service on install; the tests run their own instances.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
  $sudo systemctl stop kamailio || true
fi
