"""A small receiver for tests that reads what Logstash's ``tcp`` input with ``codec => json_lines`` reads:
one JSON document per line, over TCP or TLS, on 127.0.0.1 (a free port, or ``port`` to restart on).

Like Logstash, it closes its side once the client has ended its own (EOF). Faults for the tests: once
it holds ``fail_after`` lines in all, it resets the connection (RST) and every later one: what a
receiver that dies mid-batch looks like to the sender. ``hold`` keeps connections open, never closing.
"""

import json
import socket
import ssl
import struct
import threading


class JsonLinesReceiver:
    def __init__(self, ssl_context: ssl.SSLContext | None = None, port: int = 0):
        self.ssl_context = ssl_context
        self.port = port
        self.lines: list[dict] = []
        self.connections = 0
        self.resets = 0
        self.fail_after: int | None = None
        self.hold = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self.address: tuple[str, int] = ("127.0.0.1", port)

    def start(self) -> "JsonLinesReceiver":
        self._stop.clear()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self.address = self._listener.getsockname()[:2]
        self.port = self.address[1]
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> "JsonLinesReceiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return [line["@metadata"]["_id"] for line in self.lines]

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        listener = self._listener
        while not self._stop.is_set():
            try:
                sock, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.connections += 1
            self._spawn(self._serve, sock)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        try:
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
            buffer = b""
            while not self._stop.is_set():
                data = sock.recv(65536)
                if not data:
                    break  # the client ended its side: everything it wrote is here
                lines = (buffer + data).split(b"\n")
                buffer = lines.pop()
                for line in lines:
                    with self._lock:
                        dead = self.fail_after is not None and len(self.lines) >= self.fail_after
                        if not dead:
                            self.lines.append(json.loads(line))
                    if dead:
                        self._reset(sock)
                        return
            while self.hold and not self._stop.wait(0.1):
                pass
        except (OSError, ValueError):
            pass
        finally:
            sock.close()

    def _reset(self, sock: socket.socket) -> None:
        with self._lock:
            self.resets += 1
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
