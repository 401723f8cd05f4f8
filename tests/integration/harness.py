"""Integration-test harness: real Kamailio registrars, real SIPp phones and a real Switchback,
all on loopback, started and stopped by the test (by PID) in a temporary directory.

Standard library only. Every test gets its own ports (the kernel picks free ones), so CTest
can run the tests in parallel.
"""
import argparse
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios")
PASSWORD = "secret"          # every user's password on the test registrars


class CheckFailed(Exception):
    pass


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP at the time of asking."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


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
                os.kill(self.proc.pid, signal.SIGKILL)
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
    def __init__(self, harness, name, secret="shared-secret"):
        self.name = name
        self.port = free_port()
        self.dir = os.path.join(harness.dir, name)
        os.makedirs(self.dir)
        with open(os.path.join(HERE, "registrar.cfg.tmpl")) as f:
            cfg = f.read().replace("@PORT@", str(self.port)).replace("@SECRET@", secret)
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(cfg)
        # Foreground (-DD), log to stderr (-E), own runtime dir and pid file, enough memory.
        argv = ["kamailio", "-f", self.cfg, "-DD", "-E", "-Y", self.dir, "-P", os.path.join(self.dir, "pid"),
                "-M", "32", "-m", "64"]
        self.process = Process(name, argv, os.path.join(self.dir, "kamailio.log"))
        harness.processes.append(self.process)
        if not wait_until(lambda: self._listening() or not self.process.alive(), 10) or not self.process.alive():
            raise RuntimeError(f"{name} did not start:\n{self.process.output()[-3000:]}")

    def _listening(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    @property
    def uri(self):
        return f"sip:127.0.0.1:{self.port}"

    def requests(self, method=None):
        """The requests this registrar logged, as dicts (method, source, ruri, callid, path)."""
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


class Switchback:
    def __init__(self, harness, binary, upstreams, extra_yaml="", tcp=True, name="switchback", ipv6=False):
        self.port = free_port()
        self.admin_port = free_port()
        listen = [f'"udp:127.0.0.1:{self.port}"'] + ([f'"tcp:127.0.0.1:{self.port}"'] if tcp else [])
        if ipv6:
            listen += [f'"udp:[::1]:{self.port}"', f'"tcp:[::1]:{self.port}"']
        ups = "\n".join(f'  - {{ name: {n}, uri: "{u}" }}' for n, u in upstreams)
        self.config = os.path.join(harness.dir, f"{name}.yaml")
        with open(self.config, "w") as f:
            f.write(f"listen: [{', '.join(listen)}]\nupstreams:\n{ups}\nlog: {{ level: info }}\n"
                    f'admin: {{ listen: "127.0.0.1:{self.admin_port}" }}\n{extra_yaml}')
        self.process = Process(name, [binary, "--config", self.config], os.path.join(harness.dir, f"{name}.log"))
        harness.processes.append(self.process)
        if not wait_until(lambda: self._get("/healthz") is not None or not self.process.alive(), 10) \
                or not self.process.alive():
            raise RuntimeError(f"switchback did not start:\n{self.process.output()[-3000:]}")

    def _get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}{path}", timeout=5) as r:
                return r.read().decode()
        except (urllib.error.URLError, ConnectionError, OSError):
            return None

    def status(self):
        return json.loads(self._get("/status"))

    def binding(self, aor):
        body = self._get("/status/bindings?aor=" + urllib.request.quote(aor, safe=""))
        return json.loads(body) if body else None

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
    def __init__(self, rc, wall, stdout, error_log):
        self.rc, self.wall, self.stdout, self.error_log = rc, wall, stdout, error_log

    def __repr__(self):
        return f"sipp rc={self.rc} wall={self.wall:.2f}s errors:\n{self.error_log[-2000:]}"


class Harness:
    def __init__(self, description):
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
        for tool in ("kamailio", "sipp"):
            if shutil.which(tool) is None:
                print(f"{tool} is not installed (apt-get install {'kamailio' if tool == 'kamailio' else 'sip-tester'})")
                sys.exit(1)

    # --- processes -------------------------------------------------------------------------
    def kamailio(self, name="primary", secret="shared-secret"):
        return Kamailio(self, name, secret)

    def switchback(self, upstreams, extra_yaml="", tcp=True, ipv6=False):
        return Switchback(self, self.binary, upstreams, extra_yaml, tcp, ipv6=ipv6)

    def users(self, names, name="users"):
        path = os.path.join(self.dir, f"{name}.csv")
        with open(path, "w") as f:
            f.write("SEQUENTIAL\n")
            for n in names:
                f.write(f"{n};[authentication username={n} password={PASSWORD}]\n")
        return path

    def sipp_argv(self, scenario, target, local_port, calls=1, rate=None, service=None, inf=None,
                  transport="u1", keys=None, extra=(), timeout=30, name="sipp", ipv6=False):
        trace = os.path.join(self.dir, f"{name}-{local_port}")
        remote, local = (f"[::1]:{target}", "::1") if ipv6 else (f"127.0.0.1:{target}", "127.0.0.1")
        argv = ["sipp", "-sf", os.path.join(SCENARIOS, scenario), remote, "-i", local,
                "-p", str(local_port), "-t", transport, "-m", str(calls), "-timeout", f"{timeout}s",
                "-timeout_error", "-nostdin", "-trace_err", "-error_file", trace + "-errors.log",
                "-trace_msg", "-message_file", trace + "-messages.log", "-max_socket", "2000"]
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
        """Runs SIPp to completion. rc 0: every call passed."""
        local_port = local_port or free_port()
        argv, trace = self.sipp_argv(scenario, target, local_port, **kw)
        start = time.monotonic()
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=kw.get("timeout", 30) + 30)
        wall = time.monotonic() - start
        errors = ""
        if os.path.exists(trace + "-errors.log"):
            with open(trace + "-errors.log", errors="replace") as f:
                errors = f.read()
        return SippResult(proc.returncode, wall, proc.stdout.decode(errors="replace"), errors)

    def sipp_background(self, scenario, target, local_port, **kw):
        argv, trace = self.sipp_argv(scenario, target, local_port, **kw)
        p = Process(f"sipp-{local_port}", argv, trace + "-stdout.log")
        self.processes.append(p)
        return p

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
                rc = p.stop()
                out = p.output()
                self.check(rc == 0 and "Sanitizer" not in out and "runtime error" not in out,
                           f"{p.name} stopped cleanly on SIGTERM (exit {rc})", out[-3000:])
        if self.failed:
            for p in self.processes:
                if p.name.startswith("switchback") or p.name in ("primary", "secondary"):
                    print(f"--- last lines of {p.name} ({p.log_path}):\n{p.output()[-2500:]}")
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)

    def cleanup(self):
        for p in reversed(self.processes):
            p.stop()
        if not self.args.keep and not self.failed:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.failed or self.args.keep:
            print(f"(test files kept in {self.dir})")
