"""RFC 5424 syslog messages and their TCP framing, with no I/O: fields in, bytes out.

A message is ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]``. Header
fields are printable US-ASCII (33..126) within RFC 5424's lengths; anything else becomes ``_``, an
empty field becomes the NILVALUE ``-``. MSG is sent as it is (RFC 5424's MSG-ANY: no BOM), so a
receiver shows UTF-8 text unchanged.

Framing (RFC 6587 / RFC 5425): octet counting ``LEN SP MSG`` keeps any byte of MSG; newline framing
``MSG LF`` cannot carry an LF, so CR, LF and NUL in MSG become spaces there (as Papertrail's own
sender does).

A MSG too long for ``max_bytes`` is cut at UTF-8 character boundaries into several messages with the
same header, each marked ``part="i" parts="n"`` in its structured data: none is dropped or truncated.
"""

import re
from functools import lru_cache
from typing import Iterable, Sequence

__all__ = ["FACILITIES", "SEVERITIES", "prival", "timestamp", "header_field", "sd_element", "sd_params", "sd_value",
           "message", "header", "message_with_head",
           "structured_data_end", "frame_octet", "frame_newline", "split_utf8", "split_message", "HOSTNAME_MAX",
           "APP_NAME_MAX", "PROCID_MAX", "MSGID_MAX"]

FACILITIES = {
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8,
    "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14, "solaris-cron": 15,
    **{f"local{n}": 16 + n for n in range(8)},
}
SEVERITIES = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}

HOSTNAME_MAX, APP_NAME_MAX, PROCID_MAX, MSGID_MAX, SD_NAME_MAX = 255, 48, 128, 32, 32
NILVALUE = "-"

_NOT_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_NOT_SD_NAME = re.compile(r'[^\x21-\x7e]|[= \]"]')
_SD_ESCAPE = str.maketrans({"\\": "\\\\", '"': '\\"', "]": "\\]"})
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)\Z")
_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_MILLIS = frozenset(f"{n:03d}" for n in range(1000))
_NEWLINE_UNSAFE = bytes.maketrans(b"\r\n\x00", b"   ")
_MIN_PART = 16  # below this many MSG bytes per part, splitting would only multiply headers


def prival(facility: int, severity: int) -> int:
    """``facility * 8 + severity``; ``ValueError`` outside RFC 5424's ranges."""
    if not 0 <= facility <= 23 or not 0 <= severity <= 7:
        raise ValueError(f"facility {facility} / severity {severity} out of range (0..23 / 0..7)")
    return facility * 8 + severity


def timestamp(text: str | None) -> str:
    """An RFC 3339 time as RFC 5424 allows it: at most 6 fraction digits (cut, not rounded), upper-case
    ``T``/``Z``; the NILVALUE when ``text`` is absent or not RFC 3339."""
    if not text:
        return NILVALUE
    if len(text) == 24 and text[19] == "." and text[23] == "Z" and text[20:23] in _MILLIS and _utc_second(text[:19]):
        return text  # the usual shape of an event's time: nothing to change
    match = _RFC3339.match(text.upper())
    if match is None:
        return NILVALUE
    seconds, fraction, zone = match.groups()
    return f"{seconds}.{fraction[:6]}{zone}" if fraction else f"{seconds}{zone}"


@lru_cache(maxsize=1024)  # the lines of a batch share a few seconds: one regex per second, not per line
def _utc_second(text: str) -> bool:
    return _SECOND.fullmatch(text) is not None


def header_field(value: object, limit: int) -> str:
    """``value`` as a header field: printable US-ASCII, at most ``limit`` characters, ``-`` if empty."""
    if value is None:
        return NILVALUE
    return _header_text(str(value), limit)


@lru_cache(maxsize=4096)  # host and app names repeat from line to line
def _header_text(value: str, limit: int) -> str:
    return _NOT_PRINTABLE.sub("_", value)[:limit] or NILVALUE


def sd_element(sd_id: str, params: Iterable[tuple[str, object]]) -> str:
    """``[SD-ID name="value" ...]`` with the value escapes of RFC 5424 (``\\"`` ``\\\\`` ``\\]``).

    Names are cut to 32 characters with forbidden ones replaced; ``None`` values are left out.
    """
    return "[" + _sd_name(sd_id) + sd_params(params) + "]"


def sd_params(params: Iterable[tuple[str, object]]) -> str:
    """The `` name="value"`` pairs of an SD-ELEMENT (see ``sd_element``): a sender that makes the same
    pairs for many messages makes them once."""
    text = ""
    for name, value in params:
        if value is None:
            continue
        text += f' {_sd_name(name)}="{sd_value(value)}"'
    return text


