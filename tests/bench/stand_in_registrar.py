"""A fast registrar stand-in for the 1,000,000-binding benchmark (tests/bench/million.py).

It is no registrar: it keeps nothing. It answers every REGISTER with 200 OK (the request's
Contacts with ;expires= the request's Expires, default 3600) and every other request with 200 OK,
so that what is measured is Switchback, not Kamailio's usrloc. A datagram "SILENT" from 127.0.0.1
makes it stop answering (a node that died, for the failover); "ANSWER" makes it answer again.
It exits by itself after --seconds. Loopback only; standard library only.
"""
import argparse
import socket
import time

COPIED = (b"via", b"v", b"from", b"f", b"to", b"t", b"call-id", b"i", b"cseq")


def answer(request):
    head = request.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    if not lines or lines[0].startswith(b"SIP/2.0"):
        return None  # a response: nothing to answer
    register = lines[0].startswith(b"REGISTER ")
    out = [b"SIP/2.0 200 OK"]
    contacts, expires = [], b"3600"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key in COPIED:
            if key in (b"to", b"t") and b"tag=" not in value:
                line += b";tag=si"
            out.append(line)
        elif register and key in (b"contact", b"m"):
            contacts.append(value.strip())
        elif register and key == b"expires":
            expires = value.strip()
    for c in contacts:
        if c != b"*":
            out.append(b"Contact: " + c + b";expires=" + expires)
    out.append(b"Content-Length: 0")
    return b"\r\n".join(out) + b"\r\n\r\n"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=int, default=1800, help="exits after this long (default 1800)")
    args = p.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.bind(("127.0.0.1", args.port))
    s.settimeout(1.0)
    silent = False
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        try:
            data, peer = s.recvfrom(65536)
        except socket.timeout:
            continue
        if data in (b"SILENT", b"ANSWER"):
            silent = data == b"SILENT"
            continue
        if silent:
            continue
        try:
            reply = answer(data)
        except Exception:  # noqa: BLE001 - a stand-in answers what it can and carries on
            reply = None
        if reply:
            try:
                s.sendto(reply, peer)
            except OSError:
                pass


if __name__ == "__main__":
    main()
