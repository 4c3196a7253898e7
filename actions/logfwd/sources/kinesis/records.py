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
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

from ...errors import BadRecordError
from .awslogs import GZIP_MAGIC, decode_payload, payload_events
from .lines import app_name, format_ms, line_parts
from .textlines import RecordIds, TextLines

__all__ = ["Decoded", "decode_record", "decode_awslogs", "record_identity"]

CONTROL_MESSAGE = "CONTROL_MESSAGE"
_new_tuple = tuple.__new__  # makes a NamedTuple without its Python-level __new__: 3 times cheaper, once a record


@dataclass(slots=True)
class Decoded:
    """What one record holds: its events, what was wrong with it, and whether it was a control message."""

    events: Sequence[dict] = field(default_factory=list)  # a list, or TextLines (built when read)
    problems: list[str] = field(default_factory=list)
    control: bool = False


def record_identity(record: dict) -> tuple[str, str, str]:
    """(stream name, shard id, sequence number) of a Kinesis event record, ``""`` where absent."""
    kinesis = record.get("kinesis")
    return _identity(record, kinesis if isinstance(kinesis, dict) else {})


def _identity(record: dict, kinesis: dict) -> tuple[str, str, str]:
    shard = str(record.get("eventID") or "").split(":", 1)[0]
    return _stream_name(str(record.get("eventSourceARN") or "")), shard, str(kinesis.get("sequenceNumber") or "")


@lru_cache(maxsize=64)  # the records of a batch come from one stream
def _stream_name(arn: str) -> str:
    return arn.rsplit("stream/", 1)[-1] if "stream/" in arn else arn


def decode_record(record: dict, now_ms: int) -> Decoded:
    """The events of one Kinesis record, each carrying ``aws.kinesis`` ids and a deterministic ``_id``.

    Lines without a time of their own take the record's arrival time (else ``now_ms``)."""
    kinesis = record.get("kinesis")
    if not isinstance(kinesis, dict):
        kinesis = {}
    stream, shard, sequence = _identity(record, kinesis)
    arrival = kinesis.get("approximateArrivalTimestamp")
    usable = isinstance(arrival, (int, float)) and not isinstance(arrival, bool)
    arrival_ms = round(arrival * 1000) if usable else now_ms
    app = app_name(stream) or "-"
    ids = _new_tuple(RecordIds, (stream, shard, sequence, kinesis.get("partitionKey"), record.get("awsRegion")))
    data = kinesis.get("data")
    if not isinstance(data, str):
        decoded = Decoded([_bad(f"kinesis.data is missing or not text ({type(data).__name__})", "", app, arrival_ms)])
    else:
        try:
            raw = a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            decoded = Decoded([_bad(f"kinesis.data is not base64 ({exc})", data, app, arrival_ms)])
        else:
            decoded = _decode_bytes(raw, data, app, arrival_ms, ids)
    if isinstance(decoded.events, TextLines):
        return decoded  # its events carry the ids when they are read
    decoded.problems = _problems(decoded.events)
    id_prefix = f"{stream}/{shard}/{sequence}:"
    for offset, event in enumerate(decoded.events):
        if "@metadata" not in event:
            event["@metadata"] = {"_id": id_prefix + str(offset)}
        event.setdefault("aws", {})["kinesis"] = ids.kinesis()
        if ids.region:
            event.setdefault("cloud", {"provider": "aws"})["region"] = ids.region
    return decoded


def decode_awslogs(data: object, now_ms: int) -> Decoded:
    """A CloudWatch Logs subscription that invokes the function itself: ``event.awslogs.data``."""
    if not isinstance(data, str):
        return Decoded([_bad("awslogs.data is missing or not text", "", "-", now_ms)])
    try:
        raw = a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        problem = f"awslogs.data is not base64 ({exc})"
        return Decoded([_bad(problem, data, "-", now_ms)])
    decoded = _decode_bytes(raw, data, "-", now_ms)
    if not isinstance(decoded.events, TextLines):
        decoded.problems = _problems(decoded.events)
    return decoded


def _decode_bytes(raw: bytes, data: str, app: str, arrival_ms: int, ids: RecordIds | None = None) -> Decoded:
    if raw[:2] == GZIP_MAGIC:
        try:
            payload = decode_payload(raw)
        except BadRecordError as exc:
            return Decoded([_bad(str(exc), _text_or_base64(raw, data), app, arrival_ms)])
        if payload.message_type == CONTROL_MESSAGE:
            return Decoded(control=True)
        return Decoded(payload_events(payload, arrival_ms))
    text = raw.decode("utf-8", "replace")
    lines = []
    bad_json = False
    for line in text.split("\n") if "\n" in text else (text,):
        line = line.rstrip("\r")
        if line.strip():
            parts = line_parts(line, app, arrival_ms)
            bad_json |= parts.bad_json
            lines.append(parts)
    events = TextLines(lines, app, ids)
    return Decoded(events, events.problems() if bad_json else [])


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
