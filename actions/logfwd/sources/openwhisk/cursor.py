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

_ENTRY = struct.Struct(">IB")  # format 1: start offset from `since` in ms, id length (high bit: hex-packed)
_HEX_PACKED = 0x80
FORMAT_2 = "2:"  # delta-coded starts and 8-byte fingerprints: about 12 characters an activation
_FINGERPRINT_HEX = 16  # the first 64 bits of a 128-bit activation id
_HEX = frozenset("0123456789abcdef")


def fingerprint(activation_id: str) -> str:
    """What ``seen`` remembers of an activation id: the first 64 of its 128 random bits (16 hex digits).

    Two activations are confused only if one starts while the other is still remembered (within the
    overlap) and their ids share 64 random bits: odds of about 1 in 10^19 for each one. Ids that are not
    32 lowercase hex digits (a vendor's own form) are remembered whole."""
    if len(activation_id) == 32 and _HEX.issuperset(activation_id):  # twice a record: the set walks the text in C
        return activation_id[:_FINGERPRINT_HEX]
    return activation_id


@dataclass
class ActionCursor:
    since: int                                         # epoch ms, inclusive: the next run reads from here
    seen: dict[str, int] = field(default_factory=dict)  # fingerprint of an activation id -> start ms, all >= since
    # From here on, the run that saved this delivered every record it could read: a settled range above
    # it was live then, and only what turned up late needs reading (found by counting, recheck.py).
    covered: int | None = None
    # Full activation id (it is fetched by id) -> when first found waiting for its logs (ms).
    pending: dict[str, int] = field(default_factory=dict)


def encode_seen(since: int, seen: dict[str, int]) -> str:
    """Compact, JSON-safe form (format 2): per id, oldest first, the start as a varint delta from the
    previous one (low bit: a fingerprint follows), then 8 bytes of fingerprint or the id's length and
    text. About 9 bytes an activation before base64, so the live range of a busy action fits the
    activation store's 1 MB result (36,000 ids in ~430 KB)."""
    if not seen:
        return ""
    out, previous = bytearray(), since
    for key, start in sorted(seen.items(), key=lambda item: item[1]):
        if start < previous:
            continue  # before `since`: cannot happen after pruning; dropping it only risks a re-send
        packed = len(key) == _FINGERPRINT_HEX and _HEX.issuperset(key)
        _varint(out, (start - previous) << 1 | packed)
        if packed:
            out += bytes.fromhex(key)
        else:
            raw = key.encode()
            _varint(out, len(raw))
            out += raw
        previous = start
    return FORMAT_2 + base64.b64encode(bytes(out)).decode("ascii")


def decode_seen(since: int, text: str) -> dict[str, int]:
    """Inverse of ``encode_seen`` (and of format 1, full ids); raises ``ValueError`` on anything malformed."""
    version_2 = text.startswith(FORMAT_2)
    try:
        data = base64.b64decode(text[len(FORMAT_2):] if version_2 else text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ValueError(f"seen ids are not base64: {exc}") from None
    return _decode_2(since, data) if version_2 else _decode_1(since, data)


def _decode_2(since: int, data: bytes) -> dict[str, int]:
    seen, pos, start = {}, 0, since
    while pos < len(data):
        head, pos = _read_varint(data, pos)
        start += head >> 1
        size = 8 if head & 1 else None
        if size is None:
            size, pos = _read_varint(data, pos)
        raw = data[pos:pos + size]
        if len(raw) != size:
            raise ValueError("seen ids are truncated")
        pos += size
        seen[raw.hex() if head & 1 else raw.decode()] = start
    return seen


def _decode_1(since: int, data: bytes) -> dict[str, int]:
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
        seen[fingerprint(raw.hex() if tag & _HEX_PACKED else raw.decode())] = since + offset
    return seen


def _varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("seen ids are truncated")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def share(sizes: dict[str, int], budget: int) -> dict[str, int]:
    """How many ids each action may keep when together they may keep ``budget``: all of its own for an
    action that needs less than an even share, the rest split evenly among the busier ones."""
    caps, left, waiting = {}, budget, sorted(sizes, key=sizes.get)
    while waiting:
        even = left // len(waiting)
        name = waiting[0]
        if sizes[name] > even:
            break
        caps[name] = sizes[name]
        left -= sizes[name]
        waiting.pop(0)
    for name in waiting:
        caps[name] = max(0, left // len(waiting))
    return caps


class ActionRun:
    """One action's progress during one run; ``next_cursor`` is what the checkpoint keeps."""

    def __init__(self, name: str, cursor: ActionCursor | None, *, now_ms: int, overlap_ms: int,
                 settle_ms: int, lookback_ms: int):
        self.name = name
        self.new = cursor is None
        self.since = cursor.since if cursor else now_ms - lookback_ms
        self.covered = cursor.covered if cursor else None
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
        """Called once the sink acknowledged every event of the activation (in listing order);
        ``activation_id`` may be its fingerprint (a fingerprint's fingerprint is itself)."""
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
        activation_id = fingerprint(activation_id)
        if start >= self.boundary:
            self.seen[activation_id] = start
        elif self.delivered_through is None or start >= self.delivered_through:
            # Settled activations come oldest first, and a cut-short run resumes at the newest start
            # delivered: only that millisecond's ids matter, so memory stays flat however long the backlog.
            if start != self.delivered_through:
                self.delivered_through, self.through_ids = start, {}
            self.through_ids[activation_id] = start

    def settled_was_live(self) -> bool:
        """Was all of the settled range live at a run that read its live range through?"""
        return self.covered is not None and self.covered <= self.since

    def has_seen(self, activation_id: str) -> bool:
        return fingerprint(activation_id) in self.seen

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
        return ActionCursor(since, {i: start for start, i in kept[:max_seen]},
                            max(since, self.boundary) if self.complete else self.covered, dict(self.pending))

    def lag_seconds(self) -> float:
        """How far the settled frontier trails ``now - overlap`` after this run."""
        cursor_since = self.next_cursor(0).since
        return max(0.0, (self.boundary - cursor_since) / 1000.0)
