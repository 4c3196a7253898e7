"""The emulator: an HTTP/1.1 keep-alive server on a background thread, plus the Python API that
tests, the soak and the benchmark drive it with (add, seed, produce, stats).

Besides ``/api/v1`` it answers two unauthenticated control endpoints, never subject to faults:
``GET /emulator/stats`` (counters) and ``GET /emulator/produced`` (every activation produced, with
its text line count and the moment lists see it), so a soak can compare what was produced with what
a receiver got.
"""

import dataclasses
import json
import random
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import records
from .api import MAX_LIST_LIMIT, Api, Reply, fault_reply
from .faults import FaultInjector
from .generate import ActivationFactory, new_activation_id
from .platform import Platform
from .producer import Producer
from .records import DEFAULT_CATALOG, Activation, ActionSpec
from .store import ActivationStore

__all__ = ["Emulator", "DEFAULT_API_KEY"]

# The well-known key of OpenWhisk's local "guest" namespace, so `wsk` setups work unchanged.
DEFAULT_API_KEY = (
    "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
)
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Time-out"}


class Emulator:
    """A local OpenWhisk activations API. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, host="127.0.0.1", port=0, *, api_key=DEFAULT_API_KEY, namespace="guest", list_lag=0.0,
                 fail_rate=0.0, slow_rate=0.0, slow_seconds=5.0, reset_rate=0.0, rng=None, clock=time.time,
                 external_logs=False, max_limit=MAX_LIST_LIMIT, catalog: Sequence[ActionSpec] = DEFAULT_CATALOG,
                 produced_path: str | Path | None = None, platform: Platform = Platform()):
        """``platform``: the real platform's timing and paging behaviours to reproduce (``platform.py``);
        ``external_logs`` is short for ``Platform(log_store="external")``."""
        if external_logs and platform.log_store == "inline":
            platform = dataclasses.replace(platform, log_store="external")
        self.api_key, self.namespace, self.clock = api_key, namespace, clock
        self.platform = platform
        self.rng = rng or random.Random()
        self.catalog = {spec.path: spec for spec in catalog}
        self.store = ActivationStore(clock, list_lag, stale_index=platform.stale_index, ties=platform.ties,
                                     rng=self._own_rng(platform.ties == "elasticsearch"))
        self.faults = FaultInjector(random.Random(self.rng.getrandbits(64)), fail_rate=fail_rate,
                                    slow_rate=slow_rate, slow_seconds=slow_seconds, reset_rate=reset_rate,
                                    server_errors=platform.server_errors)
        self.api = Api(self.store, self.catalog, namespace=namespace, api_key=api_key, max_limit=max_limit,
                       platform=platform, rng=self._own_rng(platform.skip_timeout))
        self._factory = ActivationFactory(self.rng, self.catalog, platform)
        self._make_lock = threading.Lock()  # one rng, several threads
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._produced_file = open(produced_path, "a", encoding="utf-8") if produced_path else None
        self._producer: Producer | None = None
        self._httpd = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    def _own_rng(self, needed) -> random.Random | None:
        """A generator for a part that draws on request threads; drawn only when the part needs one,
        so that a seed gives the same activations with the kind platform as it always did."""
        return random.Random(self.rng.getrandbits(64)) if needed else None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "Emulator":
        # A short poll interval so that stop() returns promptly.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="emulator-http",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_producing()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._produced_file:
            self._produced_file.close()
            self._produced_file = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- data ------------------------------------------------------------------------------------

    def add_activation(self, name: str, *, start_ms: int, duration_ms: int = 100, lines: list[str] | int = 3,
                       status: str | int = "success", cold: bool = False, activation_id: str | None = None,
                       binding: str | None = None, cause: str | None = None, wait_time: int = 5,
                       init_time: int = 250, marker: str | None = None, result: dict | None = None,
                       timed_out: bool = False, **extra) -> dict:
        """Store one activation exactly as described and return its full record.

        ``lines``: a count of generated lines, or the log entries verbatim (see ``loglines.format_line``).
        ``extra``: top-level fields added to the record (e.g. a vendor's extra fields).
        """
        code = records.STATUSES.index(status) if isinstance(status, str) else int(status)
        with self._make_lock:
            act = Activation(
                activation_id=activation_id or new_activation_id(self.rng),
                spec=self._factory.spec(name),
                start=start_ms,
                end=start_ms + duration_ms,
                status=code,
                wait_time=wait_time,
                init_time=init_time if cold else 0,
                seed=self.rng.getrandbits(64),
                line_count=lines if isinstance(lines, int) else len(lines),
                lines=None if isinstance(lines, int) else list(lines),
                marker=marker,
                binding=binding,
                cause=cause,
                timed_out=timed_out,
                result=result,
                extra=extra or None,
            )
        self._store([act])
        return self.api.record(act)

    def seed(self, actions: Sequence[str], count: int, span_s: float, lines: int = 10,
             max_duration: float = 2.0) -> None:
        """``count`` finished invocations of ``actions`` started over the past ``span_s`` seconds.

        About one in ten shares its start millisecond with the previous one.
        """
        now_ms = int(self.clock() * 1000)
        span_ms, cap_ms = int(span_s * 1000), int(max_duration * 1000)
        made: list[Activation] = []
        with self._make_lock:
            rng, previous = self.rng, None
            for i in range(count):
                path = actions[i % len(actions)]
                duration = self._factory.duration(self._factory.spec(path), cap_ms)
                latest = now_ms - duration
                if previous is not None and previous <= latest and rng.random() < 0.1:
                    start = previous
                else:
                    start = rng.randint(min(latest, now_ms - span_ms), latest)
                made += self._factory.make(path, start, duration, lines)
                previous = start
        self._store(made)

    def produce(self, rate: float, *, actions: Sequence[str] | None = None, max_duration: float = 5.0,
                lines: int = 10, burst: int = 0, burst_every: float = 10.0) -> Producer:
        """Keep starting ``rate`` invocations per second in the background until ``stop_producing()``."""
        self.stop_producing()
        names = list(actions or [s.path for s in self.catalog.values()])
        rng = random.Random(self.rng.getrandbits(64))  # its own: the producer runs on its own thread
        self._producer = Producer(self.invoke, rng, self.clock, rate=rate, actions=names,
                                  max_duration=max_duration, lines=lines, burst=burst, burst_every=burst_every)
        self._producer.start()
        return self._producer

    def stop_producing(self) -> None:
        if self._producer is not None:
            self._producer.stop()
            self._producer = None

    def invoke(self, path: str, start_ms: int, max_duration_ms: int = 5000, lines: int = 10) -> None:
        """One invocation of ``path`` started at ``start_ms``, as the producer makes them: random status,
        duration and cold start; sequences and triggers add their components' records."""
        with self._make_lock:
            duration = self._factory.duration(self._factory.spec(path), max_duration_ms)
            made = self._factory.make(path, start_ms, duration, lines)
        self._store(made)

    def _store(self, acts: list[Activation]) -> None:
        self.store.add(acts)
        if self._produced_file:
            text = "".join(json.dumps(_produced_entry(a)) + "\n" for a in acts)
            with self._make_lock:
                self._produced_file.write(text)
                self._produced_file.flush()

    # -- observation -----------------------------------------------------------------------------

    def produced(self) -> list[dict]:
        """Every activation produced so far, visible yet or not. ``unlisted``: one the platform cannot
        parse, which lists leave out (``Platform.drop_rate``): nobody can forward it."""
        entries = [_produced_entry(a) for a in self.store.all()]
        if self.platform.drop_rate:
            for entry in entries:
                entry["unlisted"] = self.platform.unparseable(entry["activationId"])
        return entries

    def stats(self) -> dict:
        with self._counts_lock:
            counts = dict(self._counts)
        group = lambda prefix: {k[len(prefix):]: v for k, v in counts.items() if k.startswith(prefix)}  # noqa: E731
        return {
            "requests": group("request:"),
            "responses": group("status:"),
            "faults": self.faults.snapshot(),
            "activations": self.store.activations,
            "lines": self.store.lines,
            "served": {"records": counts.get("served:records", 0), "lines": counts.get("served:lines", 0)},
        }

    def _count(self, endpoint: str, reply: Reply) -> None:
        with self._counts_lock:
            self._counts[f"request:{endpoint}"] += 1
            self._counts[f"status:{reply.status}"] += 1
            self._counts["served:records"] += reply.records
            self._counts["served:lines"] += reply.lines

    # -- HTTP ------------------------------------------------------------------------------------

    def _serve(self, handler: "_Handler") -> None:
        if handler.path.split("?")[0] in ("/emulator/stats", "/emulator/produced"):
            value = self.stats() if handler.path.startswith("/emulator/stats") else self.produced()
            _write(handler, Reply(200, json.dumps(value).encode()))
            return
        fault = self.faults.draw()
        if fault is not None and fault.kind == "reset":
            self._count("fault", Reply(0, b""))
            # SO_LINGER 0: closing sends a TCP reset instead of a clean end of stream.
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind != "slow":
            endpoint, reply = "fault", fault_reply(fault.kind)
        else:
            endpoint, reply = self.api.handle(handler.path, handler.headers.get("Authorization"))
        self._count(endpoint, reply)
        _write(handler, reply)


def _produced_entry(act: Activation) -> dict:
    return {
        "activationId": act.activation_id,
        "name": act.list_name,
        "kind": act.spec.kind,
        "start": act.start,
        "end": act.end,
        "lines": act.text_line_count(),
        "storedAt": act.stored_at,
        "visibleAt": act.visible_at,
    }


def _write(handler: "_Handler", reply: Reply) -> None:
    """Status line, headers and body in one write: a separate small header write would meet Nagle."""
    # Like the controller: "application/json" without a charset parameter, the body raw UTF-8.
    head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Error')}",
            f"Content-Type: {reply.content_type}", f"Content-Length: {len(reply.body)}"]
    head += [f"{k}: {v}" for k, v in reply.headers.items()]
    if handler.close_connection:
        head.append("Connection: close")
    handler.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle keep-alive connection is closed after this many seconds

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:  # a GET body is meaningless here, but it must be read to keep the connection in step
            self.rfile.read(length)
        self.server.emulator._serve(self)

    def _not_allowed(self):
        _write(self, Reply(405, b'{"error":"HTTP method not allowed, supported methods: GET"}'))

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed

    def log_message(self, format, *args):  # noqa: A002 - quiet: the emulator serves thousands of requests
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, emulator: Emulator):
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:
        """Clients that hang up (timeouts, soak kills) are routine here: no traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        """Wake the handler threads parked on idle keep-alive connections so they end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
