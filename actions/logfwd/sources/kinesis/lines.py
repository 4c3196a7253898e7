"""One log line of text to the fields of an event: Convox's prefix, JSON lines, plain text. Pure.

Convox's agent writes each container line to Kinesis as ``2016-01-07 10:00:00 web:RXZMCQEPDKO/1d11a78279e0
text`` (UTC time to the second, then ``process:release/container``) and to CloudWatch Logs without the
time. The process becomes ``process.name`` (the syslog APP-NAME); a line without the prefix keeps the
app's name there, so no line is refused for its shape.

A line that starts with ``{`` is read as JSON: its level (``level``, ``severity``, ``lvl``; bunyan's
and pino's numbers too) and time (``@timestamp``, ``time``, ``timestamp``: RFC 3339 text or epoch
seconds/milliseconds) are used, and the line is sent as it is. One that does not parse is sent as text and flagged ``logfwd.bad_json``.
"""

import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import NamedTuple

from ...codecs.jsonbytes import loads

__all__ = ["line_fields", "line_parts", "line_event", "LineParts", "app_name", "format_ms", "parse_time", "level_name"]

# The text after the prefix is not a group: the line's slice from the match's end costs less than
# matching it.
_CONVOX = re.compile(r"(?:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) )?([\w.-]+):([\w.-]*)/([0-9a-f]{12})(?: |\Z)")
_LEVEL_KEYS = ("level", "severity", "lvl", "log.level")
_TIME_KEYS = ("@timestamp", "time", "timestamp", "ts")
_RESOURCE_SUFFIX = re.compile(r"-(?:Kinesis|LogGroup)-[A-Z0-9]+\Z")
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_MILLIS_Z = tuple(f".{n:03d}Z" for n in range(1000))  # cheaper than formatting each time
_NUMBERED_LEVELS = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}
_new_tuple = tuple.__new__  # makes a NamedTuple without its Python-level __new__: 3 times cheaper, once a line


def level_name(value) -> str | None:
    """A level as text: names lower-cased; bunyan's and pino's numbers (10 trace .. 60 fatal) by name."""
    if isinstance(value, str):
        return value.lower() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return _NUMBERED_LEVELS.get(value)
    return None


@lru_cache(maxsize=256)  # a batch comes from one stream or log group
def app_name(resource: str) -> str:
    """The app a Convox stream or log group belongs to: ``myapp-Kinesis-L6MUKT1VH451`` -> ``myapp``."""
    return _RESOURCE_SUFFIX.sub("", resource) or resource


def format_ms(ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC text with milliseconds and ``Z``."""
    ms = min(max(ms, 0), _MAX_MS)
    return _second(ms // 1000) + _MILLIS_Z[ms % 1000]


@lru_cache(maxsize=4096)  # the lines of a batch share a few seconds
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


@lru_cache(maxsize=4096)  # Convox's times are to the second: the lines of a batch share a few
def _convox_stamp(when: str) -> str | None:
    """``@timestamp`` of Convox's ``2016-01-07 10:00:00``; None if it does not parse (or is 0)."""
    ms = parse_time(when.replace(" ", "T") + "Z")
    return format_ms(ms) if ms else None


def parse_time(value) -> int | None:
    """Epoch milliseconds from RFC 3339 text, or epoch seconds / milliseconds as a number; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        ms = value if value > 1e11 else value * 1000  # after 1973 in ms, before 5138 in s
        return int(ms) if 0 <= ms <= _MAX_MS else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return int(parsed.timestamp() * 1000)
    return None


class LineParts(NamedTuple):
    """What one line says, before it becomes an event (``line_event``); also the row the syslog
    encoder's fast path reads (see ``TextLines.syslog_rows``), hence the order."""

    timestamp: str         # its time (RFC 3339, ms): its own, else the default given
    text: str              # the message: the line without Convox's prefix
    process: str           # Convox's process, else the app's name
    container: str | None  # Convox's container id
    level: str | None      # a JSON line's level
    bad_json: bool         # starts with "{" but does not parse
    release: str | None    # Convox's release ("" when the prefix has none)


def line_parts(line: str, app: str, default_ms: int) -> LineParts:
    """Parse one line: Convox's prefix, then a JSON line's level and time."""
    process, release, container, level, stamp = app, None, None, None, None
    bad_json = False
    convox = _CONVOX.match(line)
    if convox is not None:
        when, process, release, container = convox.groups()
        line = line[convox.end():]
        if when:
            stamp = _convox_stamp(when)
    if line.startswith("{"):
        try:
            document = loads(line.encode("utf-8", "surrogatepass"))
        except ValueError:
            document = None
            bad_json = True
        if isinstance(document, dict):
            level = next((level_name(document[k]) for k in _LEVEL_KEYS if k in document), None)
            own = next((parse_time(document[k]) for k in _TIME_KEYS if k in document), None)
            if own is not None:
                stamp = format_ms(own)
    return _new_tuple(LineParts, (stamp or format_ms(default_ms), line, process, container, level, bad_json, release))


def line_event(parts: LineParts, app: str) -> dict:
    """The event fields of a parsed line: ``@timestamp``, ``message``, ``host``, ``process`` and, when
    the line says so, ``container``, ``service``, ``log.level`` and ``logfwd`` flags."""
    event = {"@timestamp": parts.timestamp, "message": parts.text, "host": {"name": app},
             "process": {"name": parts.process}}
    if parts.container is not None:
        event["container"] = {"id": parts.container}
    if parts.release:
        event["service"] = {"version": parts.release}
    if parts.level:
        event["log"] = {"level": parts.level}
    if parts.bad_json:
        event["logfwd"] = {"bad_json": True}
    return event


def line_fields(line: str, app: str, default_ms: int) -> dict:
    """The event fields of one line (see ``line_event``)."""
    return line_event(line_parts(line, app, default_ms), app)
