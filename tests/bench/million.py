"""1,000,000 bindings in one Switchback (issue 14): memory, idle cost, failover, restart.

Registers --count bindings (default 1,000,000) through Switchback's real UDP receive path: a
synthetic loader here sends REGISTERs from --sockets source ports (--rate a second at most, a
bounded window in flight, each retransmitted at most twice) to Switchback, in front of two
registrar stand-ins (tests/bench/stand_in_registrar.py: 200 OK to everything, nothing kept, so
the figures are Switchback's, not Kamailio's). Then, each figure against its goal:

  1. resident memory per binding (RSS after minus RSS before, over the registrants it holds);
  2. CPU a second with the bindings idle (goal: at most 2 % of a core);
  3. failover of every registrant at once: the primary stand-in stops answering, Switchback
     queues a re-registration of each on the secondary (reRegisterOn, paced), while a prober
     sends OPTIONS to Switchback itself every 5 ms: the 99th percentile of their answer time
     from before the primary went silent to --failover-seconds after it was found down
     (goal: under 10 ms);
  4. restart from the store (SQLite): SIGTERM, start again, the time Switchback logs for
     reading every row back (goal: under 10 s), and that every registrant came back.

Every load is bounded in count and time, only loopback is used, and every process is ours and
stopped by PID. Standard library only; reuses tests/integration/harness.py. Run alone:
    python3 tests/bench/million.py --switchback build/proxy/switchback
or as part of the benchmark: python3 tests/bench/bench.py --switchback … --only million
"""
import argparse
import atexit
import os
import re
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from harness import Process, Switchback, wait_until  # noqa: E402

sys.path.insert(0, HERE)
from bench import percentile, rss_kib, settled_memory  # noqa: E402

DOMAIN = "example.com"


class Run:
    """What harness.Switchback needs of a harness: a directory and the processes to stop."""

    def __init__(self, keep=False):
        self.dir = tempfile.mkdtemp(prefix="switchback-million-")
        self.processes = []
        self.keep = keep
        atexit.register(self.cleanup)

    def cleanup(self):
        for p in reversed(self.processes):
            p.stop(signal.SIGKILL)
        self.processes = []
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def stand_in(run, name, seconds):
    port = harness.free_port()
    proc = Process(name, [sys.executable, os.path.join(HERE, "stand_in_registrar.py"), "--port", str(port),
                          "--seconds", str(seconds)], os.path.join(run.dir, f"{name}.log"))
    run.processes.append(proc)
    return port, proc


