"""The operator's view, with curl: /metrics is valid Prometheus text (and passes Prometheus'
`promtool check metrics`), /status valid JSON, both
before and after a failover; POST /nodes/{name}/disable takes a node out of service by hand
(its registrants move, the status says why) and enable brings it back; /healthz reports
readiness; --log-format json writes one JSON object per line, with one line per failover."""
import json
import re
import subprocess
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)],
                  extra_yaml="failover: { reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: registration } }\n"
                             "health: { probe_interval_ms: 200 }\n")
sb.kill()
sb.start(extra_args=("--log-format", "json"))


def curl(method, path):
    out = subprocess.run(["curl", "-s", "-X", method, "-w", "\n%{http_code}", f"http://127.0.0.1:{sb.admin_port}{path}"],
                         capture_output=True, text=True, timeout=10).stdout
    body, _, code = out.rpartition("\n")
    return int(code), body


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN)$')


def prometheus(text):
    """Parses the text format strictly: every sample well-formed and of a metric with a TYPE."""
    typed, samples, bad = set(), {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
        elif line.startswith("#") or not line:
            continue
        elif not SAMPLE.match(line) or line.split("{")[0].split(" ")[0] not in typed:
            bad.append(line)
        else:
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return samples, bad


def snapshot(when):
    code, body = curl("GET", "/metrics")
    samples, bad = prometheus(body)
    h.check(code == 200 and not bad and samples, f"{when}: /metrics is valid Prometheus text ({len(samples)} samples)", bad[:5])
    # Prometheus' own linter: types, HELP, _total on counters and only on counters, base units.
    lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True, timeout=30)
    h.check(lint.returncode == 0, f"{when}: promtool check metrics passes", lint.stdout + lint.stderr)
    code, body = curl("GET", "/status")
    try:
        status = json.loads(body)
    except json.JSONDecodeError as e:
        status = None
        h.check(False, f"{when}: /status is JSON", f"{e}: {body[:300]}")
    h.check(code == 200 and status is not None, f"{when}: /status answers JSON")
    return samples, status


h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "both nodes probed")
code, body = curl("GET", "/healthz")
h.check(code == 200 and body.strip() == "ok", "/healthz: ready", (code, body))
users = h.users([f"p{i}" for i in range(1, 51)], "phones")
r = h.sipp("register.xml", sb.port, calls=50, rate=200, inf=users)
h.require(r.rc == 0, "50 phones registered", r)

m, st = snapshot("before the failover")
h.check(m.get('switchback_bindings{node="primary",state="registered"}') == 50, "bindings by node and state: 50 on the primary")
h.check(m.get('switchback_transactions_total{method="REGISTER",class="2xx"}', 0) >= 50
        and m.get('switchback_transactions_total{method="REGISTER",class="4xx"}', 0) >= 50,
        "transactions by method and class: REGISTER 401s and 200s")
h.check(m.get('switchback_node_up{node="primary"}') == 1 and 'switchback_probe_latency_seconds{node="primary"}' in m,
        "node health and probe latency per node")
h.check(st["nodes"][0]["state"] == "up" and st["bindings"]["registered_by_node"]["primary"] == 50, "status: primary up, 50 there")
h.check(0 <= st["nodes"][0]["since_s"] < 60, "status: the node's state dates from this run", st["nodes"][0])

code, body = curl("POST", "/nodes/primary/disable")
h.check(code == 200, "POST /nodes/primary/disable accepted", (code, body))
h.check(wait_until(lambda: sb.status()["bindings"]["registered_by_node"].get("secondary") == 50, 10),
        "the primary's 50 registrants are re-registered on the secondary")
time.sleep(1.2)  # the per-second move log
m, st = snapshot("after the failover")
primary_status = next(n for n in st["nodes"] if n["name"] == "primary")
h.check(primary_status["state"] == "disabled" and not primary_status["usable"], "status: the primary is disabled, by hand",
        primary_status)
h.check(m.get('switchback_failovers_total{reason="node down"}') == 50, "failovers counted with their reason",
        {k: v for k, v in m.items() if "failover" in k})
h.check(m.get('switchback_node_up{node="primary"}') == 0, "metrics: the primary is not usable")
h.check('switchback_pacing_node_queue_depth{node="secondary"}' in m and "switchback_pacing_rate_limit" in m,
        "pacing queue depth per node and the configured rate")

log_lines = sb.process.output().splitlines()
parsed = []
for line in log_lines:
    try:
        parsed.append(json.loads(line))
    except json.JSONDecodeError:
        h.check(False, "every log line is a JSON object", line)
        break
h.check(parsed and all({"ts", "level", "msg"} <= set(x) for x in parsed), f"--log-format json: {len(parsed)} lines, "
        "each with ts, level and msg")
moves = [x["msg"] for x in parsed if x["msg"].startswith("failover from 'primary' to 'secondary'")]
h.check(sum(int(re.search(r"(\d+) registrants moved", x).group(1)) for x in moves) == 50 and len(moves) <= 3,
        "failover logged as one line per second of moves, with node, reason and count", moves)

code, body = curl("POST", "/nodes/primary/enable")
h.check(code == 200, "POST /nodes/primary/enable accepted")
h.check(wait_until(lambda: next(n for n in sb.status()["nodes"] if n["name"] == "primary")["usable"], 5),
        "the primary is back in service")
code, body = curl("POST", "/nodes/nosuch/disable")
h.check(code == 404 and "nosuch" in body, "an unknown node is a 404 naming it", (code, body))
code, _ = curl("DELETE", "/status")
h.check(code == 405, "other methods: 405")
h.finish()
