"""docker/compose.yaml as a compose file, run as it is by Debian's podman-compose: `up` starts two
Kamailio registrars and Switchback; SIPp phones register and call through Switchback; `kill` of
the primary registrar's container fails the phones over (Switchback re-registers them on the
secondary, paced) and a call goes through the secondary; `down` removes every container.

The compose file publishes fixed loopback ports (SIP 5060, admin 8080): they must be free.
Prints the timeline of the run."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Harness, free_port, http_get, wait_until  # noqa: E402
from podman import IMAGE, REGISTRAR_IMAGE, ROOT, podman_or_skip, run  # noqa: E402

PHONES = 20
SIP, ADMIN = 5060, "127.0.0.1:8080"
FIXED_PORTS = [(SIP, "Switchback's SIP"), (8080, "Switchback's admin")]

podman = podman_or_skip()
h = Harness(__doc__)
if shutil.which("podman-compose") is None:
    subprocess.run(["apt-get", "install", "-y", "-qq", "podman-compose"], capture_output=True)
h.require(shutil.which("podman-compose") is not None, "podman-compose is installed (apt-get install podman-compose)")

for port, who in FIXED_PORTS:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError as e:
                h.require(False, f"port {port} ({who}, published by docker/compose.yaml) is free on 127.0.0.1", str(e))

project = f"sbcompose{os.getpid()}"
env = dict(os.environ, SWITCHBACK_IMAGE=IMAGE, REGISTRAR_IMAGE=REGISTRAR_IMAGE)
compose = ["podman-compose", "--podman-path", podman, "-p", project, "-f", os.path.join(ROOT, "docker", "compose.yaml")]
t0 = time.monotonic()
timeline = []


def mark(what):
    timeline.append((time.monotonic() - t0, what))
    print(f"  ---- {time.monotonic() - t0:6.1f} s  {what}")


def containers():
    out = run(podman, "ps", "-a", "--format", "json", "--filter", f"label=io.podman.compose.project={project}").stdout
    return {c["Labels"].get("com.docker.compose.service", "?"): c for c in json.loads(out or "[]")}


def status():
    return json.loads(http_get(ADMIN, "/status")[1])


def node(name):
    return next(n for n in status()["nodes"] if n["name"] == name)


try:
    r = subprocess.run(compose + ["up", "-d"], capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    h.require(r.returncode == 0, "podman-compose up -d starts the file as it is", (r.stdout + r.stderr)[-3000:])
    mark("compose up returned")
    def logs(service):
        c = containers().get(service)
        r = run(podman, "logs", c["Names"][0]) if c else None
        return f"--- {service}:\n" + ((r.stdout + r.stderr)[-1500:] if r else "(no container)")

    h.check(set(containers()) == {"registrar-a", "registrar-b", "switchback"}, "three containers are up",
            list(containers()))
    time.sleep(1)  # a registrar refusing its config exits within a second
    states = {name: c["State"] for name, c in containers().items()}
    h.require(set(states.values()) == {"running"}, "… and still running a second later", str(states) + "\n" +
              "\n".join(logs(name) for name, state in states.items() if state != "running"))

    def ready():
        try:
            return http_get(ADMIN, "/healthz")[0] == 200 and all(n["probe_latency_ms"] is not None
                                                                  for n in status()["nodes"])
        except OSError:
            return False
    h.require(wait_until(ready, 30), "Switchback is ready and has probed both registrars",
              "\n".join(logs(name) for name in ("switchback", "registrar-a", "registrar-b")))
    mark("Switchback ready, both registrars answer probes")

    users = h.users([f"u{i}" for i in range(1, PHONES + 1)])
    phones = free_port()
    r = h.sipp("register.xml", SIP, phones, calls=PHONES, rate=100, inf=users)
    h.check(r.rc == 0 and status()["bindings"]["registered_by_node"]["registrar-a"] == PHONES,
            f"{PHONES} SIPp phones register through Switchback on registrar-a", r)
    mark(f"{PHONES} phones registered via registrar-a")

    def call(label):
        bob = free_port()
        h.sipp("register.xml", SIP, bob, inf=h.users(["bob"], f"bob-{label}"))
        alice = h.register_phone(SIP, "alice")
        callee = h.sipp_background("uas_answer.xml", SIP, bob, timeout=20, name=f"bob-{label}")
        time.sleep(0.3)
        r = h.sipp("uac_call.xml", SIP, alice, service="bob", timeout=20, name=f"alice-{label}")
        callee.proc.wait(timeout=25)
        return r.rc == 0 and callee.proc.returncode == 0, r

    ok, r = call("a")
    h.check(ok, "alice calls bob through Switchback via registrar-a", r)
    mark("call alice -> bob via registrar-a")

    primary = containers()["registrar-a"]["Names"][0]
    r = run(podman, "kill", primary)
    h.require(r.returncode == 0, f"podman kill {primary}", r.stderr)
    mark("registrar-a's container killed")
    h.check(wait_until(lambda: not node("registrar-a")["usable"], 5, interval=0.05), "Switchback sees registrar-a down",
            node("registrar-a"))
    mark("registrar-a seen down")
    moved = wait_until(lambda: status()["bindings"]["registered_by_node"]["registrar-b"] >= PHONES, 20, interval=0.1)
    h.check(moved, f"the {PHONES} phones are re-registered on registrar-b (reRegisterOn: 1, paced)",
            status()["bindings"])
    mark(f"{status()['bindings']['registered_by_node']['registrar-b']} registrants registered on registrar-b")
    ok, r = call("b")
    h.check(ok, "alice calls bob through Switchback via registrar-b", r)
    mark("call alice -> bob via registrar-b")
    metrics = http_get(ADMIN, "/metrics")[1]
    h.check('switchback_failovers_total{reason="node down"}' in metrics, "the failover is counted in /metrics")
finally:
    r = subprocess.run(compose + ["down", "-v"], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    mark("compose down returned")
    left = containers()
    h.check(r.returncode == 0 and not left, "podman-compose down removes every container",
            (r.stdout + r.stderr)[-2000:] + str(list(left)))
    for name in left.values():
        run(podman, "rm", "-f", name["Names"][0])
h.figure("compose timeline: " + "; ".join(f"{t:.1f} s {what}" for t, what in timeline))
h.finish()
