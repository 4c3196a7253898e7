"""Activation records to events: one JSON object per log line. Pure: no I/O.

Field names follow the Elastic Common Schema where it has one (``@timestamp``, ``message``,
``log.offset``, ``faas.*``); the rest lives under ``openwhisk.*`` (what the platform says about the
activation) and ``logfwd.*`` (what the forwarder says about the line). Optional keys appear only when
they have a value, so a typical event stays around 500 bytes of compact JSON::

    {"@timestamp": "2017-11-13T15:45:25.278483919Z",      # the line's time, all nine digits kept
     "message": "hello",
     "stream": "stdout",                                   # stdout | stderr; absent if the line did not parse
     "log": {"offset": 0},                                 # index of the line in the activation's logs
     "logfwd": {"unparsed": true, "marker": "truncated", "truncated_bytes": 17, "record_type": "trigger"},
     "@metadata": {"_id": "ns/<activationId>:0"},
     ...static fields,
     "faas": {"name": "pkg/action", "id": "/ns/pkg/action", "version": "0.0.1",
              "execution": "<activationId>", "coldstart": false},
     "openwhisk": {"namespace": "ns", "kind": "nodejs:20",
                   "activation": {"status": "success", "success": true,
                                  "start": "...Z", "duration_ms": 12, "wait_ms": 5, "init_ms": 300,
                                  "cause": "<id>", "caused_by": "sequence", "timeout": true},
                   "limits": {"timeout_ms": 60000, "memory_mb": 256}}}

Choices:
- ``@timestamp`` keeps the nanoseconds of the line (Logstash 8 keeps them; map it as ``date_nanos``);
  ``log.offset`` orders the lines of one activation even where only milliseconds are indexed. No
  second copy of the time is sent: the ``_source`` keeps the full string either way.
- Activation facts are chosen for searching, not to mirror the record: ``end`` is ``start`` plus
  ``duration_ms``; ``timeout`` appears only when the activation timed out; ``limits`` carries the two
  that explain failures (time and memory). ``logfwd`` appears only on lines that carry a flag.
- ``faas.coldstart`` is true when the record has the ``initTime`` annotation. ``faas.name`` is the
  ``path`` annotation without its namespace (``pkg/action``), else the record's ``name``.
- ``@metadata._id`` is ``<namespace>/<activationId>:<offset>``: deterministic, so a re-sent line
  overwrites its earlier copy instead of duplicating it, and readable in Kibana and in logs. Activation
  ids are unique, so no hash is needed; the id stays far below Elasticsearch's 512-byte limit.
- A line that does not parse is kept whole with the activation's start as its time (millisecond
  precision) and ``logfwd.unparsed: true``; so is a log entry that is not a string (as its JSON).
- The platform's marker lines (logs truncated, logs missing) are kept, flagged ``logfwd.marker``.
- A message over ``max_line_bytes`` UTF-8 bytes is cut at a character boundary and says how many bytes
  were cut in ``logfwd.truncated_bytes``; nothing is dropped silently.
- Sequence records (annotation ``kind: sequence`` or ``topmost``) log the ids of their components:
  one event each, message ``sequence component activation <id>``, ``logfwd.record_type: sequence``.
- Trigger records (no ``kind`` annotation, logs are JSON objects with ``statusCode`` and ``rule``,
  ``action`` or ``activationId``): one event per rule result, the raw JSON string as message,
  ``logfwd.record_type: trigger``. Both kinds take the activation's start as their time.
- Static ``fields`` are merged at the top level. They may not use the keys the builder writes
  (``RESERVED_FIELDS``): a clash is a ``ConfigError``, never a silent overwrite either way. Put custom
  data under your own keys, e.g. ``labels`` or ``service``.
- A record without ``activationId`` or a usable ``start`` raises ``BadRecordError`` naming it; other
  missing or odd fields are left out of the event.

The events of one record are kept as each line's own keys plus the keys all its lines share
(``faas``, ``openwhisk`` and the static fields): ``RecordEvents`` (``recordevents.py``) holds the shared part's JSON
once per record, which keeps the per-line cost low (see ``payloads``). That JSON is written from pieces cached per
action (``sharedpart.py``: what repeats for an action is encoded once, a record's own values go between), the dict
form being the reference a test holds it to. A line's own keys are kept as their JSON. A plain line
(the invoker's shape, no flag: nearly all of them) has its JSON written straight from its text
(``plainlines.py``, in C where logfwd was built with a compiler); any other line goes through a dict
(``line_fields``, the general form), or through ``plain_line_json`` if it parsed with no flag. Tests
hold every path to the general form's bytes.
"""

import json
from collections.abc import Mapping

from ...codecs.jsonbytes import dumps, string
from ...codecs.owlog import MARKER_PREFIXES, parse_line
from ...errors import BadRecordError, ConfigError
from .plainlines import heads as _plain_heads
from .recordevents import Payloads, RecordEvents
from .sharedpart import shared_fields, shared_json, start_time

__all__ = ["activation_events", "event_id", "check_fields", "line_fields", "plain_line_json", "Payloads", "RecordEvents",
           "RESERVED_FIELDS"]

