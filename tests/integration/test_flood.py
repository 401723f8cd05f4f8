"""A flood of garbage and valid-looking REGISTERs from one address at 10,000+ packets/s while 200
legitimate phones keep registering from four other addresses: Switchback does not crash, at
least 95 % of the legitimate registrations succeed, the flooder is banned (and listed in /status
and /metrics), and every legitimate binding is intact afterwards."""
import json
import os
import socket
import subprocess
import sys
import time

from harness import HERE, Harness, free_port, read_sipp_stats

PHONES_PER_SOURCE, SOURCES, ROUNDS = 50, ["127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"], 3
FLOODER = "127.0.0.66"

h = Harness(__doc__, ports=(28300, 28599))  # this test's own port range
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)], extra_yaml=(
    "rate_limits: { requests_per_second: 300, registers_per_second: 100, ban_s: 60 }\n"))

flood = subprocess.Popen([sys.executable, os.path.join(HERE, "flooder.py"), "--target", str(sb.port), "--source", FLOODER,
                          "--rate", "14000", "--seconds", "8", "--count", "120000"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
time.sleep(0.5)  # the flood is on before the phones start

phones = []
for i, source in enumerate(SOURCES):
    users = [f"legit{i * PHONES_PER_SOURCE + k}" for k in range(PHONES_PER_SOURCE)]
    port = free_port()
    # Each phone registers ROUNDS times over about six seconds, during the flood.
    _, trace = h.sipp_argv("register.xml", sb.port, port, calls=PHONES_PER_SOURCE * ROUNDS, rate=25,
                              inf=h.users(users, f"users-{i}"), local_ip=source, timeout=40, name=f"phones{i}")
    phones.append((h.sipp_background("register.xml", sb.port, port, calls=PHONES_PER_SOURCE * ROUNDS, rate=25,
                                     inf=h.users(users, f"users-{i}"), local_ip=source, timeout=40, name=f"phones{i}"),
                   trace))
try:
    out, _ = flood.communicate(timeout=30)
    figures = json.loads(out.decode().strip().splitlines()[-1])
except Exception as e:  # noqa: BLE001 - reported as a failed check
    flood.kill()
    figures = {"sent": 0, "seconds": 0, "rate": 0, "error": str(e)}
for p, _ in phones:
    p.proc.wait(timeout=60)

ok = sum(int(read_sipp_stats(t + "-stats.csv").get("SuccessfulCall(C)", 0)) for _, t in phones)
failed = sum(int(read_sipp_stats(t + "-stats.csv").get("FailedCall(C)", 0)) for _, t in phones)
total = len(SOURCES) * PHONES_PER_SOURCE * ROUNDS
ratio = ok / total
h.figure(f"flood: {figures['sent']} packets in {figures['seconds']} s = {figures['rate']} packets/s from {FLOODER}")
h.figure(f"legitimate registrations under the flood: {ok}/{total} succeeded ({100 * ratio:.1f} %), {failed} failed")
h.check(figures["rate"] >= 10000, f"the flood reached at least 10,000 packets/s ({figures['rate']})", figures)
h.check(sb.process.alive(), "Switchback survived the flood")
h.check(ratio >= 0.95, f"at least 95 % of legitimate registrations succeeded ({100 * ratio:.1f} %)")

st = sb.status()
banned = [b["source"] for b in st["security"]["banned"]]
h.check(FLOODER in banned, f"the flooder is banned and listed in /status ({banned})", st["security"])
h.check(not any(s in banned for s in SOURCES), "no legitimate source is banned")
m = sb.metrics()
h.check(m.get("switchback_bans_total", 0) >= 1 and m.get("switchback_banned_sources", 0) >= 1, "the ban is in /metrics")
dropped = m.get('switchback_dropped_total{reason="banned"}', 0)
h.figure(f"dropped while banned: {dropped:.0f}; messages received: {m['switchback_messages_received_total']:.0f}")
h.check(dropped >= figures["sent"] * 0.5, f"most of the flood was dropped unread once banned ({dropped:.0f})")

h.check(st["bindings"]["registrants"] == len(SOURCES) * PHONES_PER_SOURCE,
        f"every legitimate binding is there ({st['bindings']['registrants']})", st["bindings"])
missing = [u for u in (f"legit{n}" for n in range(len(SOURCES) * PHONES_PER_SOURCE))
           if not (b := sb.binding(f"sip:{u}@example.com")) or not b["contacts"] or not b["nodes"]["primary"]["registered"]]
h.check(not missing, f"each of the {len(SOURCES) * PHONES_PER_SOURCE} bindings is intact, with its contact and registration",
        missing[:10])
# A source over its rate (500 requests at once, the limit 300/s) is answered 503 with
# Retry-After for the excess, and is not banned: that is kept for floods (twice the rate).
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as burst:
    burst.bind(("127.0.0.20", 0))
    burst.settimeout(2)
    # Room for every answer (the default buffer holds about 400 of them); SO_RCVBUFFORCE needs root.
    for option in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
        try:
            burst.setsockopt(socket.SOL_SOCKET, option, 4 << 20)
            break
        except OSError:
            continue
    for n in range(500):
        burst.sendto((f"OPTIONS sip:127.0.0.1:{sb.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.20:5060;branch=z9hG4bKb{n}\r\n"
                      f"Max-Forwards: 70\r\nFrom: <sip:b@example.com>;tag={n}\r\nTo: <sip:b@example.com>\r\n"
                      f"Call-ID: burst{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", sb.port))
    answers = []
    try:
        while len(answers) < 500:
            answers.append(burst.recv(65535).decode(errors="replace"))
    except socket.timeout:
        pass
ok_answers = sum(a.startswith("SIP/2.0 200") for a in answers)
limited = [a for a in answers if a.startswith("SIP/2.0 503 Rate Limited")]
h.check(ok_answers >= 290 and len(limited) >= 20 and all("\r\nRetry-After: 5\r\n" in a for a in limited),
        f"a burst over the rate: {ok_answers} served, {len(limited)} answered 503 with Retry-After")
h.check("127.0.0.20" not in [b["source"] for b in sb.status()["security"]["banned"]], "a burst under twice the rate is not banned")

flood_bindings = [b for b in (sb.binding(f"sip:fl{n}@example.com") for n in range(0, 200, 2)) if b]
h.check(not flood_bindings, "the flooder's REGISTERs created no binding")
h.finish()
