"""Windows of encoded events, and the completions that may run once a window is acknowledged."""

import json
from typing import Callable, Sequence

from .deadline import Deadline
from .errors import DeliveryError
from .sinks.base import Sink


def encode_event(event: dict) -> bytes:
    # Lone surrogates (from \\ud800 escapes in a log line) cannot be UTF-8: replace them rather than
    # poison the window, which the receiver would reject as a whole.
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


class Batcher:
    """Collects payloads into windows of at most ``max_events`` events and ``max_bytes`` bytes.

    Each unit's ``done`` is queued behind its last payload and runs only once the sink acknowledged
    that payload and everything before it; a failed window runs the completions it covered and
    raises, so the checkpoint reflects exactly what was delivered.
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
        self.completions: list[tuple[int, Callable[[], None]]] = []  # (payloads before it, done)
        self.events_sent = self.bytes_sent = 0

    def add(self, events: Sequence[dict], done: Callable[[], None] | None = None) -> None:
        for event in events:
            payload = encode_event(event)
            if self.payloads and (len(self.payloads) >= self.max_events or self.size + len(payload) > self.max_bytes):
                self.flush()
            self.payloads.append(payload)
            self.size += len(payload)
        if done is not None:
            self.completions.append((len(self.payloads), done))

    def flush(self) -> None:
        """Send what is queued (if anything) and run the completions it covers."""
        if self.payloads:
            try:
                self.sink.send(self.payloads, self.deadline)
            except DeliveryError as exc:
                self._complete(exc.acked)
                raise
            self.events_sent += len(self.payloads)
            self.bytes_sent += self.size
        self._complete(len(self.payloads))
        self.payloads, self.size = [], 0
        if self.on_flush:
            self.on_flush(self)

    def _complete(self, acked: int) -> None:
        ready = [done for position, done in self.completions if position <= acked]
        self.completions = [(position, done) for position, done in self.completions if position > acked]
        for done in ready:
            done()
