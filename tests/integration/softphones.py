"""Real softphones from Debian driven by the integration tests, next to harness.py: baresip
(through its ctrl_tcp module: netstring JSON commands and events) and linphonec (commands on a
pipe to its stdin, state read from its output). Each phone has its own config directory and HOME
in the test's temp dir (it never reads the real one), no sound card, only loopback addresses, and
is stopped by its PID through the harness."""
import json
import os
import socket

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

    def dial(self, user):
        self.command("dial", f"sip:{user}@example.com")

    def hangup(self):
        self.command("hangup")

    def alive(self):
        return self.process.alive()

    def log(self):
        return self.process.output()