def sd_value(value: object) -> str:
    """A PARAM-VALUE with its escapes: ``\\"`` ``\\\\`` ``\\]``."""
    text = value if type(value) is str else str(value)
    if '"' in text or "\\" in text or "]" in text:  # rare: three scans cost less than a translate
        return text.translate(_SD_ESCAPE)
    return text


@lru_cache(maxsize=1024)
def _sd_name(name: str) -> str:
    return _NOT_SD_NAME.sub("_", name)[:SD_NAME_MAX] or "_"


def structured_data_end(text: str) -> int:
    """The index just past the last ``]`` of the SD-ELEMENTs at the start of ``text`` (values may hold
    an escaped ``\\]``), or -1 when one is not closed. For receivers: parsing what a sender wrote."""
    position = 0
    while position < len(text) and text[position] == "[":
        quoted = False
        position += 1
        while position < len(text):
            char = text[position]
            if quoted and char == "\\":
                position += 2
                continue
            if char == '"':
                quoted = not quoted
            elif char == "]" and not quoted:
                break
            position += 1
        else:
            return -1
        position += 1
    return position


def message(pri: int, time: str, hostname: str, app_name: str, procid: str, msgid: str,
            structured_data: str, msg: bytes) -> bytes:
    """One SYSLOG-MSG. The header fields must already be valid (see ``header_field``, ``timestamp``)."""
    return message_with_head(header(pri, time, hostname, app_name, procid, msgid), structured_data, msg)


def header(pri: int, time: str, hostname: str, app_name: str, procid: str, msgid: str) -> str:
    """The HEADER of a SYSLOG-MSG and the space after it (see ``message``)."""
    return f"<{pri}>1 {time} {hostname} {app_name} {procid} {msgid} "


def message_with_head(head: str, structured_data: str, msg: bytes) -> bytes:
    """``message`` with its ``header`` already made: a sender whose messages share one makes it once."""
    encoded = (head + (structured_data or NILVALUE)).encode("utf-8")  # only PARAM-VALUEs may hold non-ASCII (UTF-8)
    return encoded + b" " + msg if msg else encoded


def frame_octet(msg: bytes) -> bytes:
    """RFC 5425 / RFC 6587 3.4.1 octet counting: ``LEN SP MSG`` (LEN counts bytes, not characters)."""
    return b"%d %s" % (len(msg), msg)


def frame_newline(msg: bytes) -> bytes:
    """RFC 6587 3.4.2 non-transparent framing: ``MSG LF``, with CR, LF and NUL in MSG made spaces."""
    return msg.translate(_NEWLINE_UNSAFE) + b"\n"


def split_utf8(data: bytes, size: int) -> list[bytes]:
    """``data`` in pieces of at most ``size`` bytes, never cutting a UTF-8 character in two.

    (Bytes that are not UTF-8 are cut where the size falls: no character is there to keep whole.)
    """
    if size < 4:
        raise ValueError(f"a piece must hold at least one UTF-8 character (4 bytes), not {size}")
    pieces = []
    start = 0
    while len(data) - start > size:
        end = start + size
        back = end
        while back > end - 3 and (data[back] & 0xC0) == 0x80:  # a continuation byte: step back to its lead
            back -= 1
        if (data[back] & 0xC0) == 0x80:
            back = end  # not UTF-8 here: cut at the size
        pieces.append(data[start:back])
        start = back
    pieces.append(data[start:])
    return pieces


def split_message(pri: int, time: str, hostname: str, app_name: str, procid: str, msgid: str,
                  sd_id: str, params: Sequence[tuple[str, object]], msg: bytes, max_bytes: int) -> list[bytes]:
    """One message, or several with the same header when it would pass ``max_bytes``.

    Each part carries ``part`` (1-based) and ``parts`` in the element ``sd_id`` after ``params``. Raises
    ``ValueError`` when the header and structured data leave no room for the text.
    """
    whole = message(pri, time, hostname, app_name, procid, msgid, sd_element(sd_id, params), msg)
    if len(whole) <= max_bytes:
        return [whole]
    # Room for the text of each part, with the part numbers at their widest (parts <= len(msg)).
    widest = str(len(msg))
    marked = sd_element(sd_id, [*params, ("part", widest), ("parts", widest)])
    room = max_bytes - len(message(pri, time, hostname, app_name, procid, msgid, marked, b"")) - 1
    if room < _MIN_PART:
        raise ValueError(f"the header and structured data take {max_bytes - room} of {max_bytes} bytes, "
                         f"leaving no room for the message")
    pieces = split_utf8(msg, room)
    count = len(pieces)
    return [message(pri, time, hostname, app_name, procid, msgid,
                    sd_element(sd_id, [*params, ("part", n), ("parts", count)]), piece)
            for n, piece in enumerate(pieces, 1)]
