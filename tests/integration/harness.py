"""Integration-test harness: real Kamailio registrars, real SIPp phones and a real Switchback,
all on loopback, started and stopped by the test (by PID) in a temporary directory.

Standard library only. Every test gets its own ports (the kernel picks free ones), so CTest
can run the tests in parallel.

    h = Harness(__doc__)                      # parses --switchback, makes the temp dir
    k = h.kamailio("primary")                 # k.port, k.uri, k.requests("INVITE")
    sb = h.switchback([("primary", k.uri)])   # sb.port, sb.status(), sb.metrics()
    r = h.sipp("register.xml", sb.port, calls=10, rate=100, inf=h.users(["u1", ...]))
    h.check(r.rc == 0, "registered", r)       # or h.require(...) to stop on failure
    h.finish()                                # prints "N passed, M failed", exits 0 or 1
"""
import argparse
import atexit
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios")
PASSWORD = "secret"          # every user's password on the test registrars


class CheckFailed(Exception):
    pass


PORT_RANGE = None            # (first, last): free_port() picks in it; None: the kernel's choice


_given = set()                # ports free_port() handed out: a port picked but not bound yet
                              # (Switchback's SIP port while its admin port is picked) is not free


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP at the time of asking (in PORT_RANGE if set),
    never one it handed out before in this process."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", random.randint(*PORT_RANGE) if PORT_RANGE else 0))
            except OSError:
                continue
            port = u.getsockname()[1]
            if port in _given:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                _given.add(port)
                return port
    raise RuntimeError("no free port")


