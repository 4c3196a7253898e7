"""Where each monitored action's next run starts, and which activations it must not send again.

The activations API filters on *start*, but a record becomes visible only when the activation *ends*
(up to a time limit later), plus the lag of the list index. So a run splits each action's range at
``boundary = now - overlap``:

* the **settled** part ``[since, boundary)`` can no longer change; it is delivered oldest first, so a run
  cut short by its deadline still moves ``since`` forward past what it delivered;
* the **live** part ``[boundary, now - settle]`` may still gain records; every run re-reads it, and the
  ids already delivered there (``seen``) are skipped.

``since`` never passes the boundary, so a late record is always re-read by some later run.

An activation whose logs are not in the log store yet (external log stores are filled later) is
*pending*: the cursor moves past it, and it is kept by id until its logs come or the wait ends.
"""

import base64
import binascii
import struct
from dataclasses import dataclass, field

_ENTRY = struct.Struct(">IB")  # start offset from `since` in ms, id length (high bit: hex-packed)
_HEX_PACKED = 0x80


@dataclass
class ActionCursor:
    since: int                                         # epoch ms, inclusive: the next run reads from here
    seen: dict[str, int] = field(default_factory=dict)  # activation id -> start ms, all >= since
    pending: dict[str, int] = field(default_factory=dict)  # activation id -> when first found waiting (ms)


def encode_seen(since: int, seen: dict[str, int]) -> str:
    """Compact, JSON-safe form: 21 bytes an activation id before base64 (32-hex ids packed to 16)."""
    out = bytearray()
    for activation_id, start in sorted(seen.items(), key=lambda item: item[1]):
        offset = start - since
        if not 0 <= offset <= 0xFFFFFFFF:
            continue  # cannot happen after pruning; dropping an entry only risks a re-send
        try:
            raw, tag = bytes.fromhex(activation_id), _HEX_PACKED
            if raw.hex() != activation_id:
                raise ValueError
        except ValueError:
            raw, tag = activation_id.encode(), 0
        if len(raw) > 0x7F:
            continue
        out += _ENTRY.pack(offset, tag | len(raw)) + raw
    return base64.b64encode(bytes(out)).decode("ascii")


def decode_seen(since: int, text: str) -> dict[str, int]:
    """Inverse of ``encode_seen``; raises ``ValueError`` on anything malformed."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"seen ids are not base64: {exc}") from None
    seen, pos = {}, 0
    while pos < len(data):
        if pos + _ENTRY.size > len(data):
            raise ValueError("seen ids are truncated")
        offset, tag = _ENTRY.unpack_from(data, pos)
        pos += _ENTRY.size
        size = tag & 0x7F
        raw = data[pos:pos + size]
        if len(raw) != size:
            raise ValueError("seen ids are truncated")
        pos += size
        seen[raw.hex() if tag & _HEX_PACKED else raw.decode()] = since + offset
    return seen


class ActionRun:
    """One action's progress during one run; ``next_cursor`` is what the checkpoint keeps."""

    def __init__(self, name: str, cursor: ActionCursor | None, *, now_ms: int, overlap_ms: int,
                 settle_ms: int, lookback_ms: int):
        self.name = name
        self.new = cursor is None
        self.since = cursor.since if cursor else now_ms - lookback_ms
        self.seen = dict(cursor.seen) if cursor else {}
        self.pending = dict(cursor.pending) if cursor else {}
        self.logs_unavailable = 0  # pending activations given up on this run (a marker was sent)
        self.boundary = now_ms - overlap_ms
        self.upto = now_ms - settle_ms
        self.delivered_through: int | None = None  # start of the newest delivered settled activation
        self.through_ids: dict[str, int] = {}     # the ids delivered at exactly that start
        self.settled_done = self.settled_range() is None
        self.live_done = self.live_range() is None
        self.activations = 0
        self.events = 0

    def settled_range(self) -> tuple[int, int] | None:
        high = min(self.boundary - 1, self.upto)
        return (self.since, high) if self.since <= high else None

    def live_range(self) -> tuple[int, int] | None:
        low = max(self.since, self.boundary)
        return (low, self.upto) if low <= self.upto else None

    def delivered(self, activation_id: str, start: int, events: int) -> None:
        """Called once the sink acknowledged every event of the activation (in listing order)."""
        self.activations += 1
        self.events += events
        self._passed(activation_id, start)

    def postponed(self, activation_id: str, start: int, found_ms: int) -> None:
        """The activation's logs are not there yet: the cursor moves on, the id waits in ``pending``."""
        self.pending.setdefault(activation_id, found_ms)
        self._passed(activation_id, start)

    def resolved(self, activation_id: str, events: int, gave_up: bool) -> None:
        """A pending activation's logs came (or the wait ended, and a marker went out instead)."""
        if self.pending.pop(activation_id, None) is not None:
            self.activations += 1
            self.events += events
            self.logs_unavailable += gave_up

    def _passed(self, activation_id: str, start: int) -> None:
        if start >= self.boundary:
            self.seen[activation_id] = start
        elif self.delivered_through is None or start >= self.delivered_through:
            # Settled activations come oldest first, and a cut-short run resumes at the newest start
            # delivered: only that millisecond's ids matter, so memory stays flat however long the backlog.
            if start != self.delivered_through:
                self.delivered_through, self.through_ids = start, {}
            self.through_ids[activation_id] = start

    def finish_settled(self) -> None:
        self.settled_done = True

    def finish_live(self) -> None:
        self.live_done = True

    @property
    def complete(self) -> bool:
        return self.settled_done and self.live_done

    def next_cursor(self, max_seen: int) -> ActionCursor:
        seen = self.seen
        if self.settled_done:
            # Never past what this run read up to (upto + 1), whatever overlap and settle say.
            since = max(self.since, min(self.boundary, self.upto + 1))
        else:
            # Inclusive: same-millisecond activations not yet sent are re-read; those sent are kept.
            since = self.delivered_through if self.delivered_through is not None else self.since
            seen = {**self.seen, **self.through_ids}
        kept = sorted(((start, i) for i, start in seen.items() if start >= since), reverse=True)
        # Over the cap, forget the oldest ids: at worst they are re-sent, with the same _id.
        return ActionCursor(since, {i: start for start, i in kept[:max_seen]}, dict(self.pending))

    def lag_seconds(self) -> float:
        """How far the settled frontier trails ``now - overlap`` after this run."""
        cursor_since = self.next_cursor(0).since
        return max(0.0, (self.boundary - cursor_since) / 1000.0)
