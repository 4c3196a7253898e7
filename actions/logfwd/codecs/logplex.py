"""Logplex drain bodies, with no I/O: octet-counted syslog frames in, ``Frame`` tuples out.

A body is frames back to back, each ``<len> SP <msg>`` where ``len`` counts the bytes of ``msg``
(RFC 6587 §3.4.1), its trailing newline included. Logplex's HTTPS drains write
``<PRI>1 TIMESTAMP host APP PROCID - MSG`` with no structured data at all; syslog drains and other
senders put ``-`` or ``[id k="v"]`` elements before MSG. All three are accepted. (So a logplex
message that itself starts with ``- `` loses that dash: the two layouts cannot be told apart.)
"""

import bisect
import re
from typing import NamedTuple

from ..errors import BadRecordError
from .syslog import structured_data_end

__all__ = ["Frame", "COMMON_HEADER", "split_frames", "frame_spans", "frames_containing", "parse_frame"]

_MAX_COUNT_DIGITS = 7  # frames of up to 9,999,999 bytes; logplex splits dyno lines at 10,000
_BOM = "\ufeff"


class Frame(NamedTuple):
    priority: int          # facility * 8 + severity
    version: str
    timestamp: str         # as sent (RFC 3339, or "-")
    host: str
    app: str               # "heroku" for the platform's own lines, "app" for the dynos'
    proc: str              # "router", "web.1", "logplex"...
    msgid: str
    structured_data: str   # "" when the frame has none (logplex), "-" or the elements as sent
    message: str           # decoded as UTF-8 (bad bytes replaced), without its trailing newline


def split_frames(body: bytes) -> list[bytes]:
    """The ``msg`` of every frame, in order (see ``frame_spans``)."""
    return [body[start:end] for start, end in frame_spans(body)]


def frame_spans(body: bytes) -> list[tuple[int, int]]:
    """Where the ``msg`` of every frame starts and ends in ``body``. A count that is not a number, or
    that does not end where the next frame starts, raises ``BadRecordError`` naming the frame and its
    byte offset: after a wrong count nothing that follows can be trusted."""
    spans = []
    position, size, find = 0, len(body), body.find
    while position < size:
        space = find(b" ", position, position + _MAX_COUNT_DIGITS + 1)
        digits = body[position:space] if space > 0 else b""
        if not digits.isdigit() or digits[0] == 48:  # 48: a leading "0"
            raise BadRecordError(f"frame {len(spans) + 1} at byte {position}: expected an octet count and a "
                                 f"space, found {body[position:position + 24]!r}; a count of an earlier frame "
                                 "may be wrong (it counts bytes, the trailing newline included)")
        start = space + 1
        end = start + int(digits)
        if end > size:
            raise BadRecordError(f"frame {len(spans) + 1} at byte {position} counts {int(digits)} bytes but "
                                 f"only {size - start} remain in the body")
        if body[start] != 60:  # 60: "<"
            raise BadRecordError(f"frame {len(spans) + 1} at byte {position} does not start with <PRI>: "
                                 f"found {body[start:start + 24]!r}")
        spans.append((start, end))
        position = end
    return spans


def frames_containing(body: bytes, spans: list[tuple[int, int]], markers: tuple[bytes, ...]) -> list[int]:
    """The indexes, in order, of the frames whose bytes contain any of ``markers``: one search over the
    whole body, so frames without them cost nothing more."""
    starts = [start for start, _ in spans]
    found = set()
    for marker in markers:
        position = body.find(marker)
        while position >= 0:
            index = bisect.bisect_right(starts, position) - 1
            if index >= 0 and position + len(marker) <= spans[index][1]:
                found.add(index)
                position = body.find(marker, spans[index][1])  # the rest of this frame is settled
            else:
                position = body.find(marker, position + 1)
    return sorted(found)


# The common header, checked in one match: PRI 0-191 without a leading zero, then VERSION (ASCII
# digits) and TIMESTAMP HOST APP PROCID MSGID, each followed by one space. Fields are split on bytes,
# which is the same as splitting the decoded text: no UTF-8 sequence, and no replacement character,
# holds a space. A frame it matches parses (unless structured data follows) as the full checks would.
COMMON_HEADER = rb"<(?P<priority>0|1[0-8][0-9]|19[01]|[1-9][0-9]?)>[0-9]+ [^ ]+ [^ ]+ (?P<app>[^ ]+) [^ ]+ [^ ]+ "
_COMMON_HEADER = re.compile(COMMON_HEADER)
_new_frame = tuple.__new__  # a NamedTuple's own constructor costs half a microsecond more


def parse_frame(data: bytes) -> Frame:
    """One frame's ``msg``; ``BadRecordError`` if its header is not syslog's."""
    header = _COMMON_HEADER.match(data)
    if header is None:  # odd (no message, Unicode digits) or broken: the full checks say which
        return _parse_any_frame(data)
    parts = data[header.end(1) + 1:].decode("utf-8", "replace").split(" ", 6)
    structured, message = _structured_and_message(data, parts[6])
    return _new_frame(Frame, (int(header[1]), *parts[:6], structured, message))


def _parse_any_frame(data: bytes) -> Frame:
    close = data.find(b">", 1, 5)
    priority = data[1:close] if close > 0 and data[:1] == b"<" else b""
    if not priority.isdigit() or int(priority) > 191 or (priority[:1] == b"0" and priority != b"0"):
        raise BadRecordError(f"frame {data[:24]!r}: the priority is not <0>..<191>")
    parts = data[close + 1:].decode("utf-8", "replace").split(" ", 6)
    if len(parts) < 6 or not parts[0].isdigit() or "" in parts[:6]:
        raise BadRecordError(f"frame {data[:48]!r}: expected VERSION TIMESTAMP HOST APP PROCID MSGID after "
                             "the priority, each followed by one space")
    structured, message = _structured_and_message(data, parts[6] if len(parts) == 7 else "")
    return Frame(int(priority), parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], structured, message)


def _structured_and_message(data: bytes, rest: str) -> tuple[str, str]:
    structured = ""
    if rest[:1] == "[":
        end = structured_data_end(rest)
        if end < 0:
            raise BadRecordError(f"frame {data[:48]!r}: structured data without its closing ]")
        structured, rest = rest[:end], rest[end + 1:] if rest[end:end + 1] == " " else rest[end:]
    elif rest == "-" or rest[:2] == "- " or rest == "-\n":
        structured, rest = "-", rest[2:]
    if rest[-1:] == "\n":
        rest = rest[:-1]
    if rest[:1] == _BOM:
        rest = rest[1:]
    return structured, rest