RESERVED_FIELDS = frozenset(
    {"@timestamp", "@metadata", "message", "stream", "log", "faas", "openwhisk", "logfwd"}
)

_MAX_START_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last time RFC 3339 can write
_TRIGGER_KEYS = ("rule", "action", "activationId")


def event_id(namespace: str, activation_id: str, offset: int) -> str:
    """The deterministic id of line ``offset`` of an activation: ``guest/2f0c...:17``."""
    return f"{namespace}/{activation_id}:{offset}"


def check_fields(fields: Mapping) -> Mapping:
    """Return ``fields`` if they can be merged into events; ConfigError naming the clashing keys if not."""
    if not isinstance(fields, Mapping):
        raise ConfigError("fields", f"must be an object of static fields, got {type(fields).__name__}")
    clash = RESERVED_FIELDS.intersection(fields)
    if clash:
        raise ConfigError(
            "fields",
            f"uses the reserved key(s) {', '.join(sorted(clash))}, which every event sets itself",
            "Put static data under other keys, e.g. 'labels' or 'service'",
        )
    return fields


def _check_max_line_bytes(max_line_bytes: object) -> None:
    if isinstance(max_line_bytes, bool) or not isinstance(max_line_bytes, int) or max_line_bytes < 1:
        raise ConfigError("max_line_bytes", f"must be a positive number of bytes, got {max_line_bytes!r}")


def activation_events(
    record: dict, *, fields: Mapping = {}, logs: list[str] | None = None, max_line_bytes: int = 1_048_576
) -> RecordEvents:
    """One event per log line of ``record`` (or of ``logs``, when the logs were fetched separately)."""
    # Checked on every call, in a form that costs little for the usual types (a source calls this per record).
    if type(fields) is not dict or fields and not RESERVED_FIELDS.isdisjoint(fields):
        check_fields(fields)
    if type(max_line_bytes) is not int or max_line_bytes < 1:
        _check_max_line_bytes(max_line_bytes)
    if not isinstance(record, dict):
        raise BadRecordError(
            f"activation record is a {type(record).__name__}, not an object; it was not forwarded"
        )
    activation_id, start_ms = _identity(record)
    annotations = _annotations(record)
    path = annotations.get("path")
    path = path if isinstance(path, str) and "/" in path else ""  # "ns/[pkg/]action", else unusable
    namespace = record.get("namespace")
    namespace = namespace if isinstance(namespace, str) and namespace else path.partition("/")[0] or "_"
    start = start_time(start_ms)
    # Its JSON written from pieces cached per action where it can be (nearly always), else the dict.
    shared = (shared_json(record, annotations, fields, path, namespace, start)
              or shared_fields(record, annotations, fields, path, namespace, start))

    if logs is None:
        logs = record.get("logs")
    entries = logs if type(logs) is list else _entries(logs)  # a list, nearly always: taken as it is
    id_prefix = f"{namespace}/{activation_id}:"
    if annotations.get("kind") == "sequence" or "topmost" in annotations:
        return RecordEvents(_record_lines(entries, "sequence", start, id_prefix), shared)
    if "kind" not in annotations and entries and _is_rule_result(entries[0]):
        return RecordEvents(_record_lines(entries, "trigger", start, id_prefix), shared)

    prefix = string(id_prefix)[:-1]  # '"ns/id:' as JSON: each line's _id adds its offset and the quote
    heads = []
    unparsed = truncated = 0
    fits = max_line_bytes // 4  # a line of at most this many characters cannot be cut
    # Nearly every line is plain: its JSON is written straight (plainlines.py; in C where it was built).
    # The fast path stops at any other line, which goes the general way; then it goes on past it.
    offset, count = 0, len(entries)
    while (offset := _plain_heads(entries, offset, heads, prefix, fits, MARKER_PREFIXES)) < count:
        head, bad, cut = _line_head(entries[offset], offset, start, prefix, id_prefix, max_line_bytes)
        heads.append(head)
        unparsed += bad
        truncated += cut
        offset += 1
    return RecordEvents.encoded(heads, shared, unparsed, truncated)


def _line_head(entry: object, offset: int, start: str, prefix: bytes, id_prefix: str,
               max_line_bytes: int) -> tuple[bytes, bool, bool]:
    """A line's JSON the general way (any line the fast path does not take), and whether it did not
    parse and whether it was cut."""
    if type(entry) is str:
        timestamp, stream, message, marker = parse_line(entry)
    else:  # not text: keep it, as its JSON
        timestamp, stream, message, marker = None, None, _json(entry), None
    cut = 0
    if len(message) * 4 > max_line_bytes:  # only then can it be too long: UTF-8 is at most 4 bytes a char
        message, cut = _truncate(message, max_line_bytes)
    if timestamp is not None and stream is not None and marker is None and not cut:  # the common line
        return plain_line_json(timestamp, stream, message, offset, prefix), False, False
    line = line_fields(timestamp or start, stream, message, offset, id_prefix, _flags(timestamp is None, marker, cut))
    return dumps(line)[:-1], timestamp is None, cut > 0


