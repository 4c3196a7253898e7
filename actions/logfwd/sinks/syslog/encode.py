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
"""

from functools import lru_cache
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
    level = log.get("level") if isinstance(log, dict) else None
    if isinstance(level, str):
        severity = _LEVELS.get(level) if level in _LEVELS else _LEVELS.get(level.lower())
        if severity is not None:
            return severity
    return syslog.SEVERITIES["err"] if event.get("stream") == "stderr" else syslog.SEVERITIES["info"]


_NOTHING: dict = {}


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

    def __call__(self, events: Sequence[dict]) -> list[bytes]:
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
        params = [("id", _part(event, "@metadata").get("_id"))]
        aws = event.get("aws")
        if isinstance(aws, dict):
            for group, names in _ORIGIN:
                part = aws.get(group)
                if isinstance(part, dict):
                    for key, name in names:
                        params.append((name, part.get(key)))
        flags = event.get("logfwd")
        if isinstance(flags, dict):
            params += [(name, value) for name, value in flags.items() if isinstance(value, (str, int, float))]
        text = event.get("message")
        msg = (text if isinstance(text, str) else "" if text is None else str(text)).encode("utf-8", "replace")
        whole = syslog.message(pri, time, host, app, procid, msgid, syslog.sd_element(SD_ID, params), msg)
        if len(whole) <= self.max_bytes:
            return [whole]
        try:
            return syslog.split_message(pri, time, host, app, procid, msgid, SD_ID, params, msg, self.max_bytes)
        except ValueError:
            # Ids too long for max_bytes: keep the text whole and numbered, without the origin ids.
            return syslog.split_message(pri, time, host, app, procid, msgid, SD_ID, [], msg, self.max_bytes)
