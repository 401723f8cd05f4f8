#!/usr/bin/env python3
"""A bounded UDP flooder for the hostile-network tests: garbage and valid-looking REGISTERs from
one loopback source address, at a target rate, for at most --seconds and --count packets.
Prints one JSON line: {"sent": N, "seconds": S, "rate": N/S}. Loopback only."""
import argparse
import json
import os
import socket
import time

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--target", type=int, required=True, help="port on 127.0.0.1")
parser.add_argument("--source", default="127.0.0.66", help="a 127.0.0.0/8 address to send from")
parser.add_argument("--rate", type=int, default=15000, help="packets per second")
parser.add_argument("--seconds", type=float, default=5.0)
parser.add_argument("--count", type=int, default=200000)
args = parser.parse_args()
if not args.source.startswith("127."):
    raise SystemExit("loopback sources only")

REGISTER = ("REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP {src}:5060;branch=z9hG4bKfl{n};rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:fl{n}@example.com>;tag={n}\r\nTo: <sip:fl{n}@example.com>\r\n"
            "Call-ID: flood{n}@{src}\r\nCSeq: 1 REGISTER\r\nContact: <sip:fl{n}@{src}:5060>\r\nExpires: 3600\r\n"
            "User-Agent: Grandstream\r\nContent-Length: 0\r\n\r\n")
garbage = [os.urandom(200), b"INVITE\r\n\r\n", b"SIP/2.0 200 OK\r\n\r\n", b"\xff" * 1200,
           b"OPTIONS sip:x SIP/2.0\r\nVia: \r\n\r\n"]

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((args.source, 0))
s.setblocking(False)
dest = ("127.0.0.1", args.target)
sent = 0
start = time.monotonic()
batch = max(1, args.rate // 200)   # paced in 5 ms slices
while sent < args.count:
    now = time.monotonic()
    elapsed = now - start
    if elapsed >= args.seconds:
        break
    due = min(args.count, int(elapsed * args.rate) + batch)
    while sent < due:
        n = sent
        data = REGISTER.format(n=n, src=args.source).encode() if n % 2 == 0 else garbage[n % len(garbage)]
        try:
            s.sendto(data, dest)
        except BlockingIOError:
            break
        sent += 1
    time.sleep(0.001)
elapsed = time.monotonic() - start
print(json.dumps({"sent": sent, "seconds": round(elapsed, 3), "rate": round(sent / elapsed)}))
