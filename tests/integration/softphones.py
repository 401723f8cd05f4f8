"""Real softphones from Debian driven by the integration tests, next to harness.py: baresip
(through its ctrl_tcp module: netstring JSON commands and events) and linphonec (commands on a
pipe to its stdin, state read from its output). Each phone has its own config directory and HOME
in the test's temp dir (it never reads the real one), no sound card, only loopback addresses, and
is stopped by its PID through the harness."""
import json
import os
import re
import socket
import subprocess
import time

from harness import PASSWORD, Process, free_port, port_bound, wait_until


def free_port_pair():
    """A free port whose next port is free too: baresip binds TLS on its SIP port + 1."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and not port_bound(port + 1):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no two free ports in a row")


class Baresip:
    """baresip 1.0 registered as sip:USER@example.com through Switchback (its outbound proxy),
    answering calls by itself (answermode=auto), audio from and to aubridge (no device)."""

    def __init__(self, harness, user, proxy_port, regint=300, extra_account=""):
        self.harness, self.user = harness, user
        self.dir = os.path.join(harness.dir, f"baresip-{user}")
        os.makedirs(self.dir)
        self.port = free_port_pair()
        self.ctrl_port = free_port()
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(f"""sip_listen 127.0.0.1:{self.port}
net_interface 127.0.0.1
rtp_ports 20000-29999
call_local_timeout 120
audio_player aubridge,{user}
audio_source aubridge,{user}
audio_alert aubridge,{user}
module_path /usr/lib/baresip/modules
module g711.so
module aubridge.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}
""")
        # The account as an administrator writes it: Switchback is the outbound proxy, the
        # registrar's domain in the AOR, digest password, a short registration interval. It is
        # created (uanew) once the test listens to ctrl_tcp, so the test sees REGISTER_OK.
        self.account = (f'<sip:{user}@example.com>;auth_pass={PASSWORD};outbound="sip:127.0.0.1:{proxy_port}"'
                        f";answermode=auto;audio_codecs=pcmu;regint={regint}{extra_account}")
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("# the account is added through ctrl_tcp (uanew)\n")
        self.events = []
        self.commands = []   # what the test asked the phone to do, in order
        self._buffer = b""
        self.process = Process(f"baresip-{user}", ["env", f"HOME={self.dir}", "baresip", "-f", self.dir, "-v"],
                               os.path.join(self.dir, "baresip.log"), cwd=self.dir)
        harness.processes.append(self.process)
        if not wait_until(lambda: port_bound(self.ctrl_port) or not self.process.alive(), 15):
            raise RuntimeError(f"baresip {user} did not start:\n{self.process.output()[-3000:]}")
        self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5)
        self.sock.settimeout(0.2)
        self.command("uanew", self.account)

    def _read(self):
        """Takes what ctrl_tcp sent (netstrings "LEN:JSON,") into self.events."""
        try:
            data = self.sock.recv(65536)
            if data:
                self._buffer += data
        except socket.timeout:
            pass
        except OSError:
            return
        while b":" in self._buffer:
            length, rest = self._buffer.split(b":", 1)
            n = int(length)
            if len(rest) < n + 1:
                break
            self.events.append(json.loads(rest[:n]))
            self._buffer = rest[n + 1:]

    def command(self, name, params=""):
        self.commands.append((name, params))
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def types(self):
        """The event types seen so far, oldest first."""
        self._read()
        return [e.get("type") for e in self.events if e.get("event")]

    def wait_event(self, kind, timeout, after=0):
        """Whether event `kind` came, the (after+1)th or later event of the phone, within timeout."""
        return wait_until(lambda: kind in self.types()[after:], timeout)

    def count(self, kind):
        return self.types().count(kind)

    def established(self):
        return self.count("CALL_ESTABLISHED")

    def closed(self):
        return self.count("CALL_CLOSED")

    def dial(self, user):
        self.command("dial", f"sip:{user}@example.com")

    def hangup(self):
        self.command("hangup")

    def alive(self):
        return self.process.alive()

    def log(self):
        return self.process.output()


class _PipedProcess(Process):
    """A Process whose stdin is a pipe the test writes commands to, with its own environment."""

    def __init__(self, name, argv, log_path, cwd, env):
        self.name, self.log_path = name, log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=cwd, env=env, start_new_session=True)


class Linphonec:
    """linphonec (linphone-cli 5.1) registered as sip:USER@example.com through Switchback (its
    proxy), auto-answering (-a), state messages on its output (-S), wav files instead of a sound
    card ("soundcard use files"), commands written to its stdin."""

    def __init__(self, harness, user, proxy_port, expires=300, sip_extra=""):
        self.harness, self.user = harness, user
        self.dir = os.path.join(harness.dir, f"linphonec-{user}")
        os.makedirs(os.path.join(self.dir, ".local", "share", "linphone"))
        self.port = free_port()
        self.config = os.path.join(self.dir, "linphonerc")
        # As an administrator provisions it: UDP only on a loopback port, Switchback as the
        # proxy, the registrar's domain in the identity, digest credentials, no video.
        with open(self.config, "w") as f:
            f.write(f"""[sip]
