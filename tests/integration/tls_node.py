#!/usr/bin/env python3
"""A minimal SIP upstream over TLS for the tests: accepts TLS connections on 127.0.0.1:PORT with the
given certificate, answers every OPTIONS with 200 OK (so health probes pass) and logs each request
line it receives to stdout. Runs until killed (the harness stops it by PID)."""
import argparse
import socket
import ssl
import sys
import threading

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--cert", required=True)
parser.add_argument("--key", required=True)
args = parser.parse_args()

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(args.cert, args.key)


def answer(message):
    head = message.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
    keep = [line for line in head[1:] if line.split(":", 1)[0].strip().lower() in ("via", "from", "call-id", "cseq")]
    to = [line + ";tag=node" for line in head[1:] if line.split(":", 1)[0].strip().lower() == "to"]
    return ("SIP/2.0 200 OK\r\n" + "\r\n".join(keep + to) + "\r\nContent-Length: 0\r\n\r\n").encode()


def serve(conn):
    buffer = b""
    with conn:
        while True:
            try:
                data = conn.recv(65535)
            except (OSError, ssl.SSLError):
                return
            if not data:
                return
            buffer += data
            while b"\r\n\r\n" in buffer:   # the requests Switchback sends here carry no body
                message, buffer = buffer.split(b"\r\n\r\n", 1)
                line = message.split(b"\r\n", 1)[0].decode(errors="replace")
                print(line, flush=True)
                if line.startswith("OPTIONS "):
                    conn.sendall(answer(message + b"\r\n\r\n"))


listener = socket.create_server(("127.0.0.1", args.port))
print("listening", flush=True)
while True:
    raw, _ = listener.accept()
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError) as e:
        print(f"handshake failed: {e}", flush=True, file=sys.stderr)
        raw.close()
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
