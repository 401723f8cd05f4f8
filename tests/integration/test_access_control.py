"""No open relay and no strangers: an INVITE to an outside domain or with a Route to a host that is
not an upstream is refused, a request from a network not allowed is refused, a request whose Via
claims to be the upstream from another address is refused; scanners, deep Via stacks, too many
headers, a slowloris TCP stream and too many connections from one address are dropped or closed.
Each refusal is counted by reason; legitimate phones register before and after."""
import socket
import time

from harness import Harness, free_port, wait_until

h = Harness(__doc__, ports=(28000, 28299))  # this test's own port range
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)], extra_yaml=(
    "security: { phone_networks: [\"127.0.0.1/32\", \"127.0.0.2/31\"], domains: [example.com] }\n"
    "limits: { partial_message_timeout_s: 2, max_connections_per_source: 3, max_headers: 60, max_via: 16 }\n"))


def request(method, ruri, source, extra="", via_host=None, n=[0]):
    n[0] += 1
    via_host = via_host or f"{source}:5999"
    return (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {via_host};branch=z9hG4bKac{n[0]};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:mallory@example.com>;tag=m{n[0]}\r\nTo: <sip:bob@example.com>\r\n"
            f"Call-ID: ac{n[0]}@{source}\r\nCSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n").encode()


def send_from(source, data, timeout=1.5):
    """Sends a datagram from `source` (a 127.0.0.x address); returns the first line of the answer or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(timeout)
        s.sendto(data, ("127.0.0.1", sb.port))
        try:
            return s.recv(65535).decode(errors="replace").split("\r\n", 1)[0]
        except socket.timeout:
            return None


def register(user):
    r = h.sipp("register.xml", sb.port, free_port(), inf=h.users([user], user))
    return r.rc == 0


h.check(register("before"), "a phone in an allowed network registers")

reply = send_from("127.0.0.1", request("INVITE", "sip:victim@evil.example.net", "127.0.0.1"))
h.check(reply == "SIP/2.0 403 Relaying Denied", "an INVITE to an outside domain is refused (no open relay)", reply)
reply = send_from("127.0.0.1", request("INVITE", "sip:bob@example.com", "127.0.0.1", "Route: <sip:203.0.113.9;lr>\r\n"))
h.check(reply == "SIP/2.0 403 Relaying Denied", "an INVITE with a Route to a host not configured is refused", reply)
reply = send_from("127.0.0.77", request("REGISTER", "sip:example.com", "127.0.0.77"))
h.check(reply == "SIP/2.0 403 Network Not Allowed", "a REGISTER from a network not allowed is refused", reply)
reply = send_from("127.0.0.3", request("OPTIONS", f"sip:127.0.0.1:{sb.port}", "127.0.0.3"))
h.check(reply is not None and reply.startswith("SIP/2.0 200"), "a source in an allowed /31 is served", reply)
reply = send_from("127.0.0.2", request("INVITE", "sip:before@example.com", "127.0.0.2",
                                       via_host=f"127.0.0.1:{primary.port}"))
h.check(reply == "SIP/2.0 403 Not a Trusted Upstream",
        "a request claiming to be the upstream (its Via) from another address is refused", reply)
invites_upstream = len(primary.requests("INVITE"))
h.check(invites_upstream == 0, f"none of them reached the registrar ({invites_upstream} INVITEs there)")

# Dropped without an answer.
h.check(send_from("127.0.0.1", request("OPTIONS", "sip:100@127.0.0.1", "127.0.0.1", "User-Agent: friendly-scanner\r\n"))
        is None, "a scanner's OPTIONS gets no answer")
vias = "".join(f"Via: SIP/2.0/UDP 10.0.0.{i};branch=z9hG4bKd{i}\r\n" for i in range(30))
reply = send_from("127.0.0.1", request("OPTIONS", "sip:127.0.0.1", "127.0.0.1", vias))
h.check(reply is not None and reply.startswith("SIP/2.0 400 Too Many Via Headers"),
        "a request with 31 Via entries (max_via 16) is answered 400, not dropped", reply)
many = "".join(f"X-H{i}: {i}\r\n" for i in range(100))
h.check(send_from("127.0.0.1", request("OPTIONS", "sip:127.0.0.1", "127.0.0.1", many)) is None,
        "a request with 100 more headers than allowed gets no answer")

# Slowloris: a message begun and never finished is closed after partial_message_timeout_s.
with socket.create_connection(("127.0.0.1", sb.port), timeout=5) as s:
    start = time.monotonic()
    s.sendall(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKslow\r\n")
    closed = False
    s.settimeout(0.5)
    while time.monotonic() - start < 8:
        try:
            s.sendall(b"X")      # a byte now and then keeps the idle timer fed
            if s.recv(100) == b"":
                closed = True
                break
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
    waited = time.monotonic() - start
h.check(closed and 1.5 <= waited <= 5, f"a slowloris stream is closed after {waited:.1f} s (limit 2 s)")

# Connections per source: the fourth from one address is closed at once.
conns = [socket.create_connection(("127.0.0.1", sb.port), timeout=3) for _ in range(3)]
with socket.create_connection(("127.0.0.1", sb.port), timeout=3) as extra:
    extra.settimeout(2)
    try:
        fourth_closed = extra.recv(10) == b""
    except (socket.timeout, ConnectionResetError):
        fourth_closed = False
    except OSError:
        fourth_closed = True
h.check(fourth_closed, "a fourth connection from one address is refused (max_connections_per_source 3)")
for c in conns:
    c.close()

h.check(sb.process.alive(), "Switchback is alive")
h.check(wait_until(lambda: register("after"), 5), "a phone registers after all of it")
m = sb.metrics()
for reason, n in (("Relaying Denied", 2), ("Network Not Allowed", 1), ("Not a Trusted Upstream", 1), ("Too Many Via Headers", 1)):
    got = m.get(f'switchback_rejected_total{{reason="{reason}"}}', 0)
    h.check(got == n, f"rejections counted by reason: {reason} = {got:.0f}")
for reason in ("scanner User-Agent", "too many headers", "partial message timeout", "connections per source"):
    got = m.get(f'switchback_dropped_total{{reason="{reason}"}}', 0)
    h.check(got >= 1, f"drops counted by reason: {reason} = {got:.0f}")
st = sb.status()
h.check(st["security"]["rejected"].get("Relaying Denied") == 2, "/status shows the rejections", st["security"])
h.check(st["bindings"]["registrants"] == 2, "both phones' bindings are intact", st["bindings"])
h.finish()
