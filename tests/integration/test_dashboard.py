"""The Grafana dashboard (docker/grafana-dashboard.json) an operator imports: valid against the
parts of Grafana's dashboard model an import relies on (a JSON schema, Grafana itself not being
packaged in Debian), panels laid out without overlap, every query valid PromQL (promtool), and
every metric it queries one that a running Switchback exports, after a failover."""
import json
import os
import re
import subprocess

import jsonschema

from harness import HERE, Harness, wait_until

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
h = Harness(__doc__)
with open(os.path.join(ROOT, "docker", "grafana-dashboard.json")) as f:
    dashboard = json.load(f)
with open(os.path.join(HERE, "grafana_dashboard.schema.json")) as f:
    schema = json.load(f)
errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(dashboard)]
h.check(not errors, "the dashboard is valid against the schema", "\n".join(errors[:10]))
panels = dashboard["panels"]
ids = [p["id"] for p in panels]
h.check(len(ids) == len(set(ids)), "panel ids are unique", ids)
cells = {}
for p in panels:
    g = p["gridPos"]
    for x in range(g["x"], g["x"] + g["w"]):
        for y in range(g["y"], g["y"] + g["h"]):
            cells.setdefault((x, y), []).append(p["title"])
overlaps = {tuple(t) for t in cells.values() if len(t) > 1}
h.check(not overlaps and all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels),
        "panels fit the 24-column grid without overlapping", overlaps)

exprs = [(p["title"], t["expr"]) for p in panels for t in p["targets"]]
rules = os.path.join(h.dir, "dashboard-queries.yml")
with open(rules, "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (_, expr) in enumerate(exprs):
        f.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(expr)}\n")
r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True, timeout=30)
h.check(r.returncode == 0, f"promtool parses all {len(exprs)} queries", r.stdout + r.stderr)

# A Switchback in a failover exports every metric the dashboard asks for.
primary, secondary = h.kamailio("primary"), h.kamailio("secondary")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)],
                  extra_yaml="failover: { reRegisterOn: 1, failRegistrationOn: 1 }\n")
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
r = h.sipp("register.xml", sb.port, calls=5, rate=50, inf=h.users([f"u{i}" for i in range(5)]))
h.require(r.rc == 0, "5 phones registered", r)
primary.crash()
h.require(wait_until(lambda: sb.status()["bindings"]["registered_by_node"]["secondary"] == 5, 10), "failed over")
exported = set(re.findall(r"^# TYPE (\S+) ", sb.http("GET", "/metrics")[1], re.M))
wanted = {m for _, e in exprs for m in re.findall(r"\bswitchback_[a-z_]+\b", e)}
h.check(wanted and wanted <= exported, f"all {len(wanted)} metrics the dashboard queries are exported",
        sorted(wanted - exported))
h.finish()
