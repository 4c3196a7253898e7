"""Events to framed RFC 5424 messages (pure): which event field fills which part of the message.

==============  ==========================================================================
PRI             the configured facility; severity from ``log.level`` (``error`` -> err, ...),
                else ``stream`` (stderr -> err), else info
TIMESTAMP       ``@timestamp`` (kept to the microsecond)
HOSTNAME        ``host.name`` (the app)
APP-NAME        ``process.name`` (the process)
PROCID          ``process.pid``, else ``container.id``, else ``faas.execution`` (a request id)
MSGID           ``event.action`` (e.g. Lambda's START / END / REPORT)
STRUCTURED-DATA ``[logfwd@32473 id=... stream=... shard=... seq=... group=... logstream=... <flags>]``:
                the event's ``@metadata._id`` and where it came from, so a re-sent line can be
                recognised; ``part``/``parts`` on a line split over several messages
MSG             ``message``, UTF-8
==============  ==========================================================================

logfwd has no IANA enterprise number: its SD-ID uses 32473, the number RFC 5612 reserves for
documentation, which no real organisation owns.

Fast path: a sequence of events with ``syslog_rows()`` (the Kinesis source's ``TextLines`` of a record,
``TextRun`` of a run of one-line records) is asked for the fields above flat instead of as nested
dicts; the parts its events share (HOSTNAME, the stream and shard) are made once per sequence, the
header once per app, process, level and second, and the whole sequence is encoded in one loop. It must
give the same bytes as encoding each event, which tests/test_syslog_fast_path.py and
tests/test_textrun.py check over every event shape.
"""

from functools import lru_cache
from itertools import repeat
from typing import Sequence

from ...codecs import syslog

__all__ = ["SyslogEncoder", "SD_ID", "severity_of", "FRAMINGS"]

SD_ID = "logfwd@32473"
FRAMINGS = ("octet", "newline", "datagram")
_LEVELS = {
    "emerg": 0, "emergency": 0, "panic": 0, "alert": 1, "crit": 2, "critical": 2, "fatal": 2,
    "err": 3, "error": 3, "warn": 4, "warning": 4, "notice": 5, "info": 6, "information": 6,
    "informational": 6, "debug": 7, "trace": 7,
}
_ORIGIN = (("kinesis", (("stream", "stream"), ("shard_id", "shard"), ("sequence_number", "seq"))),
           ("cloudwatch", (("log_group", "group"), ("log_stream", "logstream"))))  # under aws: key -> SD name


def severity_of(event: dict) -> int:
    log = event.get("log")
    return _severity(log.get("level") if isinstance(log, dict) else None, event.get("stream"))


def _severity(level: object, stream: object) -> int:
    if isinstance(level, str):
        severity = _LEVELS.get(level) if level in _LEVELS else _LEVELS.get(level.lower())
        if severity is not None:
            return severity
    return syslog.SEVERITIES["err"] if stream == "stderr" else syslog.SEVERITIES["info"]


_NOTHING: dict = {}
_SD_OPEN = "[" + SD_ID
_BAD_JSON_SD = syslog.sd_params([("bad_json", True)]) + "]"  # logfwd.bad_json as the general path writes it, and "]"


def _part(event: dict, name: str) -> dict:
    """``event[name]`` if it is an object, else an empty one (never to be changed)."""
    part = event.get(name)
    return part if isinstance(part, dict) else _NOTHING


def _header_fields(host: object, app: object, procid: object, msgid: object) -> tuple[str, str, str, str]:
    """HOSTNAME, APP-NAME, PROCID and MSGID as valid header fields."""
    return (syslog.header_field(host, syslog.HOSTNAME_MAX), syslog.header_field(app, syslog.APP_NAME_MAX),
            syslog.header_field(procid, syslog.PROCID_MAX), syslog.header_field(msgid, syslog.MSGID_MAX))


# The lines of a batch share a few apps, processes and containers: their header text is made once.
_cached_header_fields = lru_cache(maxsize=4096, typed=True)(_header_fields)


def _origin_params(aws: object) -> list[tuple[str, object]]:
    """The SD params that say where an event came from (its ``aws.kinesis`` / ``aws.cloudwatch`` ids)."""
    params = []
    if isinstance(aws, dict):
        for group, names in _ORIGIN:
            part = aws.get(group)
            if isinstance(part, dict):
                for key, name in names:
                    params.append((name, part.get(key)))
    return params


@lru_cache(maxsize=64)  # a batch comes from one stream and shard
def _stream_shard_sd(stream: str, shard: str) -> tuple[str, str]:
    """The SD of a Kinesis record's events up to its sequence number: the ``id`` param's start, and the
    ``stream`` and ``shard`` params (with the quote that ends ``id``)."""
    return (f'{_SD_OPEN} id="{syslog.sd_value(stream)}/{syslog.sd_value(shard)}/',
            '"' + syslog.sd_params((("stream", stream), ("shard", shard))))


def _flag_params(flags: object) -> list[tuple[str, object]]:
    """The ``logfwd`` flags (bad_record, bad_json, ...) as SD params."""
    if not isinstance(flags, dict):
        return []
    return [(name, value) for name, value in flags.items() if isinstance(value, (str, int, float))]


