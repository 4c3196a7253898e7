"""RFC 6587 framing and RFC 5424 message parts, with no I/O: bytes in, messages and fields out.

A TCP syslog stream is framed one of two ways, told apart by each frame's first byte (RFC 6587 3.4):
a digit starts octet counting (``LEN SP MSG``), ``<`` starts a message ended by LF.

Fields come out as the text of the message, NILVALUE ``-`` included, named as the tests name rsyslog's
properties (pri, version, timestamp, hostname, app_name, procid, msgid, structured_data, msg), so a
message can be compared with what rsyslog made of the same bytes.
"""

from logfwd.codecs.syslog import structured_data_end

__all__ = ["Framer", "FramingError", "parse_message"]

_MAX_FRAME = 16 << 20  # a length beyond this is a broken stream, not a message


class FramingError(ValueError):
    """The stream is not octet-counted nor LF-framed syslog: the connection cannot continue."""


class Framer:
    """Feed it the bytes of one connection as they come; it returns every complete message."""

    def __init__(self):
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer + data
        messages = []
        start = 0
        while start < len(buffer):
            first = buffer[start:start + 1]
            if first.isdigit():
                space = buffer.find(b" ", start, start + 10)
                if space < 0:
                    if len(buffer) - start >= 10:
                        raise FramingError(f"octet count {buffer[start:start + 10]!r}... has no space after it")
                    break
                length = int(buffer[start:space])
                if length > _MAX_FRAME:
                    raise FramingError(f"octet count {length} is larger than {_MAX_FRAME}")
                end = space + 1 + length
                if end > len(buffer):
                    break
                messages.append(buffer[space + 1:end])
                start = end
            elif first == b"<":
                end = buffer.find(b"\n", start)
                if end < 0:
                    if len(buffer) - start > _MAX_FRAME:
                        raise FramingError(f"no LF in the last {_MAX_FRAME} bytes")
                    break
                messages.append(buffer[start:end])
                start = end + 1
            elif first in (b"\n", b"\r", b" "):
                start += 1  # stray separators between frames
            else:
                raise FramingError(f"a frame starts with {first!r}: neither an octet count nor '<'")
        self._buffer = buffer[start:]
        return messages

    def pending(self) -> int:
        """Bytes of an incomplete frame held back (at the end of a connection: a cut message)."""
        return len(self._buffer)


def parse_message(message: bytes) -> dict:
    """The parts of one RFC 5424 message; ``ValueError`` saying what is wrong when it is not one."""
    text = message.decode("utf-8", "replace")
    if not text.startswith("<") or ">" not in text[:5]:
        raise ValueError(f"no <PRI> at the start of {text[:40]!r}")
    close = text.index(">")
    pri = text[1:close]
    if not pri.isdigit() or not 0 <= int(pri) <= 191:
        raise ValueError(f"PRI {pri!r} is not 0..191")
    header = text[close + 1:].split(" ", 6)
    if len(header) < 7:
        raise ValueError(f"the header of {text[:60]!r} has fewer than 7 fields")
    version, timestamp, hostname, app_name, procid, msgid, rest = header
    if version != "1":
        raise ValueError(f"version {version!r} is not RFC 5424's 1")
    structured_data, msg = _structured_data(rest)
    return {"pri": pri, "version": version, "timestamp": timestamp, "hostname": hostname, "app_name": app_name,
            "procid": procid, "msgid": msgid, "structured_data": structured_data, "msg": msg}


def _structured_data(rest: str) -> tuple[str, str]:
    """Split ``STRUCTURED-DATA [SP MSG]``: ``-``, or elements ``[...]`` whose values may escape ``]``."""
    if rest.startswith("-"):
        return "-", rest[2:] if rest[1:2] == " " else rest[1:]
    if not rest.startswith("["):
        raise ValueError(f"structured data {rest[:40]!r} is neither '-' nor '[...]'")
    end = structured_data_end(rest)
    if end < 0:
        raise ValueError(f"structured data {rest[:60]!r} is not closed")
    return rest[:end], rest[end + 1:] if rest[end:end + 1] == " " else rest[end:]