def http_get(address, path, timeout=5):
    """GET http://address/path (address "host:port"); returns (status, body text). Raises
    OSError (urllib.error.URLError included) when nothing answers; an HTTP error status is returned."""
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def port_bound(port):
    """Whether some socket on this machine is bound to UDP port `port`, or listens on TCP port
    `port` (IPv4 or IPv6)."""
    for table, listen_only in (("udp", False), ("udp6", False), ("tcp", True), ("tcp6", True)):
        try:
            with open(f"/proc/net/{table}") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and (not listen_only or fields[3] == "0A"):
                        return True
        except OSError:
            continue
    return False


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class Process:
    """A child process we started; stopped by its own PID only."""

    def __init__(self, name, argv, log_path, cwd=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd,
                                     start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def cpu_seconds(self):
        """User + system CPU time this process has used so far (Linux /proc)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # Kamailio's children outlive a SIGKILLed main process; they are in the session
                # we created for it (its PID is the group's id), so the group goes with it.
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
            except ProcessLookupError:
                pass
        self.log.close()
        return self.proc.returncode

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Kamailio:
    """A registrar built from registrar.cfg.tmpl, listening on UDP and TCP 127.0.0.1:port.
    Registrars given the same secret accept each other's nonces (a failover pair)."""

    def __init__(self, harness, name, secret="shared-secret", attempts=3, min_expires=60, shm_mb=64, register_hook=""):
        self.name = name
        self.register_hook = register_hook
        self.shm_mb = shm_mb
        self.secret = secret
        self.min_expires = min_expires
        self.harness = harness
        self.restarts = 0
        self.dir = os.path.join(harness.dir, name)
        os.makedirs(self.dir)
        # Another test may take the free port between free_port() and Kamailio's bind: try again.
        for attempt in range(attempts):
            self.port = free_port()
            self.process = self._start(secret, attempt)
            harness.processes.append(self.process)
            wait_until(lambda: self._listening() or not self.process.alive(), 10)
            time.sleep(0.1)  # a bind failure on the second socket ends the process just after the first listens
            if self.process.alive() and self._listening():
                return
            self.process.stop()
            if "Address already in use" not in self.process.output():
                break
        raise RuntimeError(f"{name} did not start:\n{self.process.output()[-3000:]}")

    def crash(self):
        """kill -9 of the whole registrar (main process and children): as if its host died."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.proc.wait()

    def restart(self):
        """Starts the registrar again on the same port, with empty location tables."""
        self.restarts += 1
        self.process = self._start(self.secret, 100 + self.restarts)
        self.harness.processes.append(self.process)
        if not wait_until(lambda: self._listening() or not self.process.alive(), 10) or not self.process.alive():
            raise RuntimeError(f"{self.name} did not restart:\n{self.process.output()[-3000:]}")

    def _start(self, secret, attempt):
        with open(os.path.join(HERE, "registrar.cfg.tmpl")) as f:
            cfg = f.read().replace("@PORT@", str(self.port)).replace("@SECRET@", secret) \
                .replace("@MIN_EXPIRES@", str(self.min_expires)).replace("@REGISTER_HOOK@", self.register_hook)
        log = "kamailio.log" if attempt == 0 else f"kamailio-{attempt}.log"
        return self._run(cfg, log)

    def _run(self, cfg, log):
        """Writes the config and starts Kamailio in the foreground (-DD), logging to stderr (-E),
        with its own runtime dir and pid file and enough memory."""
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(cfg)
        argv = ["kamailio", "-f", self.cfg, "-DD", "-E", "-Y", self.dir, "-P", os.path.join(self.dir, "pid"),
                "-M", "32", "-m", str(self.shm_mb)]
        return Process(self.name, argv, os.path.join(self.dir, log))

    def _listening(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    @property
    def uri(self):
        return f"sip:127.0.0.1:{self.port}"

    def requests(self, method=None):
        """The requests this registrar logged, as dicts (method, source "ip:port", ruri, callid, path,
        proto), oldest first."""
        out = []
        for line in self.process.output().splitlines():
            i = line.find("REQ ")
            if i < 0:
                continue
            parts = line[i:].split()
            if len(parts) < 6:
                continue
            entry = {"method": parts[1], "source": parts[3]}
            for p in parts[4:]:
                if "=" in p:
                    k, v = p.split("=", 1)
                    entry[k] = v
            if method is None or entry["method"] == method:
                out.append(entry)
        return out


class Redis:
    """A redis-server on 127.0.0.1:port with nothing on disk (--save "" --appendonly no): the
    cluster's shared store. stop() and start() again keep the port (a restarted Redis is empty)."""

    def __init__(self, harness):
        self.harness = harness
        self.port = free_port()
        self.dir = os.path.join(harness.dir, f"redis-{self.port}")
        os.makedirs(self.dir)
        self.starts = 0
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.starts += 1
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--protected-mode", "no"]
        self.process = Process("redis", argv, os.path.join(self.dir, f"redis-{self.starts}.log"))
        self.harness.processes.append(self.process)
        if not wait_until(lambda: self._answers() or not self.process.alive(), 10) or not self.process.alive():
            raise RuntimeError(f"redis-server did not start:\n{self.process.output()[-2000:]}")

    def stop(self):
        self.process.stop(signal.SIGKILL)

    def _answers(self):
        return self.command("PING") == "+PONG"

    def command(self, *args):
        """One command over RESP: the answer's first line, or a bulk string's text ("" if nothing answers)."""
        payload = f"*{len(args)}\r\n" + "".join(f"${len(str(a).encode())}\r\n{a}\r\n" for a in args)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(payload.encode())
                lines = s.recv(65536).decode(errors="replace").split("\r\n")
                return "\n".join(lines[1:]).strip() if lines[0].startswith("$") and lines[0] != "$-1" else lines[0]
        except OSError:
            return ""


class Dns:
    """A DNS server on loopback (dnsmasq) serving SRV and A records with a chosen TTL (or, for an
    A record given as (name, address, ttl), its own), and a
    resolv.conf (sofia-sip's format, with its port) for Switchback to use it."""

    def __init__(self, harness, srv, hosts, ttl):
        self.port = free_port()
        self.dir = os.path.join(harness.dir, "dns")
        os.makedirs(self.dir, exist_ok=True)
        argv = ["dnsmasq", "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", f"--local-ttl={ttl}", f"--pid-file={self.dir}/pid", "--log-queries"]
        for name, target, port, priority, weight in srv:
            argv.append(f"--srv-host={name},{target},{port},{priority},{weight}")
        for name, address, *own_ttl in hosts:  # (name, address[, ttl]): a record may have its own TTL
            argv.append(f"--host-record={name},{address},{own_ttl[0] if own_ttl else ttl}")
        self.process = Process("dnsmasq", argv, os.path.join(self.dir, "dnsmasq.log"))
        harness.processes.append(self.process)
        self.resolv_conf = os.path.join(self.dir, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write(f"nameserver 127.0.0.1\nport {self.port}\n")
        time.sleep(0.3)
        if not self.process.alive():
            raise RuntimeError(f"dnsmasq did not start:\n{self.process.output()[-2000:]}")


class Switchback:
    def __init__(self, harness, binary, upstreams, extra_yaml="", tcp=True, name="switchback", ipv6=False,
                 extra_listen=()):
        self.port = free_port()
        self.admin_port = free_port()
        listen = [f'"udp:127.0.0.1:{self.port}"'] + ([f'"tcp:127.0.0.1:{self.port}"'] if tcp else [])
        listen += [f'"{l}"' for l in extra_listen]
        if ipv6:
            listen += [f'"udp:[::1]:{self.port}"', f'"tcp:[::1]:{self.port}"']
        # An upstream is (name, uri) or (name, uri, "more: keys") for its other settings.
        ups = "\n".join(f'  - {{ name: {u[0]}, uri: "{u[1]}"' + (f", {u[2]}" if len(u) > 2 and u[2] else "") + " }"
                         for u in upstreams)
        if "nat:" not in extra_yaml:
            # Keep-alives to phones are test_nat_keepalive's subject; elsewhere they would ping SIPp
            # phones that have finished (and count them unreachable) in the middle of other checks.
            extra_yaml += "nat: { keepalive_interval_s: 0 }\n"
        self.config = os.path.join(harness.dir, f"{name}.yaml")
        with open(self.config, "w") as f:
            f.write(f"listen: [{', '.join(listen)}]\nupstreams:\n{ups}\nlog: {{ level: info }}\n"
                    f'admin: {{ listen: "127.0.0.1:{self.admin_port}" }}\n{extra_yaml}')
        self.harness, self.binary, self.name, self.starts = harness, binary, name, 0
        self.start()

    def start(self, extra_args=()):
        """Starts (or, after kill(), restarts) the process with the same config and ports."""
        self.starts += 1
        log = os.path.join(self.harness.dir, f"{self.name}.log" if self.starts == 1 else f"{self.name}-{self.starts}.log")
        self.process = Process(self.name, [self.binary, "--config", self.config, *extra_args], log)
        self.harness.processes.append(self.process)
        if not wait_until(lambda: self.http("GET", "/healthz")[0] is not None or not self.process.alive(), 10) \
                or not self.process.alive():
            raise RuntimeError(f"switchback did not start:\n{self.process.output()[-3000:]}")

    def kill(self):
        """kill -9: no drain, no final flush."""
        return self.process.stop(signal.SIGKILL)

    def signal(self, sig):
        os.kill(self.process.pid, sig)

    def http(self, method, path):
        """(status, body) of any answer from the admin endpoint; (None, None) if nothing answers."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}{path}", method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")
        except OSError:
            return None, None

    def _get(self, path):
        """The body of a 200 answer from the admin endpoint, else None."""
        try:
            status, body = http_get(f"127.0.0.1:{self.admin_port}", path)
        except OSError:
            return None
        return body if status == 200 else None

    def status(self):
        return json.loads(self._get("/status"))

    def binding(self, aor):
        body = self._get("/status/bindings?aor=" + urllib.request.quote(aor, safe=""))
        return json.loads(body) if body else None

    def registered_on(self, user, node):
        """Whether /status/bindings shows sip:USER@example.com registered on the node."""
        b = self.binding(f"sip:{user}@example.com") or {}
        return bool(b.get("nodes", {}).get(node, {}).get("registered"))

    def metrics(self):
        """Prometheus text parsed into {"name{labels}": value}."""
        out = {}
        for line in self._get("/metrics").splitlines():
            if not line or line.startswith("#"):
                continue
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
        return out


class SippResult:
    """rc 0: every call passed (1: some failed, 97/99: SIPp stopped early, -1: killed by the harness).
    stats: SIPp's final -trace_stat row, e.g. stats["SuccessfulCall(C)"] (cumulative counts)."""

    def __init__(self, rc, wall, stdout, error_log, stats=None):
        self.rc, self.wall, self.stdout, self.error_log = rc, wall, stdout, error_log
        self.stats = stats or {}

    @property
    def successful(self):
        return int(self.stats.get("SuccessfulCall(C)", 0))

    @property
    def failed(self):
        return int(self.stats.get("FailedCall(C)", 0))

    def __repr__(self):
        return (f"sipp rc={self.rc} wall={self.wall:.2f}s successful={self.successful} failed={self.failed} "
                f"errors:\n{self.error_log[-2000:]}")


def read_sipp_stats(path):
    """The last row of a SIPp -trace_stat file as {column: value}; {} if there is none."""
    try:
        with open(path, errors="replace") as f:
            rows = [line.rstrip("\n").split(";") for line in f if line.strip()]
    except OSError:
        return {}
    return dict(zip(rows[0], rows[-1])) if len(rows) >= 2 else {}


class Harness:
    def __init__(self, description, ports=None):
        """ports: (first, last), the range this test's ports come from (tests that run next to
        others on a shared machine keep to their own range); None: any free port."""
        global PORT_RANGE
        PORT_RANGE = ports
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--switchback", required=True, help="path to the switchback binary")
        parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
        self.args = parser.parse_args()
        self.binary = os.path.abspath(self.args.switchback)
        self.dir = tempfile.mkdtemp(prefix="switchback-it-")
        self.processes = []
        self.passed = 0
        self.failed = 0
        self.figures = []
        atexit.register(self.cleanup)
        sys.excepthook = self._uncaught
        for tool in ("kamailio", "sipp"):
            if shutil.which(tool) is None:
                print(f"{tool} is not installed (apt-get install {'kamailio' if tool == 'kamailio' else 'sip-tester'})")
                sys.exit(1)

    # --- processes -------------------------------------------------------------------------
    def kamailio(self, name="primary", secret="shared-secret", min_expires=60, shm_mb=64, register_hook=""):
        """register_hook: Kamailio script run on each authenticated REGISTER before it is saved
        (a registrar that answers oddly, e.g. 'sl_send_reply("200", "OK"); exit;')."""
        return Kamailio(self, name, secret, min_expires=min_expires, shm_mb=shm_mb, register_hook=register_hook)

    def redis(self):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (scripts/install-deps.sh installs it)")
        return Redis(self)

    def cluster(self, upstreams, redis, ids=("a", "b"), shared=True, extra_yaml="", name="test"):
        """Switchback nodes sharing bindings through `redis`, one per id (named switchback-ID), each on
        its own port, with the same upstreams."""
        nodes = []
        for node_id in ids:
            yaml = (f'store: {{ kind: redis, url: "{redis.url}" }}\n'
                    f'cluster: {{ name: {name}, node_id: {node_id}, shared_registrations: {str(shared).lower()} }}\n'
                    + extra_yaml)
            nodes.append(self.switchback(upstreams, extra_yaml=yaml, name=f"switchback-{name}-{node_id}"))
        return nodes

    def dns(self, srv, hosts, ttl):
        if shutil.which("dnsmasq") is None:
            raise RuntimeError("dnsmasq is not installed (apt-get install dnsmasq-base)")
        return Dns(self, srv, hosts, ttl)

    def time_failback(self, primary, failed_over, back, timeout):
        """Partitions the primary (SIGSTOP) until failed_over() holds, heals it, then waits up to
        timeout s for back(): (whether it came back, seconds from the failover to then)."""
        os.killpg(primary.process.pid, signal.SIGSTOP)
        try:
            self.require(wait_until(failed_over, 5, interval=0.02), "failed over to the secondary")
            at = time.monotonic()
        finally:
            os.killpg(primary.process.pid, signal.SIGCONT)
        came_back = wait_until(back, timeout, interval=0.05)
        return came_back, time.monotonic() - at

    def registrar_srv(self, primary, secondary, ttl):
        """registrar.test: SRV records naming primary.test (priority 10) and secondary.test (20)."""
        return self.dns(srv=[("_sip._udp.registrar.test", "primary.test", primary.port, 10, 10),
                             ("_sip._udp.registrar.test", "secondary.test", secondary.port, 20, 10)],
                        hosts=[("primary.test", "127.0.0.1"), ("secondary.test", "127.0.0.1")], ttl=ttl)

    def switchback(self, upstreams, extra_yaml="", tcp=True, ipv6=False, name="switchback", extra_listen=()):
        return Switchback(self, self.binary, upstreams, extra_yaml, tcp, name=name, ipv6=ipv6, extra_listen=extra_listen)

    def failover_pair(self, failover_yaml, extra_yaml="", secondary_hook="", secondary_secret="shared-secret"):
        """A primary and a secondary Kamailio and a Switchback in front of them with
        `failover: { … }` set to failover_yaml, both nodes probed: (primary, secondary, sb)."""
        primary = self.kamailio("primary")
        secondary = self.kamailio("secondary", secret=secondary_secret, register_hook=secondary_hook)
        sb = self.switchback([("primary", primary.uri), ("secondary", secondary.uri)],
                             extra_yaml=f"failover: {{ {failover_yaml} }}\n{extra_yaml}")
        self.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5),
                     "both nodes probed")
        return primary, secondary, sb

    def users(self, names, name="users"):
        path = os.path.join(self.dir, f"{name}.csv")
        with open(path, "w") as f:
            f.write("SEQUENTIAL\n")
            for n in names:
                f.write(f"{n};[authentication username={n} password={PASSWORD}]\n")
        return path

    def sipp_argv(self, scenario, target, local_port, calls=1, rate=None, service=None, inf=None,
                  transport="u1", keys=None, extra=(), timeout=30, name="sipp", ipv6=False, local_ip="127.0.0.1"):
        """local_ip: the phones' own address (any 127.0.0.x, so tests can have many sources)."""
        trace = os.path.join(self.dir, f"{name}-{local_port}")
        remote, local = (f"[::1]:{target}", "::1") if ipv6 else (f"127.0.0.1:{target}", local_ip)
        argv = ["sipp", "-sf", os.path.join(SCENARIOS, scenario), remote, "-i", local,
                "-p", str(local_port), "-t", transport, "-m", str(calls), "-timeout", f"{timeout}s",
                "-timeout_error", "-nostdin", "-trace_err", "-error_file", trace + "-errors.log",
                "-trace_msg", "-message_file", trace + "-messages.log", "-max_socket", "2000",
                "-trace_stat", "-stf", trace + "-stats.csv"]
        if rate:
            argv += ["-r", str(rate), "-rp", "1000"]
        if service:
            argv += ["-s", service]
        if inf:
            argv += ["-inf", inf]
        keys = dict({"expires": 3600, "contact_port": local_port}, **(keys or {}))
        for k, v in keys.items():
            argv += ["-key", k, str(v)]
        return argv + list(extra), trace

    def sipp(self, scenario, target, local_port=None, **kw):
        """Runs SIPp to completion (bounded: its own -timeout, then the harness kills it 30 s later).
        rc 0: every call passed."""
        local_port = local_port or free_port()
        argv, trace = self.sipp_argv(scenario, target, local_port, **kw)
        start = time.monotonic()
        try:
            proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=kw.get("timeout", 30) + 30)
            rc, stdout = proc.returncode, proc.stdout
        except subprocess.TimeoutExpired as e:  # subprocess.run has killed it
            rc, stdout = -1, (e.stdout or b"") + b"\n(killed by the harness: SIPp overran its -timeout)"
        wall = time.monotonic() - start
        errors = ""
        if os.path.exists(trace + "-errors.log"):
            with open(trace + "-errors.log", errors="replace") as f:
                errors = f.read()
        return SippResult(rc, wall, stdout.decode(errors="replace"), errors, read_sipp_stats(trace + "-stats.csv"))

    def register_phone(self, target, user, local_port=None, **kw):
        """Registers one phone through Switchback and returns the port it registered from: calls it
        makes must come from there (Switchback only lets registered phones start dialogs)."""
        local_port = local_port or free_port()
        r = self.sipp("register.xml", target, local_port, inf=self.users([user], f"{user}-{local_port}"), **kw)
        self.require(r.rc == 0, f"{user} registered through Switchback", r)
        return local_port

    def sipp_background(self, scenario, target, local_port, **kw):
        """Starts SIPp and returns once it listens on local_port (a caller started right after
        must not reach a port nobody listens on yet, however loaded the machine)."""
        argv, trace = self.sipp_argv(scenario, target, local_port, **kw)
        p = Process(f"sipp-{local_port}", argv, trace + "-stdout.log")
        self.processes.append(p)
        wait_until(lambda: port_bound(local_port) or not p.alive(), 10)
        return p

    def calls(self, target, pairs, caller_port, callee_port, callee_target=None, rate=None, timeout=15):
        """Calls from the phones on caller_port to the phones on callee_port, one per (caller, callee)
        pair of user names (uac_call_csv.xml via Switchback at `target`; uas_answer_many.xml sending via
        `callee_target`, default `target`). Returns (whether both ends completed every call, the
        callers' SippResult)."""
        csv = os.path.join(self.dir, f"calls-{caller_port}-{callee_port}-{len(pairs)}-{time.monotonic_ns()}.csv")
        with open(csv, "w") as f:
            f.write("SEQUENTIAL\n" + "".join(f"{a};{b}\n" for a, b in pairs))
        uas = self.sipp_background("uas_answer_many.xml", callee_target or target, callee_port, calls=len(pairs),
                                   timeout=timeout, name=f"uas-{callee_port}")
        time.sleep(0.2)
        r = self.sipp("uac_call_csv.xml", target, caller_port, calls=len(pairs), rate=rate, inf=csv, timeout=timeout,
                      name=f"uac-{caller_port}")
        uas.proc.wait(timeout=timeout + 5)
        return r.rc == 0 and r.successful == len(pairs) and uas.proc.returncode == 0, r

    @staticmethod
    def acked_registrations(load, before):
        """{user: time} of the REGISTERs a background SIPp load (sipp_background) had a 200 OK for
        before `before` (time.time()), from its message trace."""
        acked = {}
        with open(load.log_path.replace("-stdout.log", "-messages.log"), errors="replace") as f:
            text = f.read()
        for entry in re.split(r"^-{20,} ", text, flags=re.M)[1:]:
            stamp, _, rest = entry.partition("\n")
            if "message received" not in rest or "SIP/2.0 200 OK" not in rest or "REGISTER" not in rest:
                continue
            m = re.search(r"^To: <sip:([^@>]+)@", rest, re.M)
            at = datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp()
            if m and at < before:
                acked[m.group(1)] = at
        return acked

    @staticmethod
    def peak_rate(samples):
        """The highest rate over any window of at least 1 s in [(time, cumulative count), ...]."""
        peak = 0
        for i, (ti, ni) in enumerate(samples):
            for tj, nj in samples[i:]:
                if tj - ti >= 1.0:
                    peak = max(peak, (nj - ni) / (tj - ti))
                    break
        return peak

    # --- raw packets -----------------------------------------------------------------------
    @staticmethod
    def send_udp(port, data, expect_reply=False, timeout=2.0):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(timeout)
            s.sendto(data, ("127.0.0.1", port))
            if not expect_reply:
                return None
            try:
                return s.recv(65535).decode(errors="replace")
            except socket.timeout:
                return None

    @staticmethod
    def send_tcp(port, data, read_timeout=2.0):
        """Sends bytes on a new connection; returns (what came back, whether the peer closed)."""
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(data)
            s.settimeout(read_timeout)
            received = b""
            try:
                while True:
                    chunk = s.recv(65535)
                    if not chunk:
                        return received.decode(errors="replace"), True
                    received += chunk
            except socket.timeout:
                return received.decode(errors="replace"), False
            except ConnectionResetError:
                return received.decode(errors="replace"), True

    # --- checks ----------------------------------------------------------------------------
    def require(self, condition, what, detail=""):
        """A check the rest of the test depends on: if it fails, the test stops here."""
        if not self.check(condition, what, detail):
            raise CheckFailed(what)

    def check(self, condition, what, detail=""):
        if condition:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failed += 1
            print(f"  FAIL {what}" + (f"\n{detail}" if detail else ""))
        return condition

    def figure(self, text):
        self.figures.append(text)
        print(f"  ---- {text}")

    def finish(self):
        # Stopping Switchback is part of the test: SIGTERM must end it cleanly (exit 0), and
        # under a sanitizer build its log must hold no report.
        for p in self.processes:
            if p.name.startswith("switchback") and p.alive():
                rc = p.stop(timeout=15)  # SIGTERM drains: up to shutdown.drain_timeout_ms (5 s)
                out = p.output()
                self.check(rc == 0 and "Sanitizer" not in out and "runtime error" not in out,
                           f"{p.name} stopped cleanly on SIGTERM (exit {rc})", out[-3000:])
        if self.failed:
            self._dump_logs()
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)

    def _uncaught(self, kind, value, tb):
        # A failed require() or a process that would not start still ends with the summary line.
        if kind is not CheckFailed:
            self.failed += 1
            sys.__excepthook__(kind, value, tb)
        self._dump_logs()
        print(f"{self.passed} passed, {self.failed} failed (stopped early: {value})")

    def _dump_logs(self):
        for p in self.processes:
            if p.name.startswith("switchback") or p.name in ("primary", "secondary", "redis"):
                print(f"--- last lines of {p.name} ({p.log_path}):\n{p.output()[-2500:]}")

    def cleanup(self):
        for p in reversed(self.processes):
            p.stop()
        if not self.args.keep and not self.failed:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.failed or self.args.keep:
            print(f"(test files kept in {self.dir})")