_PLAIN_LINE = b'{"@timestamp":"%b","message":%b,"stream":"%b","log":{"offset":%d},"@metadata":{"_id":%b%d"}'

def plain_line_json(timestamp: str, stream: str, message: str, offset: int, id_prefix_json: bytes) -> bytes:
    """``dumps(line_fields(timestamp, stream, message, offset, id_prefix))[:-1]`` for a line without
    flags, written directly: ``timestamp`` and ``stream`` need no escaping (RFC 3339 and stdout|stderr,
    from ``parse_line``), ``id_prefix_json`` is ``string(id_prefix)`` without its closing quote."""
    return _PLAIN_LINE % (timestamp.encode(), string(message), stream.encode(), offset, id_prefix_json, offset)


def line_fields(timestamp: str, stream: str | None, message: str, offset: int, id_prefix: str,
                flags: dict | None = None) -> dict:
    """A line's own keys (the general form): ``stream`` only when the line had one, ``logfwd`` only
    with a flag."""
    if stream is None:
        line = {"@timestamp": timestamp, "message": message, "log": {"offset": offset}}
    else:
        line = {"@timestamp": timestamp, "message": message, "stream": stream, "log": {"offset": offset}}
    if flags:
        line["logfwd"] = flags
    line["@metadata"] = {"_id": f"{id_prefix}{offset}"}
    return line


def _flags(unparsed: bool, marker: str | None, truncated_bytes: int) -> dict:
    """A line's ``logfwd`` object: only the flags that apply."""
    flags = {}
    if unparsed:
        flags["unparsed"] = True
    if marker is not None:
        flags["marker"] = marker
    if truncated_bytes:
        flags["truncated_bytes"] = truncated_bytes
    return flags


def _record_lines(entries: list, record_type: str, start: str, id_prefix: str) -> list[dict]:
    """The lines of records whose logs are not log text: sequence components or trigger rule results."""
    lines = []
    for offset, entry in enumerate(entries):
        text = entry if isinstance(entry, str) else _json(entry)
        message = f"sequence component activation {text}" if record_type == "sequence" else text
        lines.append(
            {
                "@timestamp": start,
                "message": message,
                "log": {"offset": offset},
                "logfwd": {"record_type": record_type},
                "@metadata": {"_id": f"{id_prefix}{offset}"},
            }
        )
    return lines


def _identity(record: dict) -> tuple[str, int]:
    """The activation id and start (epoch ms) every event needs, or BadRecordError naming the record."""
    activation_id = record.get("activationId")
    if not isinstance(activation_id, str) or not activation_id:
        raise BadRecordError(
            f"activation record {_describe(record)} has no 'activationId'; it was not forwarded"
        )
    start = record.get("start")
    if type(start) is int and 0 <= start <= _MAX_START_MS:  # the usual start, checked in fewer steps
        return activation_id, start
    if isinstance(start, float) and start.is_integer():
        start = int(start)
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= _MAX_START_MS:
        raise BadRecordError(
            f"activation record {_describe(record)} has no usable 'start' (epoch milliseconds expected, "
            f"got {_short(start)}); it was not forwarded"
        )
    return activation_id, start


def _describe(record: dict) -> str:
    parts = [f"{key}={_short(record[key])}" for key in ("name", "namespace", "activationId") if key in record]
    return f"({', '.join(parts)})" if parts else "(without name or id)"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _annotations(record: dict) -> dict:
    annotations = record.get("annotations")
    if type(annotations) is list:
        try:  # the platform's shape, in one pass: every item an object with a key and a value
            return {item["key"]: item["value"] for item in annotations}  # a key not text is never read: no harm
        except (KeyError, TypeError):
            pass
    return _annotations_item_by_item(annotations)


def _annotations_item_by_item(annotations: object) -> dict:
    if not isinstance(annotations, list):
        return {}
    return {
        item["key"]: item.get("value")
        for item in annotations
        if isinstance(item, dict) and isinstance(item.get("key"), str)
    }


def _entries(logs: object) -> list:
    """The record's log entries as a list, whatever shape the source sent."""
    if logs is None:
        return []
    if isinstance(logs, list):
        return logs
    if isinstance(logs, str):
        return logs.splitlines()
    return [logs]  # a lone object: kept, as its JSON


def _is_rule_result(entry: object) -> bool:
    """True for the JSON rule results a trigger activation logs: {"statusCode": 0, "rule": ..., ...}."""
    if not isinstance(entry, str) or not entry.startswith("{"):
        return False
    try:
        result = json.loads(entry)
    except ValueError:
        return False
    return isinstance(result, dict) and "statusCode" in result and any(key in result for key in _TRIGGER_KEYS)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)


def _truncate(message: str, limit: int) -> tuple[str, int]:
    """Cut ``message`` to at most ``limit`` UTF-8 bytes at a character boundary; also return the bytes cut."""
    data = message.encode("utf-8", "surrogatepass")  # a lone surrogate must not make us fail here
    if len(data) <= limit:
        return message, 0
    end = limit
    while end > 0 and data[end] & 0xC0 == 0x80:  # back off continuation bytes of a split character
        end -= 1
    return data[:end].decode("utf-8", "surrogatepass"), len(data) - end
