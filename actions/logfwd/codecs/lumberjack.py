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

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "AckDecoder",
    "Event",
    "Frame",
    "FrameDecoder",
    "Window",
    "encode_ack",
    "encode_window",
]

VERSION = 0x32  # ASCII "2"
WINDOW, JSON, COMPRESSED, ACK = 0x57, 0x4A, 0x43, 0x41  # "W", "J", "C", "A"
DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024
"""Largest J payload, C payload or decompressed C content accepted (a guard against absurd lengths)."""

_TAG_AND_U32 = struct.Struct(">2sI")  # 2W count, 2A seq, 2C len
_JSON_HEADER = struct.Struct(">2sII")  # 2J seq len
_U32 = struct.Struct(">I")
_U32_PAIR = struct.Struct(">II")


def encode_window(payloads: Sequence[bytes], compression_level: int = 3) -> bytes:
    """One window: ``2W n``, then events numbered 1..n, all in ONE ``2C`` frame unless level is 0.

    ``payloads`` are serialized JSON objects. Go's receiver drops a window split over several ``C``
    frames, so the whole window is compressed in one call.
    """
    if not 0 <= compression_level <= 9:
        raise ValueError(f"compression_level must be 0..9, got {compression_level}")
    pack = _JSON_HEADER.pack
    events = b"".join([pack(b"2J", seq, len(p)) + p for seq, p in enumerate(payloads, 1)])
    window = _TAG_AND_U32.pack(b"2W", len(payloads))
    if compression_level == 0:
        return window + events
    compressed = zlib.compress(events, compression_level)
    return b"".join((window, _TAG_AND_U32.pack(b"2C", len(compressed)), compressed))


def encode_ack(seq: int) -> bytes:
    """``2A seq``; ``encode_ack(0)`` is the keepalive."""
    return _TAG_AND_U32.pack(b"2A", seq)


# Not frozen: a frozen dataclass is twice as slow to build, and the receiver builds one per event.
@dataclass(slots=True)
class Window:
    """``2W``: the next ``count`` events form one window."""

    count: int


@dataclass(slots=True)
class Event:
    """``2J``: one event, its JSON payload kept as bytes (the receiver decides how to parse it)."""

    seq: int
    payload: bytes


Frame = Window | Event


def _describe_byte(value: int) -> str:
    return f"{chr(value)!r} (0x{value:02x})" if 0x20 <= value < 0x7F else f"0x{value:02x}"


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


class FrameDecoder:
    """Server side: turns received bytes into ``Window`` and ``Event`` frames.

    ``C`` frames are decompressed and their inner frames returned in order. Anything that breaks the
    protocol raises ``ProtocolError``; the stream cannot be resynchronised after that.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD):
        self.max_payload = max_payload
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        used = self._parse(self._buffer, frames, nested=False)
        del self._buffer[:used]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received but not yet decoded (part of a frame)."""
        return len(self._buffer)

    def _check_length(self, length: int, what: str) -> None:
        if length > self.max_payload:
            raise ProtocolError(f"{what} of {length} bytes exceeds the limit of {self.max_payload} bytes")

    def _parse(self, buffer, frames: list[Frame], nested: bool) -> int:
        """Decode whole frames from ``buffer`` into ``frames``; return how many bytes were used."""
        size = len(buffer)
        offset = 0
        limit = self.max_payload
        append = frames.append
        while size - offset >= 6:
            if buffer[offset] != VERSION:
                _check_version(buffer[offset])
            kind = buffer[offset + 1]
            if kind == JSON:  # the hot path: keep it free of calls that are not needed
                if size - offset < 10:
                    break
                seq, length = _U32_PAIR.unpack_from(buffer, offset + 2)
                if length > limit:
                    self._check_length(length, "JSON frame")
                start = offset + 10
                end = start + length
                if end > size:
                    break
                append(Event(seq, bytes(buffer[start:end])))
                offset = end
            elif kind == WINDOW:
                append(Window(_U32.unpack_from(buffer, offset + 2)[0]))
                offset += 6
            elif kind == COMPRESSED and not nested:
                (length,) = _U32.unpack_from(buffer, offset + 2)
                self._check_length(length, "compressed frame")
                start = offset + 6
                if size - start < length:
                    break
                inner = self._decompress(buffer[start : start + length])
                if self._parse(inner, frames, nested=True) != len(inner):
                    raise ProtocolError("compressed frame ends in the middle of a frame")
                offset = start + length
            else:
                where = " inside a compressed frame" if nested else ""
                raise ProtocolError(f"unknown frame type byte {_describe_byte(kind)}{where}")
        return offset

    def _decompress(self, data) -> bytes:
        inflater = zlib.decompressobj()
        try:
            inner = inflater.decompress(data, self.max_payload)
        except zlib.error as exc:
            raise ProtocolError(f"compressed frame is not a valid zlib stream: {exc}") from None
        if inflater.unconsumed_tail:
            raise ProtocolError(f"compressed frame inflates beyond the limit of {self.max_payload} bytes")
        if not inflater.eof or inflater.unused_data:
            raise ProtocolError("compressed frame holds a truncated or padded zlib stream")
        return inner
