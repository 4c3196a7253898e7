"""Lumberjack v2 (Beats protocol) frames, with no I/O: bytes in, frames or ACK numbers out.

Frames (integers are u32 big-endian, the version byte is ASCII ``2``)::

    2W count              window: ``count`` events follow
    2J seq len json       one event, a UTF-8 JSON object
    2C len zlib(frames)   whole frames, zlib-compressed (RFC 1950, with header)
    2A seq                ACK: events 1..seq of the window are safe; ``2A 0`` is a keepalive

The client encodes windows and decodes ACKs (``encode_window``, ``AckDecoder``); the server decodes
windows and events and encodes ACKs (``FrameDecoder``, ``encode_ack``). What an ACK *means* (keepalive,
partial, complete) is the client's business, not the codec's.
"""

import struct
import zlib
from dataclasses import dataclass
from typing import Sequence

from ..errors import ProtocolError
from . import deflate

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "AckDecoder",
    "Event",
    "EventRun",
    "Frame",
    "FrameDecoder",
    "Window",
    "encode_ack",
    "encode_window",
    "foreign_protocol",
]

VERSION = 0x32  # ASCII "2"
WINDOW, JSON, COMPRESSED, ACK = 0x57, 0x4A, 0x43, 0x41  # "W", "J", "C", "A"
DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024
"""Largest J payload, C payload or decompressed C content accepted (a guard against absurd lengths)."""

_INFLATE_STEP = 128 * 1024
"""C frames inflate this much per call. In one call zlib grows its output in blocks of up to 1 MiB that
the allocator returns to the system and faults back in for every window (~0.6 us an event)."""

_TAG_AND_U32 = struct.Struct(">2sI")  # 2W count, 2A seq, 2C len
_JSON_HEADER = struct.Struct(">2sII")  # 2J seq len
_U32 = struct.Struct(">I")


def encode_window(payloads: Sequence[bytes], compression_level: int = 3) -> bytes:
    """One window: ``2W n``, then events numbered 1..n, all in ONE ``2C`` frame unless level is 0.

    ``payloads`` are serialized JSON objects. Go's receiver drops a window split over several ``C``
    frames, so the whole window is compressed in one call.
    """
    if not 0 <= compression_level <= 9:
        raise ValueError(f"compression_level must be 0..9, got {compression_level}")
    # Headers and payloads interleaved and joined once: each payload is copied once, not twice.
    frames: list = [None] * (2 * len(payloads))
    frames[0::2] = map(_JSON_HEADER.pack, [b"2J"] * len(payloads), range(1, len(payloads) + 1), map(len, payloads))
    frames[1::2] = payloads
    events = b"".join(frames)
    window = _TAG_AND_U32.pack(b"2W", len(payloads))
    if compression_level == 0:
        return window + events
    compressed = deflate.compress(events, compression_level)
    return b"".join((window, _TAG_AND_U32.pack(b"2C", len(compressed)), compressed))


def encode_ack(seq: int) -> bytes:
    """``2A seq``; ``encode_ack(0)`` is the keepalive."""
    return _TAG_AND_U32.pack(b"2A", seq)


# Not frozen: a frozen dataclass is twice as slow to build.
@dataclass(slots=True)
class Window:
    """``2W``: the next ``count`` events form one window."""

    count: int


@dataclass(slots=True)
class Event:
    """``2J``: one event, its JSON payload kept as bytes (the receiver decides how to parse it)."""

    seq: int
    payload: bytes


@dataclass(slots=True)
class EventRun:
    """Consecutive ``2J`` frames (no ``2W`` between them): their sequence numbers and payloads, in order.

    What a server gets from ``FrameDecoder.feed_runs``: one object for a whole ``C`` frame's events
    instead of one per event, which is most of the decoding cost at a few hundred bytes an event.
    """

    seqs: list[int]
    payloads: list[bytes]


Frame = Window | Event


def _describe_byte(value: int) -> str:
    return f"{chr(value)!r} (0x{value:02x})" if 0x20 <= value < 0x7F else f"0x{value:02x}"


def _whole_size(data: bytes) -> int:
    """Bytes the frame at the start of ``data`` needs to be whole, as far as its header tells."""
    if len(data) < 6:
        return 6
    if data[1] == COMPRESSED:
        return 6 + _U32.unpack_from(data, 2)[0]
    if data[1] == JSON:
        return 10 + _U32.unpack_from(data, 6)[0] if len(data) >= 10 else 10
    return 6


def _check_version(value: int) -> None:
    if value != VERSION:
        hint = ": Lumberjack v1 is not supported, use v2" if value == 0x31 else ""
        raise ProtocolError(f"unexpected protocol version byte {_describe_byte(value)}, expected '2'{hint}")


