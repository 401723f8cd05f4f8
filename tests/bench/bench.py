"""Switchback against Kamailio (dispatcher outbound proxy), side by side, on loopback.

One run, one machine, the same Kamailio registrar behind both proxies, the same SIPp load:

  1. REGISTER with digest authentication: a ladder of rates, each held for --duration seconds,
     both proxies at each rung (interleaved, so machine noise hits both alike); a side stops at
     its first rung with a failed call, a retransmission, or SIPp falling behind the pace.
  2. Calls (INVITE/180/200/ACK/BYE, the callee registered through the same proxy): the same.
  3. Response times (median, 99th percentile) from SIPp's -trace_rtt at the first rung (a
     common moderate rate).
  4. Switchback only: detection after kill -9 of the primary, the paced re-registration of
     10,000 bindings on the secondary, the highest 1-s rate against the cap.
  5. Switchback only: resident memory per binding (100,000 bindings minus none).
  6. Switchback only: 1,000,000 bindings (tests/bench/million.py): memory per binding, idle CPU,
     failover of every registrant with OPTIONS answer times during it, restart from the store.

CPU is read from /proc (utime+stime) for every process: the proxy under test, the registrar,
and SIPp (as reaped children), so a reader can tell which process was the limit on a small
machine. Every load is bounded in calls and time; every process is ours and stopped by PID.
Ports come from 27000-27999. Standard library only; reuses tests/integration/harness.py.
"""
import argparse
import atexit
import datetime
import glob
import json
import os
import platform
import random
import resource
import signal
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import Harness, Kamailio, Process, read_sipp_stats, wait_until  # noqa: E402

SCENARIOS = os.path.join(HERE, "scenarios")
PORTS = range(27000, 28000)
_taken = set()


def bench_port():
    """A port in 27000-27999 free for UDP and TCP on 127.0.0.1, never handed out twice in a run."""
    candidates = [p for p in PORTS if p not in _taken]
    random.shuffle(candidates)
    for port in candidates[:200]:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
                    socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
        except OSError:
            continue
        _taken.add(port)
        return port
    raise RuntimeError("no free port in 27000-27999")


# Every process the harness starts for the benchmark (registrars, Switchback) takes its ports here.
harness.free_port = bench_port


def session_cpu(sid):
    """utime+stime of every live process in session `sid` (a Kamailio and its children)."""
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def udp_drop_table():
    """{port: datagrams the kernel dropped (receive buffer full)} for 127.0.0.1 UDP sockets,
    from /proc/net/udp's last column."""
    table = {}
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if len(fields) > 12 and fields[1].startswith("0100007F:"):
                port = int(fields[1].split(":")[1], 16)
                table[port] = table.get(port, 0) + int(fields[-1])
    return table


def udp_drops(ports):
    table = udp_drop_table()
    return sum(table.get(p, 0) for p in ports)


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))]


