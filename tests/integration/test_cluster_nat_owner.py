"""NAT keep-alives have an owner: in a pair sharing registrations, only the node a phone is
registered through (its owner) sends it keep-alives; the other knows the phone but stays silent.
When the phone registers via the other node, ownership moves, and the keep-alives with it: the new
owner starts, the former one stops. The phone is a UDP socket of the test that answers keep-alive
OPTIONS, so what each node sends is counted on the phone's side too."""
import socket
import threading
import time

from harness import Harness, free_port, wait_until

h = Harness(__doc__, ports=(30200, 30499))  # this test's own port range
redis = h.redis()
primary = h.kamailio("primary")
a, b = h.cluster([("primary", primary.uri)], redis,
                 extra_yaml="nat: { keepalive_interval_s: 1, keepalive_method: options, max_missed: 100 }\n")
h.require(wait_until(lambda: sum(n["alive"] for n in b.status()["cluster"]["nodes"]) == 2, 5), "pair up")

port = free_port()
h.register_phone(a.port, "carol", port)
# From now on the phone's port is a socket that answers OPTIONS and counts who sent them.
heard = {a.port: 0, b.port: 0}
stop = threading.Event()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
sock.settimeout(0.2)


def phone():
    while not stop.is_set():
        try:
            data, source = sock.recvfrom(65535)
        except socket.timeout:
            continue
        text = data.decode(errors="replace")
        if not text.startswith("OPTIONS "):
            continue
        heard[source[1]] = heard.get(source[1], 0) + 1
        head = [l for l in text.split("\r\n") if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
        sock.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(head) + "\r\nContent-Length: 0\r\n\r\n").encode(), source)


t = threading.Thread(target=phone, daemon=True)
t.start()
time.sleep(2.5)
na, nb = a.status()["nat"], b.status()["nat"]
h.check(na["flows"] == 1 and heard[a.port] >= 1, f"A, carol's owner, keeps her flow open ({heard[a.port]} OPTIONS)", na)
h.check(nb["flows"] == 0 and nb["keepalives_sent"] == 0 and heard[b.port] == 0,
        "B knows carol but sends her no keep-alive", nb)
h.check(b.binding("sip:carol@example.com") is not None, "B knows carol (shared registration)")

# carol registers via B: B owns her now, and the keep-alives move with the ownership.
stop.set()
t.join()
sock.close()
h.register_phone(b.port, "carol", port)
stop.clear()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
sock.settimeout(0.2)
t = threading.Thread(target=phone, daemon=True)
t.start()
h.require(wait_until(lambda: [n["owned"] for n in a.status()["cluster"]["nodes"] if n["id"] == "b"] == [1], 2),
          "A sees B own carol")
time.sleep(1.5)  # A's keep-alive falls due once more: it finds carol is B's and lets the flow go
from_a = heard[a.port]
time.sleep(2.0)
na, nb = a.status()["nat"], b.status()["nat"]
h.check(nb["flows"] == 1 and heard[b.port] >= 1, f"B, her owner now, keeps her flow open ({heard[b.port]} OPTIONS)", nb)
h.check(na["flows"] == 0 and heard[a.port] == from_a, "A has stopped sending her keep-alives", (na, heard))
stop.set()
t.join()
sock.close()
h.finish()
