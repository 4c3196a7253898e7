"""One client connection of the receiver, answered the way Logstash's beats input answers.

- a window is ACKed once all its events arrived, with the highest sequence number received;
- while the ACK is held (``ack_delay``, standing for a blocked pipeline) ``2A 0`` keepalives go out
  every ``keepalive_interval`` seconds;
- an empty window (``2W 0``) is answered with ``2A 0``;
- invalid JSON or any protocol error closes the connection without an ACK.

Fault injection for soak tests (see ``Faults``) can drop the connection instead of ACKing, or ACK
part of a window and then drop it.
"""

import logging
import random
import socket
import threading
import time
from dataclasses import dataclass, field

from ..codecs.lumberjack import Event, FrameDecoder, Window, encode_ack
from ..errors import ProtocolError
from .output import EventLog

log = logging.getLogger(__name__)

RECV_SIZE = 256 * 1024
KEEPALIVE = encode_ack(0)


@dataclass
class Faults:
    """Behaviour knobs, read afresh for every window (tests may change them while serving).

    ``drop_before_ack``: probability that a complete window is stored, then the connection closed
    without an ACK (the client must resend: duplicates, never loss).
    ``partial_ack``: probability that only the first k < n events are stored and ACKed, then the
    connection closed (the client must resend exactly events k+1..n); one-event windows are ACKed.
    """

    ack_delay: float = 0.0
    keepalive_interval: float = 5.0
    drop_before_ack: float = 0.0
    partial_ack: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    def draw(self) -> str | None:
        """``"drop"``, ``"partial"`` or ``None`` for this window (consumes the rng only when enabled)."""
        if self.drop_before_ack and self.rng.random() < self.drop_before_ack:
            return "drop"
        if self.partial_ack and self.rng.random() < self.partial_ack:
            return "partial"
        return None


class Counters:
    """What a receiver has seen, shared by its connection threads."""

    def __init__(self) -> None:
        self.connections = 0
        self.windows = 0
        self.keepalives = 0
        self._lock = threading.Lock()

    def add(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class ClientGone(Exception):
    """The client closed the connection, or we decided to drop it."""


class Connection:
    """Serves one accepted socket until the client leaves, breaks the protocol or we stop."""

    def __init__(self, sock: socket.socket, peer: str, store: EventLog, faults: Faults,
                 stopping: threading.Event, counters: Counters):
        self.sock = sock
        self.peer = peer
        self.store = store
        self.faults = faults
        self.stopping = stopping
        self.counters = counters
        self._decoder = FrameDecoder()
        self._expected: int | None = None  # event count of the open window; None between windows
        self._events: list[Event] = []

    def serve(self) -> None:
        try:
            while not self.stopping.is_set():
                data = self.sock.recv(RECV_SIZE)
                if not data:
                    if self._decoder.pending or self._expected is not None:
                        log.warning("%s closed the connection in the middle of a window", self.peer)
                    return
                self._handle(self._decoder.feed(data))
        except ProtocolError as exc:
            log.warning("closing connection from %s: %s", self.peer, exc)
        except ClientGone as exc:
            log.info("closing connection from %s: %s", self.peer, exc)
        except socket.timeout:
            log.info("closing connection from %s: idle for too long", self.peer)
        except OSError as exc:
            if not self.stopping.is_set():
                log.info("connection from %s ended: %s", self.peer, exc)

    def _handle(self, frames) -> None:
        for frame in frames:
            if type(frame) is Event:
                if self._expected is None:
                    raise ProtocolError(f"event {frame.seq} arrived outside a window")
                self._events.append(frame)
                if len(self._events) == self._expected:
                    self._complete_window()
            elif type(frame) is Window:
                if self._expected is not None:
                    raise ProtocolError("a new window started before the previous one was complete")
                if frame.count == 0:
                    self.sock.sendall(KEEPALIVE)  # what Logstash answers to an empty window
                else:
                    self._expected = frame.count

    def _complete_window(self) -> None:
        events, self._events, self._expected = self._events, [], None
        self.counters.add("windows")
        self._hold_ack()
        fault = self.faults.draw()
        if fault == "partial" and len(events) > 1:
            kept = events[: self.faults.rng.randint(1, len(events) - 1)]
            self.store.append([event.payload for event in kept])
            self.sock.sendall(encode_ack(kept[-1].seq))
            raise ClientGone(f"fault injection: ACKed {len(kept)} of {len(events)} events, then dropped")
        self.store.append([event.payload for event in events])
        if fault == "drop":
            raise ClientGone(f"fault injection: stored {len(events)} events, dropped before the ACK")
        self.sock.sendall(encode_ack(max(event.seq for event in events)))

    def _hold_ack(self) -> None:
        """Wait ``ack_delay`` seconds like a blocked pipeline, sending keepalives meanwhile."""
        until = time.monotonic() + self.faults.ack_delay
        while (left := until - time.monotonic()) > 0:
            if self.stopping.wait(min(self.faults.keepalive_interval, left)):
                raise ClientGone("receiver stopping")
            if time.monotonic() < until:
                self.sock.sendall(KEEPALIVE)
                self.counters.add("keepalives")
