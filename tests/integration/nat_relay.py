"""A simulated NAT box for tests: a UDP relay on loopback.

The phone sends to the relay's inside port; the relay forwards each datagram from its public
address (127.0.0.2 by default) to the target, and the target's datagrams back to the phone, like
a NAT mapping. Once `timeout_s` passed without a datagram from the phone, the pinhole is closed:
datagrams from the target are dropped (and counted) until the phone sends again."""
import select
import socket
import threading
import time

from harness import free_port


class NatRelay:
    def __init__(self, target_port, timeout_s, public_ip="127.0.0.2", target_ip="127.0.0.1"):
        self.timeout_s = timeout_s
        self.target = (target_ip, target_port)
        self.inside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.public = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.inside_port = self._bind(self.inside, "127.0.0.1")
        self.public_port = self._bind(self.public, public_ip)
        self.public_address = f"{public_ip}:{self.public_port}"
        self.phone = None
        self.last_outbound = None
        self.forwarded_out = self.forwarded_in = self.dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _bind(sock, ip):
        for _ in range(20):
            try:
                sock.bind((ip, free_port()))
                return sock.getsockname()[1]
            except OSError:
                continue
        raise RuntimeError(f"no free UDP port on {ip}")

    def pinhole_open(self):
        return self.last_outbound is not None and time.monotonic() - self.last_outbound < self.timeout_s

    def _run(self):
        while not self._stop.is_set():
            ready, _, _ = select.select([self.inside, self.public], [], [], 0.1)
            for sock in ready:
                data, source = sock.recvfrom(65535)
                if sock is self.inside:
                    self.phone = source
                    self.last_outbound = time.monotonic()
                    self.public.sendto(data, self.target)
                    self.forwarded_out += 1
                elif source == self.target and self.phone and self.pinhole_open():
                    self.inside.sendto(data, self.phone)
                    self.forwarded_in += 1
                else:
                    self.dropped += 1

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.inside.close()
        self.public.close()
