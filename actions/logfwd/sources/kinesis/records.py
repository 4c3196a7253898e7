"""One Kinesis event record to events: base64, then the shape told by the bytes. Pure.

Shapes: a gzip stream (``1f 8b``) is a CloudWatch Logs subscription payload; anything else is text,
one event per non-empty line (JSON lines and plain lines alike, see ``lines``). A record that cannot
be decoded is still forwarded, raw, flagged ``logfwd.bad_record`` with the reason, and reported by its
sequence number: it is never fatal for the batch, and never dropped in silence.
"""

import binascii
import gzip
import zlib
from binascii import a2b_base64
from functools import lru_cache
from typing import Sequence

from ...errors import BadRecordError
from .awslogs import GZIP_MAGIC, decode_payload, payload_events
from .lines import app_name, format_ms, line_parts
from .textlines import RecordIds, TextLines

__all__ = ["Decoded", "decode_record", "decode_awslogs", "record_identity", "stream_and_app", "arrival_ms"]

CONTROL_MESSAGE = "CONTROL_MESSAGE"

# What one record holds: its events (a list, or TextLines: built when read), what was wrong with it, and
# whether it was a control message.
Decoded = tuple[Sequence[dict], list[str], bool]


def record_identity(record: dict) -> tuple[str, str, str]:
    """(stream name, shard id, sequence number) of a Kinesis event record, ``""`` where absent."""
    kinesis = record.get("kinesis")
    sequence = kinesis.get("sequenceNumber") if isinstance(kinesis, dict) else None
    return (stream_and_app(str(record.get("eventSourceARN") or ""))[0],
            str(record.get("eventID") or "").partition(":")[0], str(sequence or ""))


@lru_cache(maxsize=64)  # the records of a batch come from one stream
def stream_and_app(arn: str) -> tuple[str, str]:
    """The stream's name in its ARN, and the app it belongs to (``-`` if none)."""
    name = arn.rsplit("stream/", 1)[-1] if "stream/" in arn else arn
    return name, app_name(name) or "-"


def arrival_ms(arrival: object, now_ms: int) -> int:
    """A record's ``approximateArrivalTimestamp`` (epoch seconds) in milliseconds; ``now_ms`` if it has
    none: the time of the lines that have none of their own."""
    if isinstance(arrival, (int, float)) and not isinstance(arrival, bool):
        return round(arrival * 1000)
    return now_ms


def decode_record(record: dict, now_ms: int) -> Decoded:
    """The events of one Kinesis record, each carrying ``aws.kinesis`` ids and a deterministic ``_id``.

    Lines without a time of their own take the record's arrival time (else ``now_ms``)."""
    kinesis = record.get("kinesis")
    if not isinstance(kinesis, dict):
        kinesis = {}
    stream, shard, sequence = record_identity(record)
    app = stream_and_app(str(record.get("eventSourceARN") or ""))[1]
    default_ms = arrival_ms(kinesis.get("approximateArrivalTimestamp"), now_ms)
    ids = RecordIds(stream, shard, sequence, kinesis.get("partitionKey"), record.get("awsRegion"))
    data = kinesis.get("data")
    if not isinstance(data, str):
        return _stamped([_bad(f"kinesis.data is missing or not text ({type(data).__name__})", "", app, default_ms)],
                        ids)
    try:
        raw = a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        return _stamped([_bad(f"kinesis.data is not base64 ({exc})", data, app, default_ms)], ids)
    if not raw.startswith(GZIP_MAGIC):
        return _text_lines(raw, app, default_ms, ids)  # its events carry the ids when they are read
    events, control = _gzip_events(raw, data, app, default_ms)
    return _stamped(events, ids, control)


def decode_awslogs(data: object, now_ms: int) -> Decoded:
    """A CloudWatch Logs subscription that invokes the function itself: ``event.awslogs.data``."""
    if not isinstance(data, str):
        events = [_bad("awslogs.data is missing or not text", "", "-", now_ms)]
        return events, _problems(events), False
    try:
        raw = a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        events = [_bad(f"awslogs.data is not base64 ({exc})", data, "-", now_ms)]
        return events, _problems(events), False
    if raw[:2] != GZIP_MAGIC:
        return _text_lines(raw, "-", now_ms)
    events, control = _gzip_events(raw, data, "-", now_ms)
    return events, _problems(events), control


def _stamped(events: list[dict], ids: RecordIds, control: bool = False) -> Decoded:
    """A Kinesis record's events given as dicts (a CloudWatch Logs payload, a bad record), each given
    the record's ids."""
    id_prefix = f"{ids.stream}/{ids.shard}/{ids.sequence}:"
    for offset, event in enumerate(events):
        if "@metadata" not in event:
            event["@metadata"] = {"_id": id_prefix + str(offset)}
        event.setdefault("aws", {})["kinesis"] = ids.kinesis()
        if ids.region:
            event.setdefault("cloud", {"provider": "aws"})["region"] = ids.region
    return events, _problems(events), control


def _gzip_events(raw: bytes, data: str, app: str, default_ms: int) -> tuple[list[dict], bool]:
    """The events of a CloudWatch Logs subscription payload, and whether it was a control message."""
    try:
        payload = decode_payload(raw)
    except BadRecordError as exc:
        return [_bad(str(exc), _text_or_base64(raw, data), app, default_ms)], False
    if payload.message_type == CONTROL_MESSAGE:
        return [], True
    return payload_events(payload, default_ms), False


def _text_lines(raw: bytes, app: str, default_ms: int, ids: RecordIds | None = None) -> Decoded:
    """A text payload: one event per line that is not blank, kept as parsed parts (``TextLines``)."""
    text = raw.decode("utf-8", "replace")
    lines = []
    bad_json = False
    for line in text.split("\n") if "\n" in text else (text,):
        line = line.rstrip("\r")
        if line and not line.isspace():  # not blank: line.strip() without the copy
            parts = line_parts(line, app, default_ms)
            bad_json |= parts.bad_json
            lines.append(parts)
    events = TextLines(lines, app, ids)
    return events, events.problems() if bad_json else [], False


def _problems(events: list[dict]) -> list[str]:
    """What was wrong with a record, one sentence per bad part, for the run's errors."""
    problems = []
    for event in events:
        flags = event.get("logfwd")
        if flags is None:
            continue
        if "bad_record" in flags:
            problems.append(f"{flags['bad_record']}; forwarded raw, flagged logfwd.bad_record")
        elif flags.get("bad_json"):
            problems.append(f"line {event['log']['offset']} is not valid JSON; forwarded as text, "
                            "flagged logfwd.bad_json")
    return problems


def _text_or_base64(raw: bytes, data: str) -> str:
    """A payload that did not decode, as the receiver can show it: its inflated text if gzip worked."""
    try:
        return gzip.decompress(raw).decode("utf-8", "replace")
    except (OSError, EOFError, zlib.error):
        return data


def _bad(problem: str, raw: str, app: str, ms: int) -> dict:
    return {"@timestamp": format_ms(ms), "message": raw, "host": {"name": app}, "process": {"name": app},
            "log": {"offset": 0}, "logfwd": {"bad_record": problem}}
