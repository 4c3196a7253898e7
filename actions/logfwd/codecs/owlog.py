"""OpenWhisk activation log lines: ``<time>Z<spaces> stdout|stderr: <message>``.

The invoker writes the time left-justified in 30 characters, so one or several spaces separate it
from the stream, and the fraction has 0 to 9 digits (Docker trims trailing zeros). The platform also
appends marker lines on stderr when logs were cut or could not be collected; some of them come bare,
without time and stream.

Pure and fast: this runs once per log line. A line's time comes back as the text events carry
(RFC 3339 UTC, nine fractional digits). The invoker's own shape (nine digits) already is that text, so
the common line costs one match and a check of its minute in a small cache (a run sees few distinct
minutes), with no arithmetic; a shorter fraction (Docker trims trailing zeros: one line in ten) is
padded. Only leap seconds go through epoch nanoseconds. Only
lines that miss both shapes but still look like ``<time> <stream>: `` go through python-dateutil,
which accepts offsets such as ``+00:00`` and other ISO 8601 variants; it is imported on first need so
the action starts fast.
"""

import calendar
import datetime
import re
from typing import NamedTuple

__all__ = ["LogLine", "parse_line", "format_time_ns", "MARKER_PREFIXES", "KNOWN_SECONDS", "known_second", "nine_digits"]

# ASCII digits only: ``\d`` would also accept other scripts' digits that ``int`` converts silently.
# The invoker's shape, whose first 30 characters are the time as events carry it (seconds 00..59).
# A caller that recognises it itself (events.py) checks a line's first 20 characters against
# KNOWN_SECONDS (``known_second``: _SECOND, this pattern's first 20) and the rest with slices; a stderr
# line that starts with one of MARKER_PREFIXES is a marker. Any line it does not take goes through
# parse_line.
_SECOND_PATTERN = r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}):[0-5][0-9]\."
_CANONICAL = re.compile(_SECOND_PATTERN + r"[0-9]{9}Z +(stdout|stderr): ?")
_SECOND = re.compile(_SECOND_PATTERN)
_LINE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z +(stdout|stderr): ?"
)
# Anything time-like, for the tolerant path: a first token, spaces, a stream.
_LOOSE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}[T ][^ ]*?) +(stdout|stderr): ?")
_FRACTION = re.compile(r"\.([0-9]+)")

_MARKERS = (
    ("Logs were truncated because", "truncated"),
    ("There was an issue while collecting your logs", "missing"),
    ("The action did not initialize or run as expected", "missing"),
)
MARKER_PREFIXES = tuple(prefix for prefix, _ in _MARKERS)

_NS = 1_000_000_000
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_KNOWN_MINUTES: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" -> epoch seconds (cleared in place, never replaced)
_YEAR_10000 = 253402300800  # epoch seconds of 10000-01-01
KNOWN_SECONDS: set[str] = set()  # "YYYY-MM-DDTHH:MM:SS." of valid times (cleared in place, never replaced)
_PREFIX_CACHE: dict[int, str] = {}  # epoch minute -> "YYYY-MM-DDTHH:MM:"
_CACHE_LIMIT = 4096


_new_tuple = tuple.__new__


class LogLine(NamedTuple):
    """One parsed line. A named tuple: immutable like a frozen dataclass, and three times cheaper to build."""

    time: str | None  # RFC 3339 UTC with nine fractional digits: "2017-11-13T15:45:25.278483919Z"
    stream: str | None  # "stdout" | "stderr"
    message: str
    marker: str | None  # None | "truncated" | "missing" (platform marker lines)


def parse_line(line: str) -> LogLine:
    """Split one activation log line. Never raises: what does not parse comes back whole, untimed."""
    match = _CANONICAL.match(line)
    if match is not None:
        minute, stream = match.groups()
        if minute in _KNOWN_MINUTES or _minute_seconds(minute) is not None:
            message = line[match.end() :]
            # tuple.__new__ builds the named tuple without its Python-level __new__: 0.35 -> 0.13 us.
            return _new_tuple(LogLine, (line[:30], stream, message, _marker(message) if stream == "stderr" else None))
    match = _LINE.match(line)
    if match is not None:
        minute, second, fraction, stream = match.groups()
        start = _minute_seconds(minute)
        second = int(second)
        if start is not None and second < 61 and start + second < _YEAR_10000:  # 60: a leap second
            message = line[match.end() :]
            marker = _marker(message) if stream == "stderr" else None
            if second < 60:  # the text is the line's own, its fraction padded: what format_time_ns would write
                return _new_tuple(LogLine, (f"{line[:19]}.{(fraction or '').ljust(9, '0')}Z", stream, message, marker))
            nanos = int(fraction.ljust(9, "0")) if fraction else 0
            return LogLine(format_time_ns((start + second) * _NS + nanos), stream, message, marker)
    return _parse_loose(line)