sip_port={self.port}
sip_tcp_port=-1
sip_tls_port=-1
bind_address=127.0.0.1
default_proxy=0
use_ipv6=0
{sip_extra}
[rtp]
audio_rtp_port=30000-39999
bind_address=127.0.0.1
[video]
enabled=0
capture=0
display=0
[sound]
echocancellation=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:{proxy_port}>
reg_route=<sip:127.0.0.1:{proxy_port};lr>
reg_identity=<sip:{user}@example.com>
reg_expires={expires}
reg_sendregister=1
publish=0
[auth_info_0]
username={user}
passwd={PASSWORD}
realm=example.com
domain=example.com
""")
        self.commands = []
        env = dict(os.environ, HOME=self.dir, XDG_DATA_HOME=os.path.join(self.dir, ".local", "share"),
                   XDG_CONFIG_HOME=os.path.join(self.dir, ".config"))
        self.process = _PipedProcess(f"linphonec-{user}", ["linphonec", "-c", self.config, "-a", "-S", "-d", "4"],
                                     os.path.join(self.dir, "linphonec.log"), self.dir, env)
        harness.processes.append(self.process)
        self.command("soundcard use files")

    def command(self, line):
        self.commands.append(line)
        self.process.proc.stdin.write(line.encode() + b"\n")
        self.process.proc.stdin.flush()

    def log(self):
        return self.process.output()

    def count(self, pattern):
        """How many lines of its output match the regular expression."""
        return len(re.findall(pattern, self.log(), re.MULTILINE))

    def established(self):
        """Calls linphonec reported connected ("Call 1 with sip:bob@example.com connected.")."""
        return self.count(r"^Call \d+ with \S+ connected\.")

    def closed(self):
        return self.count(r"^Call \d+ with \S+ ended")

    def registered(self):
        """Times liblinphone reported the account registered (its own state change)."""
        return self.count(r"moving from state \[LinphoneRegistrationProgress\] to \[LinphoneRegistrationOk\]")

    def dial(self, user):
        self.command(f"call sip:{user}@example.com")

    def hangup(self):
        self.command("terminate all")

    def alive(self):
        return self.process.alive()


def call(h, caller, callee, via, other, tag):
    """caller dials callee; both phones report the call established, and closed after the caller
    hangs up; the INVITE and the BYE reached registrar `via`, nothing of it `other`."""
    before = (caller.established(), callee.established(), caller.closed(), callee.closed())
    invites = (len(via.requests("INVITE")), len(other.requests("INVITE")))
    start = time.monotonic()
    caller.dial(callee.user)
    established = wait_until(lambda: caller.established() > before[0] and callee.established() > before[1], 30)
    setup = time.monotonic() - start
    h.check(established, f"[{tag}] {caller.user} calls {callee.user}: both phones say the call is established",
            caller.log()[-2500:] + callee.log()[-2500:])
    h.check(len(via.requests("INVITE")) > invites[0] and len(other.requests("INVITE")) == invites[1],
            f"[{tag}] … the INVITE went via the {via.name}, none via the {other.name}", via.requests("INVITE"))
    byes = len(via.requests("BYE"))
    time.sleep(0.5)
    caller.hangup()
    closed = wait_until(lambda: caller.closed() > before[2] and callee.closed() > before[3], 20)
    h.check(closed, f"[{tag}] {caller.user} hangs up: both phones say the call is closed")
    h.check(wait_until(lambda: len(via.requests("BYE")) > byes, 5), f"[{tag}] … the BYE went via the {via.name} too")
    h.figure(f"[{tag}] call setup (dial to both phones established): {setup * 1000:.0f} ms")
    return established and closed


def softphone_pair(h):
    """A Kamailio pair (same nonce secret; registrations of 10 s and up, so the phones' own
    refreshes come within the test) behind Switchback with reRegisterOn=1, failRegistrationOn=1,
    failBack newRequests and OPTIONS keep-alives to the phones every 3 s; both nodes probed."""
    primary = h.kamailio("primary", min_expires=10)
    secondary = h.kamailio("secondary", min_expires=10)
    sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml="""
