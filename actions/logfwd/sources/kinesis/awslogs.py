"""CloudWatch Logs subscription payloads (gzip of ``awslogs`` JSON) and Lambda's own log lines. Pure.

A payload is ``{"messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents":
[{"id", "timestamp" (epoch ms), "message"}]}``. ``CONTROL_MESSAGE`` is CloudWatch checking that the
destination is reachable: it carries no logs.

Log groups ``/aws/lambda/<function>`` hold a function's logs: ``START``, ``END`` and ``REPORT`` lines
are parsed into ``faas.execution`` (the request id) and ``aws.lambda.*`` (durations in ms, memory in
MB), and the runtimes' ``<time> <request id> <LEVEL> text`` lines give their level; the same for
Lambda's JSON log format (``platform.start``/``platform.report`` records, app lines with ``level``).
"""

import gzip
import re
import zlib
from dataclasses import dataclass, field

from ...codecs.jsonbytes import loads
from ...errors import BadRecordError
from .lines import app_name, format_ms, line_fields

__all__ = ["Payload", "decode_payload", "payload_events", "lambda_fields"]

GZIP_MAGIC = b"\x1f\x8b"
_LAMBDA_GROUP = "/aws/lambda/"
_START = re.compile(r"START RequestId: (\S+)(?: Version: (\S+))?")
_END = re.compile(r"END RequestId: (\S+)")
_REPORT = re.compile(r"REPORT RequestId: (\S+)")
_METRICS = {  # REPORT's tab-separated "Name: value unit" pairs -> aws.lambda key
    "Duration": "duration_ms", "Billed Duration": "billed_duration_ms", "Memory Size": "memory_size_mb",
    "Max Memory Used": "max_memory_used_mb", "Init Duration": "init_duration_ms",
}
_JSON_ACTIONS = {"platform.start": "START", "platform.report": "REPORT"}
_JSON_METRICS = {"durationMs": "duration_ms", "billedDurationMs": "billed_duration_ms", "memorySizeMB": "memory_size_mb",
                 "maxMemoryUsedMB": "max_memory_used_mb", "initDurationMs": "init_duration_ms"}
_METRIC = re.compile(r"(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration): ([0-9.]+)")
_TRACE = re.compile(r"XRAY TraceId: (\S+)")
# Python: "[INFO]\t<time>\t<id>\ttext"; Node.js and others: "<time>\t<id>\tINFO\ttext"
_RUNTIME_LINE = re.compile(r"(?:\[([A-Z]+)\]\t\S+\t(\S+)\t|\S+\t([0-9a-f-]{36})\t([A-Z]+)\t)")


@dataclass
class Payload:
    message_type: str
    log_group: str
    log_stream: str
    owner: str
    log_events: list = field(default_factory=list)


def decode_payload(data: bytes) -> Payload:
    """Inflate and parse one subscription payload; ``BadRecordError`` saying which step failed."""
    try:
        text = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadRecordError(f"gzip does not inflate ({exc})") from None
    try:
        document = loads(text)
    except ValueError as exc:
        raise BadRecordError(f"inflated payload is not JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("messageType"), str):
        raise BadRecordError("inflated JSON is not a CloudWatch Logs payload (no messageType)")
    events = document.get("logEvents") or []
    if not isinstance(events, list):
        raise BadRecordError("logEvents is not a list")
    return Payload(document["messageType"], str(document.get("logGroup") or ""),
                   str(document.get("logStream") or ""), str(document.get("owner") or ""), events)


def payload_events(payload: Payload, default_ms: int) -> list[dict]:
    """The events of a ``DATA_MESSAGE``: one per log event, in order, ``@metadata._id`` = the event id."""
    group = payload.log_group
    function = group[len(_LAMBDA_GROUP):] if group.startswith(_LAMBDA_GROUP) else None
    app = function or app_name(group.rsplit("/", 1)[-1] or group) or "-"
    events = []
    for offset, item in enumerate(payload.log_events):
        item = item if isinstance(item, dict) else {"message": str(item)}
        message = item.get("message")
        text = message if isinstance(message, str) else str(message or "")
        text = text.rstrip("\n")
        stamp = item.get("timestamp")
        ms = int(stamp) if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) else default_ms
        if function is not None:
            fields = lambda_fields(text)
            event = {"@timestamp": format_ms(ms), "message": text, "host": {"name": function},
                     "process": {"name": "lambda"}, "faas": {"name": function, **fields.pop("faas", {})}, **fields}
        else:
            event = line_fields(text, app, ms)
        event_id = str(item.get("id") or f"{group}/{payload.log_stream}:{offset}")
        event["@metadata"] = {"_id": event_id}
        event["log"] = {**event.get("log", {}), "offset": offset}
        event.setdefault("aws", {})["cloudwatch"] = {"log_group": group, "log_stream": payload.log_stream,
                                                     "event_id": event_id}
        if payload.owner:
            event["cloud"] = {"provider": "aws", "account": {"id": payload.owner}}
        events.append(event)
    return events


