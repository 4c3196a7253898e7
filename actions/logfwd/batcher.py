"""Sends of encoded events, one at a time in the background, and what runs once they are acknowledged."""

import sys
from bisect import bisect_right
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import accumulate
from typing import Callable, Sequence

from .deadline import Deadline
from .errors import DeliveryError
from .sinks.base import Sink

# A unit that covers several records (see ``Unit.delivered_part``): what to run if only some of its first
# payloads were acknowledged, where its first payload is in this send (negative: earlier sends carried
# some), and its payloads (to count the bytes of the part it took).
Part = tuple[Callable[[int], int], int, Sequence[bytes]]
# (payloads of its send up to the unit's last, the unit's events and bytes, what to run, what to run if
# only some sinks of a tee took it, and its Part if any)
Completion = tuple[int, int, int, Callable[[], None] | None, Callable[[list[str]], None] | None, Part | None]

# The send in flight needs the GIL between its steps (connect, handshake, each write, the close), and
# the thread building the next window, busy in Python, hands it over only every switch interval: 5 ms
# by default. Measured (kinesis_syslog bench): a 4,096-line TLS send took 50-100 ms instead of 33 ms,
# and the next window then waited for it. While a batcher runs, the interval is at most this.
SWITCH_INTERVAL = 0.0005


class Batcher:
    """Collects payloads into sends of at most ``max_events`` events and ``max_bytes`` bytes.

    A full send goes to a background thread, so the next one is built (JSON, the next API page) while
    the receiver works on this one; at most one send is in flight. Each unit's ``done`` runs on the
    caller's thread, in order, and only once the sink acknowledged that unit's last payload and
    everything before it. A failed send runs the completions its acknowledged prefix covers and
    raises, so the checkpoint reflects exactly what was delivered.

    ``events_sent`` and ``bytes_sent`` count the units that were delivered whole: the same events a
    source counts, so a run's totals and its per-record counts agree also after a failed send (a
    unit acknowledged only in part is sent again next run, and counted then). A unit that covers
    several records and says so (``delivered_part``) is told, after a failed send, how many of its
    first payloads were acknowledged; the payloads of the records it then takes as delivered count.
    """

    def __init__(self, sink: Sink, deadline: Deadline, *, max_events: int = 2048, max_bytes: int = 8 << 20,
                 on_flush: Callable[["Batcher"], None] | None = None):
        self.sink = sink
        self.deadline = deadline
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.on_flush = on_flush
        self.payloads: list[bytes] = []
        self.size = 0
        self.completions: list[Completion] = []
        self.events_sent = self.bytes_sent = 0
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="logfwd-send")
        self._in_flight: tuple[Future, list[Completion], int] | None = None
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))

    def add(self, payloads: Sequence[bytes], done: Callable[[], None] | None = None,
            partly: Callable[[list[str]], None] | None = None,
            delivered_part: Callable[[int], int] | None = None) -> None:
        """Queue one unit's payloads (serialized events); ``done`` runs once all of them are acknowledged,
        ``partly`` (a tee) if its send failed but some sinks took their share of it whole, and
        ``delivered_part`` if a send failed after the sink acknowledged some of its first payloads."""
        payloads = list(payloads)  # once: a source's payloads may be joined from parts when read
        size = sum(map(len, payloads))
        if payloads and self.payloads and (len(self.payloads) >= self.max_events
                                           or self.size + len(payloads[0]) > self.max_bytes):
            self.flush()  # what the loop below does at the first payload; then the unit may fit whole
            # (the s3 source's units are as big as a send: each came to a full one, 0.5 µs a line of loop)
        if len(self.payloads) + len(payloads) <= self.max_events and self.size + size <= self.max_bytes:
            # The unit fits the send being built (nearly always): the loop below would add it whole too.
            self.payloads += payloads
            self.size += size
            part = None if delivered_part is None else (delivered_part, len(self.payloads) - len(payloads), payloads)
            self.completions.append((len(self.payloads), len(payloads), size, done, partly, part))
            return
        # It does not fit: split it where the loop "flush once the next payload would overfill the send"
        # would, a send's share at a time (a unit of a page of records is as big as a send).
        ends = list(accumulate(map(len, payloads)))
        added = 0
        while added < len(payloads):
            before = ends[added - 1] if added else 0
            limit = min(len(payloads), added + self.max_events - len(self.payloads))
            fit = bisect_right(ends, before + self.max_bytes - self.size, added, max(added, limit)) - added
            if not fit and self.payloads:
                if delivered_part is not None and added:
                    # The unit goes on in the next send: this one still says where its first part is, at a
                    # position past its end (never completed whole), for a failure to credit it.
                    part = (delivered_part, len(self.payloads) - added, payloads)
                    self.completions.append((len(self.payloads) + 1, 0, 0, None, None, part))
                self.flush()
                continue
            fit = fit or 1  # a payload larger than a send goes alone
            self.payloads += payloads[added:added + fit]
            self.size += ends[added + fit - 1] - before
            added += fit
        part = None if delivered_part is None else (delivered_part, len(self.payloads) - len(payloads), payloads)
        self.completions.append((len(self.payloads), len(payloads), size, done, partly, part))

    def flush(self) -> None:
        """Wait for the send in flight, then hand over what is queued (if anything)."""
        self._wait()
        if self.payloads:
            future = self._sender.submit(self.sink.send, self.payloads, self.deadline)
            self._in_flight = (future, self.completions, len(self.payloads))
        else:
            self._complete(self.completions, 0)  # nothing before them is unacknowledged any more
        self.payloads, self.size, self.completions = [], 0, []

    def drain(self) -> None:
        """Wait for the send in flight (its completions run if it was acknowledged) and stop the sender.
        What is still queued is dropped: it was never sent, so the checkpoint never covered it."""
        try:
            self._wait()
        finally:
            self._sender.shutdown(wait=True)
            if sys.getswitchinterval() == min(self._switch_interval, SWITCH_INTERVAL):  # unless changed since
                sys.setswitchinterval(self._switch_interval)

    def _wait(self) -> None:
        if self._in_flight is None:
            return
        future, completions, count = self._in_flight
        self._in_flight = None
        try:
            future.result()
        except DeliveryError as exc:
            self._complete(completions, exc.acked)
            self._credit_part(completions, exc.acked)
            self._partly(completions, exc)
            raise
        self._complete(completions, count)
        if self.on_flush:
            self.on_flush(self)

    def _complete(self, completions: list[Completion], acked: int) -> None:
        for position, events, size, done, _, _ in completions:
            if position > acked:
                break
            self.events_sent += events
            self.bytes_sent += size
            if done is not None:
                done()

    def _credit_part(self, completions: list[Completion], acked: int) -> None:
        """After a failed send: the first unit not acknowledged whole, if it covers several records and
        the sink acknowledged some of its payloads, takes what they complete."""
        first = next((completion for completion in completions if completion[0] > acked), None)
        part = first[5] if first is not None else None
        if part is None:
            return
        delivered_part, start, payloads = part
        if acked >= start:  # also none of its payloads: its first records may have none
            taken = delivered_part(acked - start)
            self.events_sent += taken
            self.bytes_sent += sum(map(len, payloads[:taken]))

    @staticmethod
    def _partly(completions: list[Completion], exc: DeliveryError) -> None:
        for position, _, _, _, partly, _ in completions:
            if position > exc.acked and partly is not None:
                took = exc.took_whole(position)
                if took:
                    partly(took)
