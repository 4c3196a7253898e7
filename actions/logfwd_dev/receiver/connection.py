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

from logfwd.codecs.lumberjack import EventRun, FrameDecoder, encode_ack
from logfwd.errors import ProtocolError
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
        self._seqs: list[int] = []  # sequence numbers and payloads of the open window so far
        self._payloads: list[bytes] = []

    def serve(self) -> None:
        buffer = bytearray(RECV_SIZE)  # reused: one big read per C frame or two, no allocation each time
        view = memoryview(buffer)
        try:
            while not self.stopping.is_set():
                size = self.sock.recv_into(buffer)
                if not size:
                    if self._decoder.pending or self._expected is not None:
                        log.warning("%s closed the connection in the middle of a window", self.peer)
                    return
                self._handle(self._decoder.feed_runs(view[:size]))
        except ProtocolError as exc:
            log.warning("closing connection from %s: %s", self.peer, exc)
        except ClientGone as exc:
            log.info("closing connection from %s: %s", self.peer, exc)
        except socket.timeout:
            log.info("closing connection from %s: idle for too long", self.peer)
        except OSError as exc:
            if not self.stopping.is_set():
                log.info("connection from %s ended: %s", self.peer, exc)

    def _handle(self, items) -> None:
        for item in items:
            if type(item) is EventRun:
                self._add_events(item.seqs, item.payloads)
            elif self._expected is not None:
                raise ProtocolError("a new window started before the previous one was complete")
            elif item.count == 0:
                self.sock.sendall(KEEPALIVE)  # what Logstash answers to an empty window
            else:
                self._expected = item.count

    def _add_events(self, seqs: list[int], payloads: list[bytes]) -> None:
        """Events for the open window; usually one run holds all of them (one C frame per window)."""
        if self._expected is None:
            raise ProtocolError(f"event {seqs[0]} arrived outside a window")
        wanted = self._expected - len(self._payloads)
        self._seqs += seqs[:wanted]
        self._payloads += payloads[:wanted]
        if len(self._payloads) == self._expected:
            self._complete_window()
        if len(seqs) > wanted:  # what a window count short of its events looks like
            raise ProtocolError(f"event {seqs[wanted]} arrived outside a window")

    def _complete_window(self) -> None:
        seqs, payloads = self._seqs, self._payloads
        self._seqs, self._payloads, self._expected = [], [], None
        self.counters.add("windows")
        self._hold_ack()
        fault = self.faults.draw()
        if fault == "partial" and len(payloads) > 1:
            kept = self.faults.rng.randint(1, len(payloads) - 1)
            self.store.append(payloads[:kept])
            self.sock.sendall(encode_ack(seqs[kept - 1]))
            raise ClientGone(f"fault injection: ACKed {kept} of {len(payloads)} events, then dropped")
        self.store.append(payloads)
        if fault == "drop":
            raise ClientGone(f"fault injection: stored {len(payloads)} events, dropped before the ACK")
        self.sock.sendall(encode_ack(max(seqs)))  # Logstash ACKs the highest sequence number received

    def _hold_ack(self) -> None:
        """Wait ``ack_delay`` seconds like a blocked pipeline, sending keepalives meanwhile."""
        until = time.monotonic() + self.faults.ack_delay
        while (left := until - time.monotonic()) > 0:
            if self.stopping.wait(min(self.faults.keepalive_interval, left)):
                raise ClientGone("receiver stopping")
            if time.monotonic() < until:
                self.sock.sendall(KEEPALIVE)
                self.counters.add("keepalives")