def lambda_fields(text: str) -> dict:
    """Fields of one line of a Lambda function's log: platform lines and the runtimes' level prefix,
    in the text log format or the JSON one."""
    if text.startswith("{"):
        return _json_lambda_fields(text)
    if text.startswith("START "):
        match = _START.match(text)
        if match:
            fields = {"event": {"action": "START"}, "faas": {"execution": match[1]}}
            if match[2]:
                fields["aws"] = {"lambda": {"version": match[2]}}
            return fields
    elif text.startswith("END "):
        match = _END.match(text)
        if match:
            return {"event": {"action": "END"}, "faas": {"execution": match[1]}}
    elif text.startswith("REPORT "):
        match = _REPORT.match(text)
        if match:
            metrics = {_METRICS[name]: _number(value) for name, value in _METRIC.findall(text)}
            trace = _TRACE.search(text)
            if trace:
                metrics["xray_trace_id"] = trace[1]
            fields = {"event": {"action": "REPORT"}, "faas": {"execution": match[1]}, "aws": {"lambda": metrics}}
            if "init_duration_ms" in metrics:
                fields["faas"]["coldstart"] = True
            return fields
    match = _RUNTIME_LINE.match(text)
    if match:
        level = match[1] or match[4]
        return {"log": {"level": level.lower()}, "faas": {"execution": match[2] or match[3]}}
    return {}


def _json_lambda_fields(text: str) -> dict:
    """``{"type": "platform.start|report|...", "record": {...}}`` or an app line ``{"level", "requestId"}``."""
    try:
        document = loads(text.encode("utf-8", "surrogatepass"))
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    kind, record = document.get("type"), document.get("record")
    if isinstance(kind, str) and kind.startswith("platform.") and isinstance(record, dict):
        fields: dict = {"event": {"action": _JSON_ACTIONS.get(kind, kind)}}
        if isinstance(record.get("requestId"), str):
            fields["faas"] = {"execution": record["requestId"]}
        metrics = record.get("metrics") if isinstance(record.get("metrics"), dict) else {}
        numbers = {key: metrics[name] for name, key in _JSON_METRICS.items()
                   if isinstance(metrics.get(name), (int, float)) and not isinstance(metrics.get(name), bool)}
        if isinstance(record.get("version"), str):
            numbers["version"] = record["version"]
        if numbers:
            fields["aws"] = {"lambda": numbers}
        if "init_duration_ms" in numbers:
            fields.setdefault("faas", {})["coldstart"] = True
        return fields
    fields = {}
    if isinstance(document.get("level"), str):
        fields["log"] = {"level": document["level"].lower()}
    if isinstance(document.get("requestId"), str):
        fields["faas"] = {"execution": document["requestId"]}
    return fields


def _number(value: str) -> int | float:
    return float(value) if "." in value else int(value)
