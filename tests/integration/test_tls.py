"""TLS on both sides. Phones register and call over TLS through Switchback to a UDP registrar, and
calls from the registrar reach a phone on its own TLS connection; an upstream reached over TLS
with a certificate from the right CA and for its address is used, and upstreams whose certificate
comes from another CA, or names another host, are refused (verification is on by default).

Debian's SIPp is built without TLS (-t l1 says so), so the SIPp phones speak TCP to a socat shim
that opens one TLS connection to Switchback per phone connection, verifying Switchback's
certificate. Test certificates are made here with the openssl command; no key is committed."""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time

from harness import HERE, SCENARIOS, Harness, Process, free_port, wait_until

h = Harness(__doc__, ports=(28600, 28999))  # this test's own port range
for tool in ("openssl", "socat"):
    h.require(shutil.which(tool) is not None, f"{tool} is installed (scripts/install-deps.sh)")
certs = os.path.join(h.dir, "certs")
os.makedirs(certs)


def run(*argv):
    subprocess.run(argv, cwd=certs, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(name):
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=Switchback test {name}")


def make_cert(name, ca, san):
    with open(os.path.join(certs, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\n")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
    run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
        "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return os.path.join(certs, f"{name}.pem"), os.path.join(certs, f"{name}.key")


make_ca("ca")
make_ca("rogue-ca")
sb_cert, sb_key = make_cert("switchback", "ca", "IP:127.0.0.1,DNS:localhost")
good_cert, good_key = make_cert("good-node", "ca", "IP:127.0.0.1")
rogue_cert, rogue_key = make_cert("rogue-node", "rogue-ca", "IP:127.0.0.1")
misnamed_cert, misnamed_key = make_cert("misnamed-node", "ca", "DNS:other.example")
phone_cert, phone_key = make_cert("phone", "ca", "DNS:phone.example")
ca = os.path.join(certs, "ca.pem")


def closed_by_peer(s, timeout):
    """Whether the peer closes (or resets) the connection within `timeout` s; anything it sends
    first (a TLS alert) is read and ignored."""
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def tls_shim(tls_port, name, client=None):
    """A TCP port on 127.0.0.1 that becomes a TLS connection to Switchback, one per TCP connection;
    client: (certificate, key) the phone presents."""
    port = free_port()
    identity = f",cert={client[0]},key={client[1]}" if client else ""
    p = Process(f"socat-{name}", ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
                                  f"OPENSSL:127.0.0.1:{tls_port},cafile={ca},verify=1{identity}"],
                os.path.join(h.dir, f"socat-{name}.log"))
    h.processes.append(p)
    wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 5)
    return port


def tls_node(name, cert, key):
    """An upstream reached over TLS (tls_node.py): answers OPTIONS, logs each request line."""
    port = free_port()
    p = Process(name, [sys.executable, os.path.join(HERE, "tls_node.py"), "--port", str(port), "--cert", cert, "--key", key],
                os.path.join(h.dir, f"{name}.log"))
    h.processes.append(p)
    wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 5)
    return port, p


# --- Phones over TLS to a UDP registrar.
primary = h.kamailio("primary")
tls_port = free_port()
sb = h.switchback([("primary", primary.uri)], extra_listen=[f"tls:127.0.0.1:{tls_port}"],
                  extra_yaml=f"tls: {{ certificate: {sb_cert}, key: {sb_key}, ca_file: {ca}, handshake_timeout_s: 1 }}\n")
shim = tls_shim(tls_port, "phones")

r = h.sipp("register.xml", shim, free_port(), inf=h.users(["alice"], "alice"), transport="t1", name="alice-reg")
h.check(r.rc == 0, "a phone registers over TLS (digest through Switchback)", r)
b = sb.binding("sip:alice@example.com")
h.check(b is not None and b["contacts"][0]["flow"]["transport"] == "TLS", "its flow is a TLS connection", b)

bob_port = free_port()
bob = h.sipp_background("register_stay.xml", shim, bob_port, inf=h.users(["bob"], "bob"), transport="t1",
                        timeout=20, name="bob", extra=["-oocsf", os.path.join(SCENARIOS, "uas_answer.xml")])
bob_binding = wait_until(lambda: sb.binding("sip:bob@example.com"), 5)
h.check(bob_binding is not None and bob_binding["contacts"][0]["flow"]["transport"] == "TLS",
        "a second phone registers over TLS and stays connected", bob_binding)
r = h.sipp("uac_call.xml", shim, free_port(), service="bob", transport="t1", timeout=15, name="alice-call")
h.check(r.rc == 0, "a call over TLS to a phone on its own TLS connection completes (INVITE/200/ACK, re-INVITE, BYE)", r)
with open(f"{h.dir}/bob-{bob_port}-messages.log", errors="replace") as f:
    h.check("transport=tls;lr" in f.read(), "the INVITE the TLS phone got has our TLS-facing Record-Route")