class AckDecoder:
    """Client side: turns received bytes into ACK sequence numbers; keeps partial frames."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[int]:
        buffer = self._buffer + data
        acks = []
        end = len(buffer) - len(buffer) % 6
        for offset in range(0, end, 6):
            _check_version(buffer[offset])
            if buffer[offset + 1] != ACK:
                raise ProtocolError(f"expected an ACK frame, got frame type {_describe_byte(buffer[offset + 1])}")
            acks.append(_U32.unpack_from(buffer, offset + 2)[0])
        self._buffer = buffer[end:]
        return acks


def foreign_protocol(data: bytes) -> str | None:
    """What a peer that does not speak Lumberjack answered with, judged from its first bytes: "HTTP",
    "TLS", or None when they do not look like either."""
    if data[:5] == b"HTTP/" or data.lstrip()[:1] == b"<":  # a status line, or an HTML error page
        return "HTTP"
    if len(data) >= 2 and data[0] in (0x15, 0x16) and data[1] == 0x03:  # a TLS alert or handshake record
        return "TLS"
    return None


class FrameDecoder:
    """Server side: turns received bytes into windows and events.

    ``feed`` returns one ``Window`` or ``Event`` per frame; ``feed_runs`` returns ``Window`` and
    ``EventRun`` objects (the receiver's hot path). ``C`` frames are decompressed and their inner frames
    returned in order. Anything that breaks the protocol raises ``ProtocolError``; the stream cannot be
    resynchronised after that.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD):
        self.max_payload = max_payload
        # Received bytes not decoded yet, kept as they came and joined only once the next frame is
        # whole: a growing and shrinking buffer of a window's size makes the allocator give memory back
        # and fault it in again for every window.
        self._chunks: list[bytes] = []
        self._pending = 0
        self._wanted = 6  # bytes the next frame needs, as far as its header tells

    def feed(self, data) -> list[Frame]:
        frames: list[Frame] = []
        for item in self.feed_runs(data):
            if type(item) is EventRun:
                frames += map(Event, item.seqs, item.payloads)
            else:
                frames.append(item)
        return frames

    def feed_runs(self, data) -> list[Window | EventRun]:
        """Like ``feed``, with each stretch of consecutive events as one ``EventRun``."""
        self._chunks.append(bytes(data))
        self._pending += len(data)
        if self._pending < self._wanted:
            return []
        buffer = b"".join(self._chunks)  # no copy when there is one chunk
        runs: list[Window | EventRun] = []
        used = self._parse(buffer, runs, nested=False)
        rest = buffer[used:]
        self._chunks = [rest] if rest else []
        self._pending = len(rest)
        self._wanted = _whole_size(rest)
        return runs

    @property
    def pending(self) -> int:
        """Bytes received but not yet decoded (part of a frame)."""
        return self._pending

    def _check_length(self, length: int, what: str) -> None:
        if length > self.max_payload:
            raise ProtocolError(f"{what} of {length} bytes exceeds the limit of {self.max_payload} bytes")

    def _parse(self, buffer, runs: list, nested: bool) -> int:
        """Decode whole frames from ``buffer`` into ``runs``; return how many bytes were used."""
        size = len(buffer)
        offset = 0
        run = None  # the EventRun that further J frames extend, until a W or C frame comes
        while size - offset >= 6:
            if buffer[offset] != VERSION:
                _check_version(buffer[offset])
            kind = buffer[offset + 1]
            if kind == JSON:
                seqs, payloads = ([], []) if run is None else (run.seqs, run.payloads)
                end = self._parse_events(buffer, offset, seqs, payloads)
                if end == offset:
                    break  # the next J frame is not whole yet
                if run is None:
                    run = EventRun(seqs, payloads)
                    runs.append(run)
                offset = end
            elif kind == WINDOW:
                runs.append(Window(_U32.unpack_from(buffer, offset + 2)[0]))
                run = None
                offset += 6
            elif kind == COMPRESSED and not nested:
                (length,) = _U32.unpack_from(buffer, offset + 2)
                self._check_length(length, "compressed frame")
                start = offset + 6
                if size - start < length:
                    break
                inner = self._decompress(buffer[start : start + length])
                if self._parse(inner, runs, nested=True) != len(inner):
                    raise ProtocolError("compressed frame ends in the middle of a frame")
                run = None
                offset = start + length
            else:
                where = " inside a compressed frame" if nested else ""
                raise ProtocolError(f"unknown frame type byte {_describe_byte(kind)}{where}")
        return offset

    def _parse_events(self, buffer, offset: int, seqs: list[int], payloads: list) -> int:
        """Consecutive whole J frames from ``offset`` onto ``seqs`` and ``payloads``; the offset after them.

        The hot loop (once per event): nothing in it that is not needed.
        """
        size = len(buffer)
        limit = self.max_payload
        unpack = _JSON_HEADER.unpack_from
        add_seq, add_payload = seqs.append, payloads.append
        while size - offset >= 10:
            tag, seq, length = unpack(buffer, offset)
            if tag != b"2J":
                break
            if length > limit:
                self._check_length(length, "JSON frame")
            start = offset + 10
            end = start + length
            if end > size:
                break
            add_seq(seq)
            add_payload(buffer[start:end])
            offset = end
        return offset

    def _decompress(self, data) -> bytes:
        """The frames inside a C frame, inflated in steps of ``_INFLATE_STEP`` up to ``max_payload`` bytes."""
        inflater = zlib.decompressobj()
        pieces: list[bytes] = []
        size = 0
        try:
            while True:
                wanted = min(_INFLATE_STEP, self.max_payload - size + 1)  # one byte more shows the excess
                piece = inflater.decompress(data, wanted)
                pieces.append(piece)
                size += len(piece)
                if size > self.max_payload:
                    raise ProtocolError(f"compressed frame inflates beyond the limit of {self.max_payload} bytes")
                data = inflater.unconsumed_tail
                if not data and (inflater.eof or len(piece) < wanted):
                    break
        except zlib.error as exc:
            raise ProtocolError(f"compressed frame is not a valid zlib stream: {exc}") from None
        if not inflater.eof or inflater.unused_data:
            raise ProtocolError("compressed frame holds a truncated or padded zlib stream")
        return b"".join(pieces)