def register_message(user, port, expires):
    return (f"REGISTER sip:{DOMAIN} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-m{user};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:m{user}@{DOMAIN}>;tag=t{user}\r\n"
            f"To: <sip:m{user}@{DOMAIN}>\r\n"
            f"Call-ID: m{user}@million\r\n"
            f"CSeq: 1 REGISTER\r\n"
            f"Contact: <sip:m{user}@127.0.0.1:{port}>\r\n"
            f"Expires: {expires}\r\n"
            f"User-Agent: million-loader\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


PROBE_BRANCH = re.compile(rb"branch=z9hG4bK-p(\d+)")
CALL_ID = re.compile(rb"\r\n(?:Call-ID|i)\s*:\s*m(\d+)@million", re.IGNORECASE)


def options_message(n, port, target_port):
    return (f"OPTIONS sip:127.0.0.1:{target_port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-p{n}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:prober@{DOMAIN}>;tag=p\r\nTo: <sip:127.0.0.1:{target_port}>\r\n"
            f"Call-ID: probe{n}@million\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


def load(target_port, count, rate, sockets, window, expires, time_limit):
    """Registers users 0..count-1, with an OPTIONS to Switchback itself every 20 ms meanwhile;
    returns (registered, failed, wall seconds, OPTIONS answer times in ms)."""
    socks = []
    sel = selectors.DefaultSelector()
    for _ in range(sockets):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ)
    ports = [s.getsockname()[1] for s in socks]
    target = ("127.0.0.1", target_port)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    probe.setblocking(False)
    sel.register(probe, selectors.EVENT_READ)
    probes, rtts, next_probe = {}, [], 0.0
    outstanding = {}  # user -> (last sent, attempts)
    ok = failed = sent = 0
    start = time.monotonic()
    last_scan = start
    last_report = start

    def send(user):
        i = user % sockets
        try:
            socks[i].sendto(register_message(user, ports[i], expires), target)
        except BlockingIOError:
            pass

    try:
        while ok + failed < count and time.monotonic() - start < time_limit:
            now = time.monotonic()
            budget = min(int((now - start) * rate) - sent, window - len(outstanding), count - sent)
            for _ in range(max(0, budget)):
                outstanding[sent] = (now, 1)
                send(sent)
                sent += 1
            if now >= next_probe:
                next_probe = now + 0.02
                probes[len(probes)] = now
                probe.sendto(options_message(len(probes) - 1, probe.getsockname()[1], target_port), target)
            for key, _ in sel.select(timeout=0.002):
                s = key.fileobj
                if s is probe:
                    while True:
                        try:
                            data = probe.recv(65536)
                        except BlockingIOError:
                            break
                        m = PROBE_BRANCH.search(data)
                        if m and int(m.group(1)) in probes:
                            rtts.append((time.monotonic() - probes.pop(int(m.group(1)))) * 1000)
                    continue
                for _ in range(256):
                    try:
                        data = s.recv(65536)
                    except BlockingIOError:
                        break
                    m = CALL_ID.search(data)
                    if not m or data[8:9] == b"1":  # not ours, or provisional
                        continue
                    user = int(m.group(1))
                    if outstanding.pop(user, None) is None:
                        continue
                    if data.startswith(b"SIP/2.0 200"):
                        ok += 1
                    else:
                        failed += 1
            if now - last_scan > 1.0:  # retransmit what waited 4 s, give up after three sends
                last_scan = now
                for user, (at, attempts) in list(outstanding.items()):
                    if now - at < 4.0:
                        continue
                    if attempts >= 3:
                        del outstanding[user]
                        failed += 1
                    else:
                        outstanding[user] = (now, attempts + 1)
                        send(user)
            if now - last_report > 10.0:
                last_report = now
                print(f"    {ok} registered, {failed} failed, {len(outstanding)} in flight after {now - start:.0f} s",
                      flush=True)
    finally:
        for s in socks + [probe]:
            sel.unregister(s)
            s.close()
    return ok, failed + len(outstanding), time.monotonic() - start, rtts + [1000.0] * len(probes)


def options_prober(target_port, seconds, interval=0.005, on_tick=None):
    """OPTIONS to Switchback itself every `interval` s for `seconds` s, one at a time; returns
    the answer times in ms (an unanswered one counts as 1,000 ms) and how many went unanswered."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    target = ("127.0.0.1", target_port)
    rtts, lost, n = [], 0, 0
    end = time.monotonic() + seconds
    next_at = time.monotonic()
    last_tick = 0.0
    try:
        while time.monotonic() < end:
            n += 1
            msg = options_message(n, port, target_port)
            sent = time.monotonic()
            s.sendto(msg, target)
            answered = False
            while not answered:
                left = sent + 1.0 - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    break
                m = PROBE_BRANCH.search(data)
                answered = m is not None and int(m.group(1)) == n
            rtts.append((time.monotonic() - sent) * 1000 if answered else 1000.0)
            lost += 0 if answered else 1
            now = time.monotonic()
            if on_tick and now - last_tick >= 1.0:
                last_tick = now
                on_tick()
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        s.close()
    return rtts, lost


def restored_line(text):
    m = re.search(r"restored (\d+) registrants \((\d+) contacts\) in (\d+) ms", text)
    return (int(m.group(1)), int(m.group(3))) if m else None


def run(binary, count=1_000_000, rate=6000, sockets=500, window=3000, cap=1000, idle_seconds=30,
        failover_seconds=30, keep=False):
    r = Run(keep)
    print(f"million: {count} bindings through Switchback's UDP receive path, files in {r.dir}", flush=True)
    budget = count / rate * 3 + 600
    primary, _ = stand_in(r, "stand-in-primary", int(budget + 300))
    secondary, _ = stand_in(r, "stand-in-secondary", int(budget + 300))
    store = os.path.join(r.dir, "bindings.db")
    sb = Switchback(r, binary, [("primary", f"sip:127.0.0.1:{primary}"), ("secondary", f"sip:127.0.0.1:{secondary}")],
                    tcp=False, name="switchback-million",
                    extra_yaml=f"failover: {{ reRegisterOn: 1, failRegistrationOn: 1 }}\n"
                               f"pacing: {{ registrations_per_second: {cap} }}\n"
                               f"persistence: {{ path: \"{store}\" }}\n")
    wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 10)
    time.sleep(1)
    res = {"count": count, "rate": rate, "source_ports": sockets,
           "registrar": "stand-in (tests/bench/stand_in_registrar.py)"}
    rss0 = rss_kib(sb.process.pid)

    # 1. Registration through the real receive path, then memory.
    ok, failed, wall, load_rtts = load(sb.port, count, rate, sockets, window, 3600, time_limit=budget)
    res.update(load_options_p99_ms=round(percentile(load_rtts, 0.99), 2), load_options_max_ms=round(max(load_rtts), 2))
    print(f"  {ok} registered in {wall:.0f} s ({ok / wall:.0f}/s), {failed} failed; OPTIONS to Switchback meanwhile: "
          f"p99 {res['load_options_p99_ms']} ms, max {res['load_options_max_ms']} ms", flush=True)
    st, registrants, rss1, per = settled_memory(sb, rss0)
    res.update(registered=ok, failed=failed, register_wall_s=round(wall, 1), registrants=registrants,
               rss_before_kib=rss0, rss_after_kib=rss1, bytes_per_binding=round(per) if per else None)
    print(f"  memory: {registrants} registrants, RSS {rss0} -> {rss1} KiB: {res['bytes_per_binding']} bytes per "
          f"binding (goal <= 1500)", flush=True)

    # 2. Idle: nothing but timers, probes and the store.
    c0 = sb.process.cpu_seconds()
    time.sleep(idle_seconds)
    idle = (sb.process.cpu_seconds() - c0) / idle_seconds * 100
    res["idle_cpu_percent"] = round(idle, 2)
    print(f"  idle with {registrants} bindings: {idle:.2f} % of a core over {idle_seconds} s (goal <= 2 %)", flush=True)

    # 3. Failover of everyone: the primary goes silent; OPTIONS answer times meanwhile.
    marks = {}

    def watch():
        if "down" not in marks and not next(n for n in sb.status()["nodes"] if n["name"] == "primary")["usable"]:
            marks["down"] = time.monotonic()

    base, base_lost = options_prober(sb.port, 2)
    silenced = time.monotonic()
    log_before = len(sb.process.output())  # the failover's own line comes after this
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.sendto(b"SILENT", ("127.0.0.1", primary))
    c0 = sb.process.cpu_seconds()
    rtts, lost = options_prober(sb.port, failover_seconds + 10, on_tick=watch)
    cpu = sb.process.cpu_seconds() - c0
    st = sb.status()
    log = sb.process.output()[log_before:]
    m = re.search(r"failover from 'primary' \([^)]*\): (\d+) registrants affected, (\d+) queued", log)
    res.update(options_answered=len(rtts) - lost, options_unanswered=lost,
               options_p50_ms=round(percentile(rtts, 0.5), 2), options_p99_ms=round(percentile(rtts, 0.99), 2),
               options_max_ms=round(max(rtts), 2), options_p99_before_ms=round(percentile(base, 0.99), 2),
               detection_s=round(marks["down"] - silenced, 1) if "down" in marks else None,
               affected=int(m.group(1)) if m else None, queued=int(m.group(2)) if m else None,
               pending_after=st["failover"]["pending_registrants"],
               reregistered_after=st["failover"]["reregistration"]["registered"],
               failover_cpu_s=round(cpu, 1))
    print(f"  failover: primary found down {res['detection_s']} s after it went silent; {res['affected']} registrants "
          f"affected, {res['queued']} queued (cap {cap}/s; {res['reregistered_after']} re-registered, "
          f"{res['pending_after']} pending {failover_seconds + 10} s on)", flush=True)
    print(f"  OPTIONS answer time during it: p50 {res['options_p50_ms']} ms, p99 {res['options_p99_ms']} ms "
          f"(goal < 10 ms), max {res['options_max_ms']} ms, {lost} of {len(rtts)} unanswered; before it p99 "
          f"{res['options_p99_before_ms']} ms", flush=True)

    # 4. Restart from the store.
    stopped = time.monotonic()
    sb.signal(signal.SIGTERM)
    time.sleep(1)
    if sb.process.alive():
        sb.signal(signal.SIGTERM)  # draining: the second one stops now
    sb.process.proc.wait(timeout=180)
    sb.process.stop()
    res["stop_s"] = round(time.monotonic() - stopped, 1)
    sb.starts += 1
    log_path = os.path.join(r.dir, f"switchback-million-{sb.starts}.log")
    sb.process = Process("switchback-million", [binary, "--config", sb.config], log_path)
    r.processes.append(sb.process)
    restarted = time.monotonic()
    wait_until(lambda: restored_line(sb.process.output()) is not None or not sb.process.alive(), 120, 0.2)
    line = restored_line(sb.process.output())
    res["restart_wall_s"] = round(time.monotonic() - restarted, 1)
    res["restored"], res["restore_ms"] = line if line else (None, None)
    print(f"  restart: stopped in {res['stop_s']} s; restored {res['restored']} of {registrants} registrants in "
          f"{res['restore_ms']} ms by its log (goal < 10,000 ms; {res['restart_wall_s']} s to the log line)", flush=True)
    for p in reversed(r.processes):
        p.stop()
    r.processes = []
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--switchback", required=True, help="path to the switchback binary (a Release build)")
    p.add_argument("--count", type=int, default=1_000_000, help="bindings (default 1,000,000)")
    p.add_argument("--rate", type=int, default=6000, help="REGISTERs a second at most (default 6,000)")
    p.add_argument("--sockets", type=int, default=500, help="source ports of the loader (default 500)")
    p.add_argument("--cap", type=int, default=1000, help="pacing.registrations_per_second (default 1,000)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args()
    run(os.path.abspath(args.switchback), args.count, args.rate, args.sockets, cap=args.cap, keep=args.keep)


if __name__ == "__main__":
    main()
