"""The events of a text payload, one per non-empty line, kept as parsed parts until they are read. Pure.

A Kinesis batch holds up to 10,000 records of one or a few lines each. Building every line's nested
event dict, and the syslog sink walking it again, cost more than parsing the line itself (measured with
``python -m tests.bench.kinesis_syslog --stages``: decoding 6.5 and encoding 5.0 of the 14 us a line
before). So a record's lines stay ``LineParts`` plus what the record gives them all (the app and the
Kinesis ids), and:

- read as a sequence, each event is built on the spot, a fresh dict: the same event, key for key and
  in the same order, as building it eagerly would give (any sink can take it);
- ``syslog_rows()`` hands the syslog encoder the few fields it reads, flat, so that it encodes the
  lines without a dict (its fast path, in sinks/syslog/encode.py; tests compare the two paths).
"""

from collections.abc import Sequence
from itertools import repeat
from typing import NamedTuple

from .lines import LineParts, line_event

__all__ = ["LineEvents", "RecordIds", "TextLines"]


class RecordIds(NamedTuple):
    """Where a Kinesis record comes from: what every event of it carries under ``aws.kinesis``."""

    stream: str
    shard: str
    sequence: str
    partition_key: object
    region: object  # the record's awsRegion, if any

    def kinesis(self) -> dict:
        return {"stream": self.stream, "shard_id": self.shard, "sequence_number": self.sequence,
                "partition_key": self.partition_key}


class LineEvents(Sequence):
    """Events kept as parsed lines (``self.lines``), each built when read by ``_event(index)``: a fresh
    dict every time."""

    __slots__ = ()

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._event(position) for position in range(len(self.lines))[index]]
        return self._event(range(len(self.lines))[index])  # negative indexes, and IndexError past the end

    def _event(self, index: int) -> dict:
        raise NotImplementedError


class TextLines(LineEvents):
    """The events of one text payload: each line's ``LineParts``, the app they are forwarded under and,
    for a Kinesis record, its ids (which give each event ``@metadata._id``, ``aws.kinesis`` and
    ``cloud.region``)."""

    __slots__ = ("lines", "app", "ids")

    def __init__(self, lines: list[LineParts], app: str, ids: RecordIds | None = None):
        self.lines = lines
        self.app = app
        self.ids = ids

    def __repr__(self) -> str:
        return f"TextLines({list(self)!r})"

    def _event(self, offset: int) -> dict:
        event = line_event(self.lines[offset], self.app)
        log = event.get("log")
        if log is None:
            event["log"] = {"offset": offset}
        else:
            log["offset"] = offset
        ids = self.ids
        if ids is not None:
            event["@metadata"] = {"_id": f"{ids.stream}/{ids.shard}/{ids.sequence}:{offset}"}
            event["aws"] = {"kinesis": ids.kinesis()}
            if ids.region:
                event["cloud"] = {"provider": "aws", "region": ids.region}
        return event

    def problems(self) -> list[str]:
        """What was wrong with lines of the payload, one sentence each, for the run's errors."""
        return [f"line {offset} is not valid JSON; forwarded as text, flagged logfwd.bad_json"
                for offset, parts in enumerate(self.lines) if parts.bad_json]

    def syslog_rows(self) -> tuple:
        """The events as the syslog encoder reads them: ``(host.name, origin, rows, sequences, offsets)``.
        ``origin`` is ``aws.kinesis``'s (stream, shard_id), the same for every event, or None (no ids,
        no ``_id``); a row per event, ``(@timestamp, message, process.name, container.id, log.level,
        logfwd.bad_json, _)`` (its ``LineParts``), with its ``sequence_number`` and its offset in the
        record: its ``@metadata._id`` is ``<stream>/<shard>/<sequence>:<offset>``. The events have no
        other field that encoder reads."""
        ids = self.ids
        if ids is None:
            return self.app, None, self.lines, None, None
        return self.app, (ids.stream, ids.shard), self.lines, repeat(ids.sequence), range(len(self.lines))