bob.stop()

# Plain text instead of a ClientHello ends the connection at once; the process stays.
with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as s:
    s.sendall(b"REGISTER sip:example.com SIP/2.0\r\n\r\n")
    closed = closed_by_peer(s, 3)
h.check(closed, "plain text on the TLS port ends the connection")
# A connection that never starts its handshake is closed after tls.handshake_timeout_s.
with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as s:
    start = time.monotonic()
    silent_closed = closed_by_peer(s, 4)
    waited = time.monotonic() - start
h.check(silent_closed and waited < 3, f"a connection with no handshake is closed after {waited:.1f} s (timeout 1 s)")
h.check(sb.process.alive(), "Switchback is alive")
m = sb.metrics()
h.check(m.get('switchback_dropped_total{reason="tls handshake failed"}', 0) >= 1, "the failed handshake is counted")
h.check(m.get('switchback_dropped_total{reason="tls handshake timeout"}', 0) >= 1, "the handshake timeout is counted")

# --- Upstreams over TLS: the right certificate is used, a wrong one refused.
good_port, good = tls_node("good-node", good_cert, good_key)
rogue_port, rogue = tls_node("rogue-node", rogue_cert, rogue_key)
misnamed_port, misnamed = tls_node("misnamed-node", misnamed_cert, misnamed_key)
tls_port2 = free_port()
sb2 = h.switchback([("good", f"sips:127.0.0.1:{good_port}"), ("rogue", f"sip:127.0.0.1:{rogue_port};transport=tls"),
                    ("misnamed", f"sips:127.0.0.1:{misnamed_port}")],
                   name="switchback-upstreams", extra_listen=[f"tls:127.0.0.1:{tls_port2}"],
                   extra_yaml=f"tls: {{ certificate: {sb_cert}, key: {sb_key}, ca_file: {ca}, max_handshakes: 2 }}\n")
h.check(wait_until(lambda: "OPTIONS sip:" in good.output(), 5),
        "the upstream with a certificate from the configured CA, for its address, gets our OPTIONS over TLS")
time.sleep(1)
h.check("OPTIONS" not in rogue.output(), "the upstream whose certificate comes from another CA gets nothing")
h.check("OPTIONS" not in misnamed.output(), "the upstream whose certificate names another host gets nothing")
m = sb2.metrics()
failed = m.get('switchback_dropped_total{reason="tls handshake failed (upstream)"}', 0)
h.check(failed >= 2, f"the refused upstream handshakes are counted ({failed:.0f})")
out = sb2.process.output()
h.check("certificate verify failed" in out, "the log says why (certificate verify failed)", out[-1500:])
h.check(out.count(f"handshake with upstream 127.0.0.1:{rogue_port} failed") == 1,
        "the refused upstream is warned about once, not at every probe")
states = wait_until(lambda: (lambda s: s if s.get("good") else None)({n["name"]: n["usable"] for n in sb2.status()["nodes"]}), 3) \
    or {n["name"]: n["usable"] for n in sb2.status()["nodes"]}
h.check(states.get("good") is True and states.get("rogue") is False and states.get("misnamed") is False,
        f"only the verified upstream is usable ({states})")

# The cap on phones' connections in handshake: two silent ones fill it, a third is refused at once.
silent = [socket.create_connection(("127.0.0.1", tls_port2), timeout=3) for _ in range(2)]
time.sleep(0.2)
with socket.create_connection(("127.0.0.1", tls_port2), timeout=3) as third:
    refused = closed_by_peer(third, 2)
h.check(refused, "a third connection while two are in handshake is refused (tls.max_handshakes 2)")
for s in silent:
    s.close()
h.check(sb2.metrics().get('switchback_dropped_total{reason="tls handshakes cap"}', 0) >= 1, "the refusal is counted")

# --- tls.client_ca: phones must present a certificate from that CA.
tls_port3 = free_port()
sb3 = h.switchback([("primary", primary.uri)], name="switchback-mtls", extra_listen=[f"tls:127.0.0.1:{tls_port3}"],
                   extra_yaml=f"tls: {{ certificate: {sb_cert}, key: {sb_key}, client_ca: {ca} }}\n")
r = h.sipp("register.xml", tls_shim(tls_port3, "mtls", (phone_cert, phone_key)), free_port(),
           inf=h.users(["carol"], "carol"), transport="t1", name="carol-reg")
h.check(r.rc == 0, "with client_ca, a phone presenting a certificate from that CA registers over TLS", r)
ctx = ssl.create_default_context(cafile=ca)
try:
    with socket.create_connection(("127.0.0.1", tls_port3), timeout=3) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n")
        anonymous_refused = s.recv(100) == b""
except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
    anonymous_refused = True
except socket.timeout:
    anonymous_refused = False
h.check(anonymous_refused, "a phone without a certificate is refused")
h.finish()