def format_time_ns(ns: int) -> str:
    """Epoch nanoseconds as RFC 3339 UTC, all nine fractional digits: ``2017-11-13T15:45:25.278483919Z``."""
    seconds, nanos = divmod(ns, _NS)
    minutes, second = divmod(seconds, 60)
    prefix = _PREFIX_CACHE.get(minutes)
    if prefix is None:
        moment = datetime.datetime.fromtimestamp(minutes * 60, datetime.timezone.utc)
        if len(_PREFIX_CACHE) >= _CACHE_LIMIT:
            _PREFIX_CACHE.clear()
        prefix = _PREFIX_CACHE[minutes] = moment.strftime("%Y-%m-%dT%H:%M:")
    return f"{prefix}{second:02d}.{nanos:09d}Z"


def _minute_seconds(minute: str) -> int | None:
    """Epoch seconds of ``YYYY-MM-DDTHH:MM`` (UTC); None for a time that does not exist, or is before
    1970 (as on the tolerant path: such a line is kept untimed).

    Cached: the lines of a run fall in few distinct minutes, and a lookup is cheaper than parsing.
    """
    seconds = _KNOWN_MINUTES.get(minute)
    if seconds is None:
        hour, mins = int(minute[11:13]), int(minute[14:16])
        try:
            ordinal = datetime.date.fromisoformat(minute[:10]).toordinal()
        except ValueError:  # e.g. 2023-02-30
            return None
        if hour > 23 or mins > 59 or ordinal < _EPOCH_ORDINAL:
            return None
        if len(_KNOWN_MINUTES) >= _CACHE_LIMIT:
            _KNOWN_MINUTES.clear()
        seconds = _KNOWN_MINUTES[minute] = (ordinal - _EPOCH_ORDINAL) * 86400 + hour * 3600 + mins * 60
    return seconds


def known_second(prefix: str) -> bool:
    """True if ``prefix`` (a line's first 20 characters) starts an invoker-shape time: ``YYYY-MM-DDTHH:MM:SS.``
    of a real date, seconds 00..59, 1970 or later. Kept in ``KNOWN_SECONDS``, which a caller checks first:
    a line then needs no regular expression to be known as the invoker's (events.py)."""
    match = _SECOND.fullmatch(prefix)
    if match is None or _minute_seconds(match[1]) is None:
        return False
    if len(KNOWN_SECONDS) >= _CACHE_LIMIT:
        KNOWN_SECONDS.clear()
    KNOWN_SECONDS.add(prefix)
    return True


def nine_digits(line: str) -> str | None:
    """``line`` as the invoker would have written it with nine fractional digits, if its fraction was
    trimmed (Docker drops trailing zeros; the invoker pads the time to 30 characters:
    ``...:25.2784Z      stdout: ...``); None if it has not that shape. The same time, stream and
    message: a caller that recognises the nine-digit shape (events.py) takes such a line that way too.
    Its time is not checked here."""
    end = line.find("Z", 21, 29)
    if end < 0 or line[end + 1:31] != _PADDING[end]:
        return None
    digits = line[20:end]
    if not (digits.isascii() and digits.isdigit()):
        return None
    return f"{line[:20]}{digits:0<9}Z{line[30:]}"


_PADDING = {end: " " * (31 - end - 1) for end in range(21, 29)}  # what pads a time ending at ``end`` to 30


def _marker(text: str) -> str | None:
    if text.startswith(MARKER_PREFIXES):
        for prefix, marker in _MARKERS:
            if text.startswith(prefix):
                return marker
    return None


def _parse_loose(line: str) -> LogLine:
    """The tolerant path: odd timestamps through dateutil, else the whole line as an untimed message."""
    match = _LOOSE.match(line)
    if match is not None:
        time_ns = _loose_time_ns(match.group(1))
        if time_ns is not None:
            stream, message = match.group(2), line[match.end() :]
            return LogLine(format_time_ns(time_ns), stream, message, _marker(message) if stream == "stderr" else None)
    # Bare platform markers (no time, no stream) are kept as markers too.
    return LogLine(None, None, line, _marker(line))


def _loose_time_ns(text: str) -> int | None:
    from dateutil import parser, tz  # imported on first odd line only: keeps the action's start fast

    # dateutil keeps microseconds only; take the fraction ourselves to keep all nine digits.
    fraction = _FRACTION.search(text)
    nanos = 0
    if fraction is not None:
        digits = fraction.group(1)
        if len(digits) > 9:
            return None
        nanos = int(digits.ljust(9, "0"))
        text = text[: fraction.start()] + text[fraction.end() :]
    try:
        moment = parser.isoparse(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz.UTC)  # OpenWhisk writes UTC; a bare time means UTC
        seconds = calendar.timegm(moment.utctimetuple())
    except (ValueError, OverflowError):
        return None
    # Before 1970 or past 9999 cannot be written as RFC 3339 by format_time_ns: keep the line untimed.
    return seconds * _NS + nanos if 0 <= seconds < _YEAR_10000 else None