failover: { reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: newRequests } }
nat: { keepalive_interval_s: 3 }
""")
    h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 10),
              "both nodes probed")
    return primary, secondary, sb


def registered_on(sb, phones, node):
    return all(sb.registered_on(p.user, node) for p in phones)


def failover_and_failback(h, primary, secondary, sb, alice, bob, regint):
    """The softphone scenario on a registered pair of phones: calls both ways via the primary; kill -9
    of the primary, Switchback registers both on the secondary by replay and the next call goes
    there with nothing sent to the phones; the primary restarts, the phones' own refreshes
    register them there (failBack newRequests: a REGISTER tries the primary first) and the next
    call goes via the primary."""
    call(h, alice, bob, primary, secondary, "before")
    h.check(call(h, bob, alice, primary, secondary, "before, the other way"), "calls work both ways before the failover")

    commands_before = len(alice.commands) + len(bob.commands)
    time.sleep(1.2)  # Kamailio refuses nonces from before its start, to the second (failback below)
    t0 = time.monotonic()
    primary.crash()
    h.require(wait_until(lambda: registered_on(sb, (alice, bob), "secondary"), 15),
              "both phones are registered on the secondary (by Switchback) after kill -9 of the primary",
              sb.status()["failover"])
    h.figure(f"kill -9 of the primary to both phones registered on the secondary: {time.monotonic() - t0:.2f} s")
    h.check(all(sb.binding(f"sip:{p.user}@example.com")["last_registered_by"] == "replay" for p in (alice, bob)),
            "… by replaying each phone's last REGISTER (the phones did nothing)")
    call(h, alice, bob, secondary, primary, "failover")
    h.check(len(alice.commands) + len(bob.commands) == commands_before + 2,
            "the phones were only told to dial and hang up (no re-registration asked for)")
    regs = secondary.requests("REGISTER")
    h.check(regs and all(r["source"] == f"127.0.0.1:{sb.port}" for r in regs),
            "the secondary got the REGISTERs from Switchback only", regs)

    primary.restart()
    h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 10), "the primary is back up")
    t1 = time.monotonic()
    h.require(wait_until(lambda: registered_on(sb, (alice, bob), "primary"), 3 * regint),
              f"both phones are registered on the primary again within {3 * regint} s (their own refreshes)",
              [sb.binding(f"sip:{p.user}@example.com") for p in (alice, bob)])
    h.figure(f"primary back to both phones registered on it: {time.monotonic() - t1:.1f} s (expires {regint} s)")
    h.check(all(sb.binding(f"sip:{p.user}@example.com")["last_registered_by"] == "phone" for p in (alice, bob)),
            "… by the phones' own REGISTERs")
    call(h, alice, bob, primary, secondary, "failback")
    h.check(alice.alive() and bob.alive(), "both phones are still running")
    st = sb.status()["failover"]
    h.check(st["failovers"] >= 2 and st["failbacks"] >= 1, "/status counts the failovers and the failback", st)



def stop_phones(h, sb, phones):
    """Stops the phones (SIGTERM, by PID) while Switchback still runs, so that the REGISTERs
    removing their bindings on the way out are answered and they exit at once; says whether
    Switchback saw the bindings go."""
    for p in phones:
        p.process.stop(timeout=10)
    gone = wait_until(lambda: not any((sb.binding(f"sip:{p.user}@example.com") or {}).get("contacts") for p in phones), 5)
    h.figure("on SIGTERM the phones " + ("unregistered through Switchback" if gone else "left their bindings in place"))
