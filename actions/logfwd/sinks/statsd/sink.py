"""The statsd sink: events' metrics become statsd lines, sent over UDP to the collector that owns them.

UDP confirms nothing, so the guarantee is best effort. What can be seen is reported: a send that
fails (name not resolved, network unreachable) and a collector's port that answers with ICMP "port
unreachable". That ICMP answer reaches us through the connected socket of that collector: on
loopback usually before ``send`` returns (then this request fails); from a remote host, or on a busy
machine, a moment later (then the next send finds it, and counts it against the collector without
failing the new request).
"""

import os
import socket
import threading
from typing import Sequence

from ...codecs.statsd import DEFAULT_PACKET_SIZE, counters_and_timers, metric_name, pack
from ...deadline import Deadline
from ...errors import DeliveryError
from ...plugs import BEST_EFFORT
from .routing import ROUTINGS

__all__ = ["StatsdSink"]


class StatsdSink:
    guarantee = BEST_EFFORT

    def __init__(self, collectors: Sequence[tuple[str, int]], *, routing: str = "consistent", prefix: str = "",
                 packet_size: int = DEFAULT_PACKET_SIZE, count_by: str = ""):
        self.collectors = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in collectors]
        self._addresses = list(collectors)
        self._router = ROUTINGS[routing](self.collectors)
        self.routing = routing
        self._prefix = f"{prefix}." if prefix else ""
        self._packet_size = packet_size
        self._count_by = tuple(count_by.split(".")) if count_by else ()
        self._sockets: list[socket.socket | None] = [None] * len(collectors)
        self._lock = threading.Lock()  # one send at a time: an ICMP error must be read by the send it answers
        self.batches_sent = 0          # datagrams handed to the network
        self.send_errors = {name: 0 for name in self.collectors}
        self.errors: list[str] = []    # the latest problems, newest last (bounded)

    def encode(self, events: Sequence[dict]) -> list[bytes]:
        """One line per metric name (counters summed over these events) and per timer value. An event
        brings its own ``metrics`` ``[(name, "c" | "ms", value)]``, and with ``count_by`` one count
        under the value of that field."""
        prefix = self._prefix
        metrics_only = getattr(events, "metrics", None)
        if metrics_only is not None and not self._count_by:  # the drain's events, never built: see DrainEvents
            metrics = metrics_only()
            return counters_and_timers([(prefix + name, kind, value) for name, kind, value in metrics]
                                       if prefix else metrics)
        metrics = [(prefix + name, kind, value) for event in events for name, kind, value in event.get("metrics", ())]
        if self._count_by:
            for event in events:
                value = _field(event, self._count_by)
                if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                    metrics.append((f"{prefix}{value}", "c", 1))
        return counters_and_timers(metrics)

    def send(self, payloads: Sequence[bytes], deadline: Deadline) -> None:
        """Send every line to its collector, packed into datagrams. ``DeliveryError`` names each
        collector that failed; ``acked`` counts the leading lines whose collectors all took theirs."""
        owners = [self._router.collector(metric_name(line)) for line in payloads]
        failed: dict[int, str] = {}
        with self._lock:
            for index in sorted(set(owners)):
                lines = [line for line, owner in zip(payloads, owners) if owner == index]
                problem = self._send_to(index, pack(lines, self._packet_size))
                if problem:
                    failed[index] = problem
        if failed:
            acked = next((position for position, owner in enumerate(owners) if owner in failed), len(owners))
            raise DeliveryError("; ".join(failed.values()), acked=acked)

    def _send_to(self, index: int, packets: list[bytes]) -> str | None:
        name = self.collectors[index]
        try:
            sock = self._socket(index)
            earlier = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if earlier:  # the answer to an earlier request's datagram
                self._problem(index, f"statsd collector {name} refused an earlier datagram "
                                     f"({_reason(earlier)})")
            for packet in packets:
                sock.send(packet)
                self.batches_sent += 1
            refused = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if refused:
                raise OSError(refused, _reason(refused))
        except OSError as exc:
            self._close(index)
            return self._problem(index, f"statsd collector {name} did not take {len(packets)} datagram(s) "
                                        f"({exc.strerror or exc}); check that it runs and listens on UDP "
                                        f"{name}")
        return None

    def _socket(self, index: int) -> socket.socket:
        sock = self._sockets[index]
        if sock is None:
            host, port = self._addresses[index]
            family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(family, kind, proto)
            try:
                sock.connect(address)  # connected: the kernel hands us the collector's ICMP errors
            except OSError:
                sock.close()
                raise
            self._sockets[index] = sock
        return sock

    def _problem(self, index: int, message: str) -> str:
        self.send_errors[self.collectors[index]] += 1
        self.errors = self.errors[-19:] + [message]
        return message

    def _close(self, index: int) -> None:
        sock, self._sockets[index] = self._sockets[index], None
        if sock is not None:
            sock.close()

    def describe(self) -> str:
        return f"statsd over UDP to {', '.join(self.collectors)} ({self.routing} routing)"

    def close(self) -> None:
        for index in range(len(self._sockets)):
            self._close(index)


def _field(event: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(event, dict):
            return None
        event = event.get(key)
    return event


def _reason(errno_value: int) -> str:
    return os.strerror(errno_value)