class SyslogEncoder:
    """Encodes events as framed messages of at most ``max_bytes`` each (before framing)."""

    def __init__(self, facility: int = syslog.FACILITIES["user"], framing: str = "octet", max_bytes: int = 8192):
        if framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}, not {framing!r}")
        self.facility = facility
        self.framing = framing
        self.max_bytes = max_bytes
        self._frame = {"octet": syslog.frame_octet, "newline": syslog.frame_newline,
                       "datagram": lambda message: message}[framing]
        self._pri = [syslog.prival(facility, severity) for severity in range(8)]
        self._heads: dict[tuple, tuple] = {}  # the fast path's headers (see _head)

    def __call__(self, events: Sequence[dict]) -> list[bytes]:
        rows = getattr(events, "syslog_rows", None)  # the fast path: see the module docstring
        if rows is not None:
            return self.encode_rows(rows())
        frame = self._frame
        out: list[bytes] = []
        for event in events:
            messages = self.messages(event)
            if len(messages) == 1:
                out.append(frame(messages[0]))
            else:
                out.extend(frame(message) for message in messages)
        return out

    def messages(self, event: dict) -> list[bytes]:
        """The unframed message(s) of one event: several when its text is too long for one."""
        pri = self._pri[severity_of(event)]
        stamp = event.get("@timestamp")
        time = syslog.timestamp(stamp if isinstance(stamp, str) else None)
        process = _part(event, "process")
        procid = process.get("pid")
        if procid is None or procid == "":
            procid = _part(event, "container").get("id")
            if procid is None or procid == "":
                procid = _part(event, "faas").get("execution")
        fields = (_part(event, "host").get("name"), process.get("name"), procid, _part(event, "event").get("action"))
        try:
            host, app, procid, msgid = _cached_header_fields(*fields)
        except TypeError:  # a value that cannot be a cache key (a list, a dict): made each time
            host, app, procid, msgid = _header_fields(*fields)
        params = [("id", _part(event, "@metadata").get("_id")), *_origin_params(event.get("aws")),
                  *_flag_params(event.get("logfwd"))]
        text = event.get("message")
        msg = (text if isinstance(text, str) else "" if text is None else str(text)).encode("utf-8", "replace")
        whole = syslog.message(pri, time, host, app, procid, msgid, syslog.sd_element(SD_ID, params), msg)
        if len(whole) <= self.max_bytes:
            return [whole]
        return self._split(pri, time, host, app, procid, msgid, params, msg)

    def encode_rows(self, given: tuple) -> list[bytes]:
        """Framed messages of events given flat (see ``TextLines.syslog_rows``), the same bytes as
        ``self(events)``: ``(host.name, origin, rows, sequences, offsets)``: ``origin`` is the events'
        ``aws.kinesis`` (stream, shard_id), or None: no ids and no ``_id``; a row per event,
        ``(@timestamp, message, process.name, container.id, log.level, logfwd.bad_json, _)``, with its
        sequence_number and its offset in its record (``_id`` is ``<stream>/<shard>/<sequence>:<offset>``)."""
        host_name, origin, rows, sequences, offsets = given
        frame, max_bytes, heads, octet = self._frame, self.max_bytes, self._heads, self.framing == "octet"
        if origin is None:
            sequences = offsets = repeat(None)
        else:  # the SD's parts of the stream and shard, made once a batch (escaping is character by character)
            opening, tail = _stream_shard_sd(*origin)
        out: list[bytes] = []
        for (stamp, text, app, container, level, bad_json, _), sequence, offset in zip(rows, sequences, offsets):
            key = (host_name, level, stamp, app, container)
            head = heads.get(key)
            if head is None:
                head = heads[key] = self._head(key)
            if origin is None:
                sd = _SD_OPEN + "]"
            else:
                seq = sequence if sequence.isdigit() else syslog.sd_value(sequence)  # digits: Kinesis's
                sd = f'{opening}{seq}:{offset}{tail} seq="{seq}"]'
            if bad_json:
                sd = sd[:-1] + _BAD_JSON_SD
            msg = text.encode("utf-8", "replace")
            whole = f"{head}{sd} ".encode() + msg if msg else f"{head}{sd}".encode()  # syslog.message_with_head
            if len(whole) <= max_bytes:
                out.append(b"%d %s" % (len(whole), whole) if octet else frame(whole))  # syslog.frame_octet
            else:
                params = [("id", None if origin is None else f"{origin[0]}/{origin[1]}/{sequence}:{offset}")]
                if origin is not None:
                    params += (("stream", origin[0]), ("shard", origin[1]), ("seq", sequence))
                if bad_json:
                    params.append(("bad_json", True))
                out.extend(frame(message) for message in self._split(*self._head_fields(key), params, msg))
        return out

    def _head(self, key: tuple) -> str:
        """The HEADER text of a row. Rows share it (Convox lines have their time to the second), so it is
        made once per app, container, level and time, not per line."""
        if len(self._heads) >= 4096:
            self._heads.clear()
        return syslog.header(*self._head_fields(key))

    def _head_fields(self, key: tuple) -> tuple:
        """PRI, TIMESTAMP, HOSTNAME, APP-NAME, PROCID and MSGID of a row's ``(host.name, log.level,
        @timestamp, process.name, container.id)``."""
        host_name, level, stamp, app, container = key
        time = syslog.timestamp(stamp if isinstance(stamp, str) else None)
        return (self._pri[_severity(level, None)], time, *_cached_header_fields(host_name, app, container, None))

    def _split(self, pri: int, time: str, host: str, app: str, procid: str, msgid: str, params: list, msg: bytes
               ) -> list[bytes]:
        try:
            return syslog.split_message(pri, time, host, app, procid, msgid, SD_ID, params, msg, self.max_bytes)
        except ValueError:
            # Ids too long for max_bytes: keep the text whole and numbered, without the origin ids.
            return syslog.split_message(pri, time, host, app, procid, msgid, SD_ID, [], msg, self.max_bytes)