class DispatcherProxy(Kamailio):
    """Kamailio as a dispatcher outbound proxy (tests/bench/dispatcher.cfg.tmpl) in front of
    `upstreams` (URIs, first = highest priority). UDP only, like the load. Shared memory
    `shm_mb`: tm keeps each transaction for its wait timer, and it ran out at 64 MB near 1,000
    registrations/s and at 256 MB near 2,000/s."""

    def __init__(self, bench, name, upstreams, children, shm_mb):
        self.upstreams = upstreams
        self.children = children
        super().__init__(bench, name, shm_mb=shm_mb)

    def _start(self, secret, attempt):
        listing = os.path.join(self.dir, "dispatcher.list")
        with open(listing, "w") as f:
            for i, uri in enumerate(self.upstreams):
                f.write(f"1 {uri} 0 {100 - i}\n")
        with open(os.path.join(HERE, "dispatcher.cfg.tmpl")) as f:
            cfg = f.read().replace("@PORT@", str(self.port)).replace("@LIST@", listing) \
                .replace("@CHILDREN@", str(self.children))
        return self._run(cfg, f"kamailio-{attempt}.log")

    def _listening(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.3)
            me = s.getsockname()[1]
            probe = (f"OPTIONS sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                     f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-up{time.monotonic_ns()};rport\r\n"
                     f"From: <sip:bench@example.com>;tag=1\r\nTo: <sip:127.0.0.1:{self.port}>\r\n"
                     f"Call-ID: up-{time.monotonic_ns()}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                     "Content-Length: 0\r\n\r\n")
            s.sendto(probe.encode(), ("127.0.0.1", self.port))
            try:
                return s.recv(4096).startswith(b"SIP/2.0 200")
            except OSError:
                return False


class Side:
    """One proxy under test: its port and how to read its CPU."""

    def __init__(self, key, label, port, process, is_session):
        self.key, self.label, self.port, self.process, self.is_session = key, label, port, process, is_session

    def cpu(self):
        return session_cpu(self.process.pid) if self.is_session else self.process.cpu_seconds()


class Bench(Harness):
    def __init__(self, args):  # no Harness.__init__: its argument parser is the tests'
        self.args = args
        self.binary = os.path.abspath(args.switchback)
        self.dir = tempfile.mkdtemp(prefix="switchback-bench-")
        self.processes = []
        self.passed = self.failed = 0
        self.figures = []
        self.steps = 0
        atexit.register(self.cleanup)

    def sipp_cmd(self, scenario, target, local_port, cwd, name, extra=(), **kw):
        argv, trace = self.sipp_argv(scenario, target, local_port, name=os.path.join(cwd, name), **kw)
        # Messages are not traced: at thousands a second the trace would cost SIPp more than the test.
        i = argv.index("-trace_msg")
        del argv[i:i + 3]
        # 4 MB socket buffers, as both proxies ask for: at 8,000 registrations/s SIPp's default
        # 64 KB dropped datagrams whenever it was off the CPU for a few milliseconds.
        return argv + ["-trace_rtt", "-rtt_freq", "100", "-buff_size", "4194304"] + list(extra), trace

    def run_sipps(self, specs, duration, cwd, uas=()):
        """Starts the UAS processes, then the clients; waits for all (bounded); returns per-process
        results and the wall time of the clients."""
        procs = []
        for argv, trace, expected in uas:
            procs.append(("uas", Process(os.path.basename(trace), argv, trace + "-stdout.log", cwd=cwd), trace, expected))
        if uas:
            time.sleep(0.3)
        start = time.monotonic()
        for argv, trace, expected in specs:
            procs.append(("uac", Process(os.path.basename(trace), argv, trace + "-stdout.log", cwd=cwd), trace, expected))
        deadline = start + duration + 20
        # SIPp's sockets go with it: sample their drops while it runs (a count only grows).
        ports = {int(argv[argv.index("-p") + 1]) for argv, _, _ in list(specs) + list(uas)}
        drops = {}
        try:
            while time.monotonic() < deadline and any(p.alive() for _, p, _, _ in procs):
                for port, n in udp_drop_table().items():
                    if port in ports:
                        drops[port] = max(n, drops.get(port, 0))
                time.sleep(0.25)
        finally:  # overran, or the benchmark was interrupted: stopped by their PIDs
            for _, p, _, _ in procs:
                if p.alive():
                    p.stop(signal.SIGKILL)
        wall = time.monotonic() - start
        self.last_sipp_drops = sum(drops.values())
        out = []
        for role, p, trace, expected in procs:
            p.stop()
            st = read_sipp_stats(trace + "-stats.csv")
            out.append({"role": role, "rc": p.proc.returncode, "expected": expected,
                        "ok": int(st.get("SuccessfulCall(C)", 0)), "failed": int(st.get("FailedCall(C)", 0)),
                        "retrans": int(st.get("Retransmissions(C)", 0))})
        return out, wall

    @staticmethod
    def response_times(cwd):
        """{rtd number: [ms, …]} from every SIPp -trace_rtt file in cwd."""
        rtts = {}
        for path in glob.glob(os.path.join(cwd, "*_rtt.csv")):
            with open(path, errors="replace") as f:
                for line in f:
                    parts = line.strip().split(";")
                    if len(parts) < 3 or not parts[1].replace(".", "", 1).isdigit():
                        continue
                    rtts.setdefault(parts[2], []).append(float(parts[1]))
        return rtts

    def step(self, kind, side, rate, duration, registrars, pools):
        """One rung: `rate` registrations or calls per second for `duration` s through `side`."""
        self.steps += 1
        cwd = os.path.join(self.dir, f"step{self.steps:02d}-{kind}-{side.key}-{rate}")
        os.makedirs(cwd)
        n = self.args.sipp
        per = rate / n
        calls = max(1, int(round(per * duration)))
        specs, uas = [], []
        timeout = duration + 5    # a passing rung ends in time; a failing one needs no more to tell
        for i in range(n):
            if kind == "reg":
                port = bench_port()
                specs.append(self.sipp_cmd(os.path.join(SCENARIOS, "register_rtd.xml"), side.port, port, cwd,
                                           f"reg{i}", calls=calls, rate=per, inf=pools[side.key][i],
                                           timeout=timeout) + (calls,))
            else:
                # Fresh ports each rung: anything an earlier rung left behind in a proxy or the
                # registrar (a 408 for a call SIPp gave up on, an INVITE retransmitted to a callee
                # that is gone) goes to a closed port, not to this rung's phones.
                caller, callee = pools[side.key][i]
                for phone in (caller, callee):
                    phone["port"] = bench_port()
                    register_phone(self, side.port, phone["user"], phone["port"])
                uas.append(self.sipp_cmd(os.path.join(SCENARIOS, "uas_bench_answer.xml"), side.port,
                                         callee["port"], cwd, f"uas{i}", calls=calls, timeout=timeout) + (calls,))
                specs.append(self.sipp_cmd(os.path.join(SCENARIOS, "uac_bench_call.xml"), side.port, caller["port"],
                                           cwd, f"uac{i}", calls=calls, rate=per, inf=caller["inf"],
                                           service=callee["user"], timeout=timeout) + (calls,))
        cpu0 = side.cpu()
        drops0 = (udp_drops([side.port]), udp_drops([r.port for r in registrars]))
        reg0 = sum(session_cpu(r.process.pid) for r in registrars)
        sipp0 = children_cpu()
        results, wall = self.run_sipps(specs, duration, cwd, uas)
        proxy_cpu = side.cpu() - cpu0
        sipp_drops = self.last_sipp_drops
        proxy_drops = udp_drops([side.port]) - drops0[0]
        registrar_drops = udp_drops([r.port for r in registrars]) - drops0[1]
        reg_cpu = sum(session_cpu(r.process.pid) for r in registrars) - reg0
        sipp_cpu = children_cpu() - sipp0
        done = sum(r["ok"] for r in results if r["role"] == "uac")
        failed = sum(r["failed"] for r in results)
        retrans = sum(r["retrans"] for r in results)
        on_pace = wall <= duration * 1.1 + 3
        passed = (all(r["rc"] == 0 and r["ok"] == r["expected"] for r in results) and failed == 0
                  and retrans == 0 and on_pace)
        rtts = self.response_times(cwd)
        res = {"kind": kind, "side": side.key, "rate": rate, "duration": duration, "done": done, "failed": failed,
               "retrans": retrans, "wall": round(wall, 2), "passed": passed,
               "proxy_cpu": round(proxy_cpu, 3), "registrar_cpu": round(reg_cpu, 3), "sipp_cpu": round(sipp_cpu, 3),
               "proxy_drops": proxy_drops, "registrar_drops": registrar_drops, "sipp_drops": sipp_drops,
               "proxy_cpu_per_1000": round(proxy_cpu * 1000 / done, 4) if done else None,
               "rtt": {k: {"median": percentile(v, 0.5), "p99": percentile(v, 0.99), "mean": statistics.fmean(v),
                           "n": len(v)}
                       for k, v in rtts.items()}}
        print(f"  {kind:4} {side.label:10} {rate:5}/s x {duration:>2}s: {'pass' if passed else 'FAIL'}"
              f"  done {done} failed {failed} retrans {retrans} wall {wall:.1f}s"
              f" | CPU s: proxy {proxy_cpu:.2f} registrar {reg_cpu:.2f} sipp {sipp_cpu:.2f}"
              f" | UDP drops: proxy {proxy_drops} registrar {registrar_drops} sipp {sipp_drops}", flush=True)
        return res

    def ladder(self, kind, sides, start, top, duration, registrars, pools, budget):
        """Per side: `start`, then doubling up to `top` until the first failed rung, then one rung
        halfway between the last pass and that failure (rounded to 50), while it is at least 25 %
        above the pass. The sides run each rate in turn, so machine noise hits both alike.
        Bounded by `budget` seconds."""
        began = time.monotonic()
        state = {s.key: {"pass": None, "fail": None} for s in sides}

        def next_rate(st):
            if st["fail"] is None:
                rate = start if st["pass"] is None else min(top, st["pass"] * 2)
                return rate if st["pass"] is None or rate > st["pass"] else None
            if st["pass"] is None:
                return None
            mid = int(round((st["pass"] + st["fail"]) / 2 / 50) * 50)
            return mid if mid >= st["pass"] * 1.25 and mid < st["fail"] else None

        steps = []
        while True:
            todo = [(s, next_rate(state[s.key])) for s in sides]
            todo = [(s, r) for s, r in todo if r is not None]
            if not todo:
                return steps
            for side, rate in todo:
                if time.monotonic() - began + duration + 5 > budget:
                    print(f"  ({kind} ladder stopped: its {budget:.0f} s budget is spent)")
                    return steps
                r = self.step(kind, side, rate, duration, registrars, pools)
                steps.append(r)
                state[side.key]["pass" if r["passed"] else "fail"] = rate


def user_pools(bench, prefix, count, n):
    """`count` users named prefix0…, dealt into n injection files: [(path, users in it)]."""
    pools = []
    for i in range(n):
        names = [f"{prefix}{j}" for j in range(i, count, n)]
        pools.append((bench.users(names, f"{prefix}-{i}"), len(names)))
    return pools


def register_all(bench, target, pools, rate, timeout=60):
    """Registers every pool's users once through `target` (plain register.xml, several SIPp)."""
    specs = []
    cwd = os.path.join(bench.dir, f"prereg-{target}-{time.monotonic_ns()}")
    os.makedirs(cwd)
    for i, (inf, count) in enumerate(pools):
        port = bench_port()
        argv, trace = bench.sipp_cmd("register.xml", target, port, cwd, f"prereg{i}", calls=count,
                                     rate=rate / len(pools), inf=inf, timeout=timeout)
        specs.append((argv, trace, count))
    results, wall = bench.run_sipps(specs, timeout, cwd)
    return sum(r["ok"] for r in results), sum(r["failed"] for r in results), wall


def register_phone(bench, target, user, port):
    # One Contact URI whatever the source port, so a phone registering again from another port
    # replaces its binding at the registrar (calls reach it by its flow, through Path).
    r = bench.sipp("register.xml", target, port, inf=bench.users([user], f"{user}-{port}"), keys={"contact_port": "5060"})
    if r.rc != 0:
        raise RuntimeError(f"{user} did not register through port {target}: {r}")


def failover_phase(bench, args, reg_rate):
    """Switchback only: kill -9 of the primary with `args.bindings` bindings; detection, paced
    re-registration on the secondary and its highest 1-s rate against the cap."""
    print(f"failover: {args.bindings} bindings, cap {args.cap}/s", flush=True)
    primary = bench.kamailio("fo-primary", shm_mb=256)
    secondary = bench.kamailio("fo-secondary", shm_mb=256)
    sb = bench.switchback([("primary", primary.uri), ("secondary", secondary.uri)], tcp=False, name="switchback-fo",
                          extra_yaml=f"failover: {{ reRegisterOn: 1, failRegistrationOn: 1 }}\n"
                                     f"pacing: {{ registrations_per_second: {args.cap} }}\n")

    def node(name):
        return next(n for n in sb.status()["nodes"] if n["name"] == name)

    wait_until(lambda: node("secondary")["probe_latency_ms"] is not None, 5)
    pools = user_pools(bench, "f", args.bindings, args.sipp)
    ok, failed, wall = register_all(bench, sb.port, pools, reg_rate, timeout=args.bindings / reg_rate + 30)
    registered = sb.status()["bindings"]["registered_by_node"].get("primary", 0)
    print(f"  {ok} registered through Switchback in {wall:.1f} s ({failed} failed); {registered} on the primary")
    t0 = time.monotonic()
    primary.crash()
    down = wait_until(lambda: not node("primary")["usable"], 5, interval=0.01)
    detected = time.monotonic()
    samples = []
    deadline = detected + registered / args.cap * 2 + 20
    while time.monotonic() < deadline:
        st = sb.status()
        samples.append((time.monotonic(), st["failover"]["reregistration"]["registered"]))
        if st["bindings"]["registered_by_node"].get("secondary", 0) >= registered:
            break
        time.sleep(0.05)
    done = time.monotonic()
    on_secondary = sb.status()["bindings"]["registered_by_node"].get("secondary", 0)
    peak = Harness.peak_rate(samples)
    result = {"bindings": registered, "detection_ms": round((detected - t0) * 1000) if down else None,
              "reregistered": on_secondary, "reregister_wall_s": round(done - detected, 2), "cap": args.cap,
              "peak_rate": round(peak)}
    print(f"  detection {result['detection_ms']} ms; {on_secondary}/{registered} re-registered on the secondary in "
          f"{result['reregister_wall_s']} s; highest 1-s rate {peak:.0f}/s (cap {args.cap}/s)", flush=True)
    sb.process.stop()
    secondary.process.stop()
    return result


def settled_memory(sb, rss0):
    """(status, registrants, RSS in KiB, bytes per registrant over rss0) once the registrations'
    transactions are gone: server transactions over UDP keep their final response for Timer J
    (64*T1 = 32 s) after the last answer, so this waits for them (probes keep a few dozen)."""
    wait_until(lambda: sb.status()["transactions"] < 100, 45, 0.5)
    time.sleep(1)
    st = sb.status()
    registrants = st["bindings"]["registrants"]
    rss1 = rss_kib(sb.process.pid)
    return st, registrants, rss1, ((rss1 - rss0) * 1024 / registrants if registrants else None)


def memory_phase(bench, args, reg_rate):
    """Switchback only: RSS with `args.memory_bindings` bindings minus RSS with none."""
    count = args.memory_bindings
    print(f"memory: {count} bindings", flush=True)
    registrar = bench.kamailio("mem-registrar", shm_mb=max(64, count // 200))
    # Keep-alives on, so their per-flow state is counted; CRLF ones, because the SIPp phones are
    # gone once registered and OPTIONS to them would leave transactions retransmitting.
    sb = bench.switchback([("primary", registrar.uri)], tcp=False, name="switchback-mem",
                          extra_yaml="nat: { keepalive_interval_s: 25, keepalive_method: crlf }\n")
    time.sleep(1)
    rss0 = rss_kib(sb.process.pid)
    heap0 = sb.status()["process"]["memory"]["heap_in_use_bytes"]
    pools = user_pools(bench, "m", count, args.sipp)
    ok, failed, wall = register_all(bench, sb.port, pools, reg_rate, timeout=count / reg_rate + 60)
    st, registrants, rss1, per = settled_memory(sb, rss0)
    result = {"bindings": registrants, "rss_none_kib": rss0, "rss_full_kib": rss1,
              "bytes_per_binding": round(per) if per else None, "register_wall_s": round(wall, 1),
              "register_failed": failed, "rate": reg_rate, "transactions_left": st["transactions"],
              "heap_in_use_per_binding": round((st["process"]["memory"]["heap_in_use_bytes"] - heap0) / registrants)
              if registrants else None}
    print(f"  {registrants} bindings ({failed} registrations failed, {wall:.1f} s at {reg_rate}/s; "
          f"{st['transactions']} transactions left): RSS {rss0} KiB -> {rss1} KiB = "
          f"{result['bytes_per_binding']} bytes per binding (of which in use on the heap: "
          f"{result['heap_in_use_per_binding']})", flush=True)
    sb.process.stop()
    registrar.process.stop()
    return result


def best(steps, kind, side):
    passed = [s for s in steps if s["kind"] == kind and s["side"] == side and s["passed"]]
    return max(passed, key=lambda s: s["rate"]) if passed else None


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "n/a"


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    return f"{v:.3f}{unit}" if isinstance(v, float) and v < 10 else f"{v:.0f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Linux {platform.release()}"


def table(results):
    steps = results["steps"]
    rows = ["| figure | Switchback | Kamailio | Switchback/Kamailio |", "| --- | --- | --- | --- |"]

    def add(name, a, b, note=""):
        rows.append(f"| {name} | {fmt(a)} | {fmt(b)} | {ratio(a, b)}{note} |")

    for kind, what in (("reg", "REGISTER with digest auth"), ("call", "calls (INVITE/180/200/ACK/BYE)")):
        s, k = best(steps, kind, "sb"), best(steps, kind, "ka")
        add(f"{what}: highest rate held {results['duration']} s, 0 failures, 0 retransmissions (/s)",
            s and s["rate"], k and k["rate"], " (higher is better)")
        add(f"{what}: proxy CPU s per 1,000 at that rate", s and s["proxy_cpu_per_1000"],
            k and k["proxy_cpu_per_1000"], " (lower is better)")
        m = results["moderate"][kind]
        ms = next((x for x in steps if x["kind"] == kind and x["side"] == "sb" and x["rate"] == m), None)
        mk = next((x for x in steps if x["kind"] == kind and x["side"] == "ka" and x["rate"] == m), None)
        add(f"{what}: proxy CPU s per 1,000 at {m}/s", ms and ms["proxy_cpu_per_1000"],
            mk and mk["proxy_cpu_per_1000"], " (lower is better)")
        for rtd, label in (("1", "REGISTER to 200 (both round trips)" if kind == "reg" else "INVITE to 180"),) + \
                (((("2", "BYE to 200"),) if kind == "call" else ())):
            for q in ("median", "p99", "mean"):
                a = ms and ms["rtt"].get(rtd, {}).get(q)
                b = mk and mk["rtt"].get(rtd, {}).get(q)
                add(f"{what}: SIPp response time {label}, {q} at {m}/s (ms)", a, b, " (lower is better)")
    idle = results.get("idle_cpu_per_s", {})
    add("idle: proxy CPU s per second with no load (timers, probes)", idle.get("sb"), idle.get("ka"), " (lower is better)")
    fo = results.get("failover")
    if fo:
        rows.append(f"| failover: detection after kill -9 of the primary | {fo['detection_ms']} ms | — | — |")
        rows.append(f"| failover: {fo['reregistered']:,} of {fo['bindings']:,} bindings re-registered on the secondary "
                    f"(cap {fo['cap']}/s) | {fo['reregister_wall_s']} s | — | — |")
        rows.append(f"| failover: highest 1-s re-registration rate (cap {fo['cap']}/s) | {fo['peak_rate']}/s | — | — |")
    mem = results.get("memory")
    if mem:
        rows.append(f"| memory per binding: (RSS with {mem['bindings']:,} − RSS with none) / {mem['bindings']:,} | "
                    f"{mem['bytes_per_binding']} bytes | — | — |")
    lines = ["\n".join(rows), "", "Every rung (CPU seconds over the rung, per process):", "",
             "| load | proxy | rate/s | result | done | failed | retrans | wall s | proxy CPU s | registrar CPU s | SIPp CPU s "
             "| UDP drops at proxy | at registrar | at SIPp |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in steps:
        lines.append(f"| {s['kind']} | {'Switchback' if s['side'] == 'sb' else 'Kamailio'} | {s['rate']} | "
                     f"{'pass' if s['passed'] else 'FAIL'} | {s['done']} | {s['failed']} | {s['retrans']} | {s['wall']} | "
                     f"{s['proxy_cpu']} | {s['registrar_cpu']} | {s['sipp_cpu']} | {s['proxy_drops']} | "
                     f"{s['registrar_drops']} | {s['sipp_drops']} |")
    return "\n".join(lines)


def goals(results):
    """Each figure the scale issue (14) sets a goal for, against it: the CPU ratio Kamailio ÷
    Switchback per unit of work at 500/s, 2,000/s and each side's peak (a ratio only where both
    held the rate), memory per binding at 100,000, and the million's figures."""
    rows = ["| figure | measured | goal | |", "| --- | --- | --- | --- |"]

    def add(name, value, goal, met, unit=""):
        shown = "n/a" if value is None else (f"{value:,.2f}" if isinstance(value, float) else f"{value:,}") + unit
        rows.append(f"| {name} | {shown} | {goal} | {'n/a' if value is None else 'met' if met else 'MISSED'} |")

    steps = results.get("steps", [])
    for kind, what in (("reg", "registrations"), ("call", "calls")):
        if not any(x["kind"] == kind for x in steps):
            continue
        passed = {side: {x["rate"]: x for x in steps if x["kind"] == kind and x["side"] == side and x["passed"]}
                  for side in ("sb", "ka")}
        both = sorted(set(passed["sb"]) & set(passed["ka"]))
        rates = [(r, f"{r:,}/s") for r in (500, 1000, 2000) if r in both]
        if both and both[-1] not in (500, 1000, 2000):
            rates.append((both[-1], f"{both[-1]:,}/s (the highest both held)"))
        for r, label in rates:
            q = passed["ka"][r]["proxy_cpu_per_1000"] / passed["sb"][r]["proxy_cpu_per_1000"]
            add(f"{what}: Kamailio ÷ Switchback CPU per 1,000 at {label}", q, "≥ 2", q >= 2)
        for r in (500, 2000):
            if r not in both:
                add(f"{what}: Kamailio ÷ Switchback CPU per 1,000 at {r:,}/s (not held by both)", None, "≥ 2", False)
        sb, ka = best(steps, kind, "sb"), best(steps, kind, "ka")
        if sb and ka:
            q = ka["proxy_cpu_per_1000"] / sb["proxy_cpu_per_1000"]
            add(f"{what}: Kamailio ÷ Switchback CPU per 1,000 at the peaks ({ka['rate']:,} and {sb['rate']:,}/s)",
                q, "≥ 2", q >= 2)
    mem = results.get("memory")
    if mem:
        add(f"memory per binding at {mem['bindings']:,} (RSS)", mem["bytes_per_binding"], "≤ 1,500 bytes",
            mem["bytes_per_binding"] is not None and mem["bytes_per_binding"] <= 1500, " bytes")
    mil = results.get("million")
    if mil:
        add(f"{mil.get('count', 0):,} bindings: memory per binding (RSS)", mil.get("bytes_per_binding"), "≤ 1,500 bytes",
            (mil.get("bytes_per_binding") or 1e9) <= 1500, " bytes")
        add("idle CPU with them", mil.get("idle_cpu_percent"), "≤ 2 % of a core",
            (mil.get("idle_cpu_percent") or 1e9) <= 2, " %")
        add("OPTIONS answer time during the failover of all, p99", mil.get("options_p99_ms"), "< 10 ms",
            (mil.get("options_p99_ms") or 1e9) < 10, " ms")
        add("restart from the store", mil.get("restore_ms"), "< 10,000 ms", (mil.get("restore_ms") or 1e9) < 10000, " ms")
    return "\n".join(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--switchback", required=True, help="path to the switchback binary (a Release build)")
    p.add_argument("--quick", action="store_true", help="5 s rungs, 2,000 failover and 20,000 memory bindings")
    p.add_argument("--duration", type=int, help="seconds per rung (default 20; --quick 5)")
    p.add_argument("--reg-start", type=int, default=2000,
                   help="the REGISTER ladder's first rung (registrations/s), the common moderate rate (default 2000)")
    p.add_argument("--reg-rates", help="REGISTER rungs to run, each once per side, instead of the ladder "
                                       "(e.g. 500,1000; the first is the moderate rate)")
    p.add_argument("--call-start", type=int, default=600,
                   help="the call ladder's first rung (calls/s), the common moderate rate (default 600)")
    p.add_argument("--sipp", type=int, default=2, help="SIPp client processes per rung (default 2)")
    p.add_argument("--kamailio-children", type=int, default=2, help="Kamailio proxy's UDP worker processes")
    p.add_argument("--kamailio-shm", type=int, default=2048, help="Kamailio proxy's shared memory, MB (default 2048)")
    p.add_argument("--bindings", type=int, help="failover: bindings to re-register (default 10,000)")
    p.add_argument("--cap", type=int, default=1000, help="failover: pacing.registrations_per_second (default 1000)")
    p.add_argument("--memory-bindings", type=int, help="memory: bindings (default 100,000)")
    p.add_argument("--memory-rate", type=int,
                   help="memory: registrations a second (default 80 %% of the ladder's best, at most 3,000; "
                        "1,000 without the ladder)")
    p.add_argument("--million-count", type=int, help="million: bindings (default 1,000,000; --quick 100,000)")
    p.add_argument("--only", choices=["reg", "call", "failover", "memory", "million"], action="append",
                   help="run only these parts (repeatable)")
    p.add_argument("--json", help="also write the results as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (SIPp logs, configs)")
    args = p.parse_args()
    args.duration = args.duration or (5 if args.quick else 20)
    if args.reg_rates:
        args.reg_start = int(args.reg_rates.split(",")[0])
    args.bindings = args.bindings or (2000 if args.quick else 10000)
    args.memory_bindings = args.memory_bindings or (20000 if args.quick else 100000)
    args.million_count = args.million_count or (100000 if args.quick else 1000000)
    parts = args.only or ["reg", "call", "failover", "memory", "million"]
    if parts == ["million"]:  # neither Kamailio nor SIPp: the loader and the stand-ins are Python
        import million
        million.run(os.path.abspath(args.switchback), args.million_count, keep=args.keep)
        return
    for tool in ("kamailio", "sipp"):
        if not any(os.access(os.path.join(d, tool), os.X_OK) for d in os.environ.get("PATH", "").split(":")):
            sys.exit(f"{tool} is not installed (scripts/install-deps.sh installs it)")

    started = time.monotonic()
    bench = Bench(args)
    print(f"Switchback vs Kamailio dispatcher, {machine()}; files in {bench.dir}", flush=True)
    # An overloaded call rung leaves the registrar with tens of thousands of INVITE transactions
    # (fr_inv_timer, 120 s): with 128 MB it ran out of shared memory and answered the next rungs'
    # INVITEs with 500, whichever proxy was in front.
    registrar = bench.kamailio("registrar", shm_mb=1024)
    standby = bench.kamailio("standby", shm_mb=64)   # the secondary both proxies probe
    sb = bench.switchback([("primary", registrar.uri), ("secondary", standby.uri)], tcp=False)
    ka = DispatcherProxy(bench, "kamailio-proxy", [registrar.uri, standby.uri], args.kamailio_children,
                         args.kamailio_shm)
    bench.processes.append(ka.process)
    sides = [Side("sb", "Switchback", sb.port, sb.process, False),
             Side("ka", "Kamailio", ka.port, ka.process, True)]
    registrars = [registrar, standby]
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(), "duration": args.duration, "sipp_processes": args.sipp,
               "kamailio_children": args.kamailio_children, "steps": [],
               "moderate": {"reg": args.reg_start, "call": args.call_start}}
    # What each proxy spends doing nothing (timers, probes of both registrars) over the rungs' length.
    idle0 = [s.cpu() for s in sides]
    time.sleep(4)
    results["idle_cpu_per_s"] = {s.key: round((s.cpu() - c) / 4, 4) for s, c in zip(sides, idle0)}
    # Time left for the ladders: 10 minutes in all, less what the failover and memory parts take.
    budget = 540 if not args.quick else 300
    reserve = (0 if "failover" not in parts else (25 + args.bindings / args.cap + args.bindings / 1500)) + \
              (0 if "memory" not in parts else (50 + args.memory_bindings / 3000))
    ladder_budget = max(60, budget - reserve - 20)
    n = args.sipp
    if "reg" in parts:
        pools = {s.key: [bench.users([f"{s.key}r{i}-{j}" for j in range(2000)], f"{s.key}-reg{i}") for i in range(n)]
                 for s in sides}
        print(f"REGISTER ladder ({args.duration} s a rung, {n} SIPp clients):", flush=True)
        share = ladder_budget * (0.45 if "call" in parts else 1.0)
        if args.reg_rates:
            for rate in (int(r) for r in args.reg_rates.split(",")):
                for side in sides:
                    results["steps"].append(bench.step("reg", side, rate, args.duration, registrars, pools))
        else:
            results["steps"] += bench.ladder("reg", sides, args.reg_start, 32 * args.reg_start, args.duration,
                                             registrars, pools, share)
    if "call" in parts:
        pools = {}
        for s in sides:
            pools[s.key] = []
            for i in range(n):
                caller = {"user": f"{s.key}a{i}", "port": bench_port()}
                callee = {"user": f"{s.key}b{i}", "port": bench_port()}
                for phone in (caller, callee):
                    register_phone(bench, s.port, phone["user"], phone["port"])
                caller["inf"] = bench.users([caller["user"]], f"{caller['user']}-calls")
                pools[s.key].append((caller, callee))
        print(f"call ladder ({args.duration} s a rung, {n} SIPp callers and {n} callees):", flush=True)
        spent = time.monotonic() - started
        results["steps"] += bench.ladder("call", sides, args.call_start, 32 * args.call_start, args.duration, registrars, pools,
                                         max(60, budget - reserve - spent))
    # What Switchback counted over the ladders: anything it refused or dropped explains a failed rung.
    m = sb.metrics()
    results["switchback_counters"] = {k: v for k, v in m.items() if v and any(
        w in k for w in ("rejected", "dropped", "retransmissions_absorbed", "timeouts", "send_errors"))}
    print(f"Switchback counters after the ladders: {results['switchback_counters']}", flush=True)
    sb_reg = best(results["steps"], "reg", "sb")
    reg_rate = min(3000, int(0.8 * sb_reg["rate"])) if sb_reg else 1000
    # The ladder's proxies and registrars are done: the next parts start their own.
    for proc in (ka.process, sb.process, registrar.process, standby.process):
        proc.stop()
    if "failover" in parts:
        results["failover"] = failover_phase(bench, args, reg_rate)
    if "memory" in parts:
        results["memory"] = memory_phase(bench, args, args.memory_rate or reg_rate)
    if "million" in parts:
        import million
        results["million"] = million.run(bench.binary, args.million_count, keep=args.keep)
    results["wall_s"] = round(time.monotonic() - started)
    print()
    print(f"Date: {results['date']}. Machine: {results['machine']}. Rungs of {args.duration} s; {n} SIPp clients; "
          f"Kamailio proxy with {args.kamailio_children} UDP workers; total {results['wall_s']} s.")
    print()
    print(table(results))
    print()
    print("Issue 14's goals, each against this run's figure:")
    print()
    print(goals(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
