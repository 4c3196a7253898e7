"""A local Lumberjack v2 receiver that behaves like Logstash's beats input (one thread per client).

It is what ``logfwd receive`` runs and what the tests deliver to::

    with Receiver(out="events.jsonl") as receiver:
        host, port = receiver.address
        ...
"""

import logging
import os
import random
import socket
import ssl
import threading

from .connection import Connection, Counters, Faults
from .output import EventLog

log = logging.getLogger(__name__)

__all__ = ["Receiver"]


class Receiver:
    """Listens on ``host:port`` (port 0: any free port), stores events in ``out`` or in memory.

    ``ack_delay``, ``keepalive_interval``, ``drop_before_ack`` and ``partial_ack`` are described in
    ``receiver.connection.Faults``; change them while it runs through ``receiver.faults``. Clients idle for
    ``idle_timeout`` seconds are disconnected, as Logstash's ``client_inactivity_timeout`` does.
    ``validate=False`` skips the full JSON parse of each event (see ``receiver.output.EventLog``).
    """

    def __init__(self, out: str | os.PathLike | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 ssl_context: ssl.SSLContext | None = None, ack_delay: float = 0.0,
                 keepalive_interval: float = 5.0, drop_before_ack: float = 0.0, partial_ack: float = 0.0,
                 rng: random.Random | None = None, idle_timeout: float = 60.0, validate: bool = True):
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.idle_timeout = idle_timeout
        self.faults = Faults(ack_delay, keepalive_interval, drop_before_ack, partial_ack, rng or random.Random())
        self.store = EventLog(out, validate=validate)
        self.counters = Counters()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._address: tuple[str, int] | None = None
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()

    @property
    def address(self) -> tuple[str, int]:
        if self._address is None:
            raise RuntimeError("the receiver is not started")
        return self._address

    @property
    def events(self) -> list[dict]:
        """Every event stored so far (read back from ``out`` when there is one)."""
        return self.store.events

    @property
    def connections(self) -> int:
        return self.counters.connections

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._sockets)

    @property
    def windows(self) -> int:
        """Complete windows received (ACKed or not)."""
        return self.counters.windows

    @property
    def keepalives(self) -> int:
        """``2A 0`` frames sent while holding ACKs."""
        return self.counters.keepalives

    @property
    def tls(self) -> bool:
        return self.ssl_context is not None

    def start(self) -> "Receiver":
        self._listener = socket.create_server((self.host, self.port), backlog=64)
        self._address = self._listener.getsockname()[:2]
        # stop() shuts the listener down, which wakes accept() on Linux; the timeout is for the rest.
        self._listener.settimeout(0.2)
        self._spawn(self._accept_loop, "lumberjack-accept")
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for sock in filter(None, (self._listener, *self._sockets)):
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes up threads blocked in accept() or recv()
                except OSError:
                    pass
        for thread in list(self._threads):
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        self.store.close()

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _spawn(self, target, name: str, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if not self._stopping.is_set():
                    log.exception("accept failed on %s:%s", self.host, self.port)
                return
            self.counters.add("connections")
            with self._lock:
                self._sockets.add(sock)
            self._spawn(self._serve, f"lumberjack-{peer[0]}:{peer[1]}", sock, f"{peer[0]}:{peer[1]}")

    def _serve(self, sock: socket.socket, peer: str) -> None:
        try:
            sock.settimeout(self.idle_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                sock = self._wrap(sock)
                try:
                    # In the client's own thread, so that a slow client cannot stall accept().
                    sock.do_handshake()
                except (ssl.SSLError, OSError) as exc:
                    log.warning("TLS handshake with %s failed: %s", peer, exc)
                    return
            Connection(sock, peer, self.store, self.faults, self._stopping, self.counters).serve()
        finally:
            sock.close()  # before it leaves the set: open_connections == 0 means "closed"
            with self._lock:
                self._sockets.discard(sock)

    def _wrap(self, raw: socket.socket) -> ssl.SSLSocket:
        with self._lock:
            self._sockets.discard(raw)
            tls = self.ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            self._sockets.add(tls)
        return tls
