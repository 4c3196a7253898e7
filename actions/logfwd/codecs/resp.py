"""RESP2, the Redis wire protocol, with no I/O: commands in, bytes out; bytes in, replies out.

A command is an array of bulk strings: ``*<n>\\r\\n`` then ``$<len>\\r\\n<bytes>\\r\\n`` per argument.
Replies are typed by their first byte::

    +OK\\r\\n                simple string  -> str
    -ERR message\\r\\n       error          -> ErrorReply (a value: the caller decides what it means)
    :42\\r\\n                integer        -> int
    $5\\r\\nhello\\r\\n       bulk string    -> bytes ($-1 is nil -> None)
    *2\\r\\n...              array          -> list (*-1 is nil -> None), elements may be arrays
"""

from ..errors import ProtocolError

__all__ = ["NEED_DATA", "ErrorReply", "ReplyDecoder", "encode_command"]

NEED_DATA = object()
"""Returned by ``ReplyDecoder.next_reply`` while the buffered bytes hold no complete reply."""

MAX_BULK = 512 * 1024 * 1024  # Redis's own limit for one string
_CRLF = b"\r\n"


class ErrorReply(str):
    """An error reply such as ``WRONGPASS invalid username-password pair``; ``code`` is its first word."""

    @property
    def code(self) -> str:
        return self.split(" ", 1)[0]


def encode_command(*args: str | bytes | int) -> bytes:
    """One command as a RESP array of bulk strings (str is sent as UTF-8, int in decimal)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = str(arg).encode()
        elif not isinstance(arg, (bytes, bytearray)):
            raise TypeError(f"RESP arguments are str, bytes or int, not {type(arg).__name__}")
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class ReplyDecoder:
    """Feed it received bytes; take complete replies out in order."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_reply(self):
        """The next complete reply, or ``NEED_DATA``. Raises ``ProtocolError`` on bytes that are not RESP."""
        parsed = self._parse(0)
        if parsed is None:
            return NEED_DATA
        reply, end = parsed
        del self._buffer[:end]
        return reply

    def _line(self, start: int) -> tuple[bytes, int] | None:
        end = self._buffer.find(_CRLF, start)
        if end < 0:
            return None
        return bytes(self._buffer[start:end]), end + 2

    def _length(self, text: bytes, kind: str) -> int:
        try:
            length = int(text)
        except ValueError:
            raise ProtocolError(f"RESP {kind} length {text[:20]!r} is not a number") from None
        if length < -1 or length > MAX_BULK:
            raise ProtocolError(f"RESP {kind} length {length} is out of range")
        return length

    def _parse(self, start: int):
        """``(reply, end offset)`` of the reply starting at ``start``, or ``None`` if incomplete."""
        line = self._line(start)
        if line is None:
            return None
        text, after = line
        kind, body = text[:1], text[1:]
        if kind == b"+":
            return body.decode("utf-8", "replace"), after
        if kind == b"-":
            return ErrorReply(body.decode("utf-8", "replace")), after
        if kind == b":":
            try:
                return int(body), after
            except ValueError:
                raise ProtocolError(f"RESP integer {body[:20]!r} is not a number") from None
        if kind == b"$":
            length = self._length(body, "bulk string")
            if length == -1:
                return None, after
            end = after + length
            if len(self._buffer) < end + 2:
                return None
            if self._buffer[end:end + 2] != _CRLF:
                raise ProtocolError("RESP bulk string is not followed by CRLF")
            return bytes(self._buffer[after:end]), end + 2
        if kind == b"*":
            count = self._length(body, "array")
            if count == -1:
                return None, after
            items = []
            for _ in range(count):
                parsed = self._parse(after)
                if parsed is None:
                    return None
                item, after = parsed
                items.append(item)
            return items, after
        raise ProtocolError(f"RESP reply starts with {text[:20]!r}, which is no reply type")
