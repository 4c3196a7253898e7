"""Load balancing for the Lumberjack sink, as Filebeat's ``loadbalance``: one send's windows spread
over every healthy host, not only failed over.

Each host gets a worker thread with its own connection and up to ``pipelining`` windows in flight; a
worker takes the next window as soon as it has room, so a faster host takes more. A window that fails
on a host goes back to the front of the queue (only its unacknowledged tail, after a partial ACK) for
the other hosts, and that host sits out for ``DOWN_FOR`` seconds unless no other host is left.

Windows are acknowledged out of order, so what counts as delivered is the acknowledged *prefix*: the
windows acknowledged in full from the first on, plus the acknowledged part of the next one. A later
window acknowledged beyond a gap is sent again by the pipeline if the gap is never filled (at least
once: same ``_id``).
"""

import collections
import threading
import time
from dataclasses import dataclass
from typing import Sequence

from ...codecs.lumberjack import encode_window
from ...deadline import Deadline
from ...errors import ProtocolError, SinkError, SinkTransientError
from .sink import _explain

DOWN_FOR = 30.0  # seconds a host that failed is left out, while another host is up


@dataclass(eq=False)
class _Window:
    start: int  # index of its first payload
    size: int
    acked: int = 0


class Plan:
    """One send's windows across attempts: which are waiting for a host, and the acknowledged prefix."""

    def __init__(self, total: int, window_size: int):
        self.windows = [_Window(start, min(window_size, total - start)) for start in range(0, total, window_size)]
        self.cond = threading.Condition()
        self.waiting: collections.deque[_Window] = collections.deque()
        self.taken = 0  # windows a worker holds, not yet acknowledged in full nor given back
        self.completed = 0  # windows acknowledged in full
        self.wire_bytes = 0  # their bytes as sent, compressed and framed

    def reopen(self) -> None:
        """Before an attempt: every window not yet acknowledged in full waits for a host."""
        with self.cond:
            self.waiting = collections.deque(w for w in self.windows if w.acked < w.size)
            self.taken = 0

    def take(self, wait: bool) -> _Window | None:
        """The next waiting window; with ``wait``, blocks while other workers hold windows that may come
        back. ``None``: nothing left for this worker."""
        with self.cond:
            while not self.waiting:
                if not wait or not self.taken:
                    return None
                self.cond.wait()
            self.taken += 1
            return self.waiting.popleft()

    def ack(self, window: _Window, acked: int, wire_bytes: int = 0) -> bool:
        """Record an ACK; True once the window is acknowledged in full (``wire_bytes``: as sent)."""
        with self.cond:
            window.acked = max(window.acked, acked)
            if window.acked < window.size:
                return False
            self.taken -= 1
            self.completed += 1
            self.wire_bytes += wire_bytes
            self.cond.notify_all()
            return True

    def give_back(self, windows: Sequence[_Window]) -> None:
        """A worker failed: its windows (their unacknowledged tails) wait for another host, first in line."""
        with self.cond:
            for window in reversed(windows):
                if window.acked < window.size:
                    self.waiting.appendleft(window)
                    self.taken -= 1
            self.cond.notify_all()

    @property
    def done(self) -> bool:
        return all(w.acked == w.size for w in self.windows)

    def acked_prefix(self) -> int:
        acked = 0
        for window in self.windows:
            acked += window.acked
            if window.acked < window.size:
                break
        return acked


class Balancer:
    """Sends a plan's windows over every healthy host at once. ``sink`` opens connections and holds
    the settings (compression, timeouts, pipelining)."""

    def __init__(self, sink):
        self.sink = sink
        self.links: dict[int, object] = {}  # host index -> its open _Link, kept between sends
        self.down_until = [0.0] * len(sink.hosts)

    def attempt(self, payloads: Sequence[bytes], plan: Plan, deadline: Deadline) -> None:
        """One attempt: returns once every window is acknowledged, else raises the hosts' errors."""
        plan.reopen()
        now = time.monotonic()
        hosts = [i for i in range(len(self.sink.hosts)) if self.down_until[i] <= now] or range(len(self.sink.hosts))
        errors: dict[int, BaseException] = {}
        workers = [threading.Thread(target=self._work, args=(i, payloads, plan, deadline, errors),
                                    name=f"logfwd-lumberjack-{i}", daemon=True) for i in hosts]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        for i in errors:
            self.down_until[i] = time.monotonic() + DOWN_FOR
        if plan.done:
            return
        failures = list(errors.values())
        for failure in failures:
            if not isinstance(failure, SinkError):
                raise failure  # a bug, not a host's fault
        message = "; ".join(str(failure) for failure in failures) or "no host took the windows"
        if failures and all(isinstance(f, SinkError) and not isinstance(f, SinkTransientError) for f in failures):
            raise SinkError(message)  # e.g. certificates everywhere: waiting will not fix them
        raise SinkTransientError(message)

    def _work(self, index: int, payloads, plan: Plan, deadline: Deadline, errors: dict) -> None:
        sink, in_flight, link = self.sink, collections.deque(), None
        try:
            link = self._link(index, deadline)
            until = 0.0
            while True:
                while len(in_flight) < sink.pipelining:
                    window = plan.take(wait=not in_flight)
                    if window is None:
                        break
                    base = window.acked
                    if not in_flight:
                        until = time.monotonic() + deadline.budget(sink.window_timeout)
                    data = encode_window(payloads[window.start + base : window.start + window.size],
                                         sink.compression_level)
                    in_flight.append((window, base, len(data)))
                    link.send(data, until)
                if not in_flight:
                    return
                for seq in link.read_acks(until):
                    if seq == 0:
                        continue  # keepalive
                    window, base, size = in_flight[0]
                    if seq > window.size - base:
                        raise ProtocolError(f"ACK {seq} for a window of {window.size - base} events")
                    if plan.ack(window, base + seq, size):
                        in_flight.popleft()
                        until = time.monotonic() + deadline.budget(sink.window_timeout)
        except BaseException as exc:  # the connection is in an unknown state: drop it, hand the windows on
            explained = exc
            if link is not None and isinstance(exc, (OSError, ProtocolError, SinkTransientError)):
                explained = _explain(exc, link, tls=sink.ssl_context is not None)  # before the socket closes
            self.links.pop(index, None)
            if link is not None:
                link.close()
            plan.give_back([window for window, *_ in in_flight])
            errors[index] = explained

    def _link(self, index: int, deadline: Deadline):
        link = self.links.get(index)
        if link is not None and link.idle_and_open():
            return link
        if link is not None:
            link.close()
        host, port = self.sink.hosts[index]
        self.links[index] = link = self.sink._open(host, port, deadline.budget(self.sink.connect_timeout))
        return link

    def close(self) -> None:
        for link in self.links.values():
            link.close()
        self.links.clear()
