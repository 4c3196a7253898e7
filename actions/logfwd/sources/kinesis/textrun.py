"""A run of Kinesis records that each hold one line of text, decoded in one loop. Pure.

Convox's agent writes a record a line, so a batch is nearly always up to 10,000 such records. Taken one
by one (``decode_record``: the record's fields, base64, its shape, its lines, a ``TextLines``; then the
encoder once a record) the plumbing around the work cost more than the work: with a unit a record too,
79,000 instructions a record (``python -m tests.bench.kinesis_instructions``), 44,000 now. Here a run is
decoded in one loop, into flat lists that the syslog encoder reads in one loop too (``syslog_rows``).

A record joins a run only if it is the plain case: a dict from the run's stream and shard, its
sequence number text, its data base64 that is not gzip, and one line that is not blank and not a JSON
line that fails to parse. Any other record ends the run and goes the general way, alone. Read as a
sequence, a run gives the events the general way gives for its records, key for key: each record's
``TextLines`` builds them (``tests/test_textrun.py`` holds the two ways to the same events and bytes).
"""

import binascii
from binascii import a2b_base64
from itertools import repeat

from .awslogs import GZIP_MAGIC
from .lines import LineParts, line_parts
from .records import arrival_ms, stream_and_app
from .textlines import LineEvents, RecordIds, TextLines

__all__ = ["TextRun", "decode_text_run"]


class TextRun(LineEvents):
    """The events of a run of one-line records of one stream and shard: an event a record, in order."""

    __slots__ = ("app", "stream", "shard", "sequences", "lines", "keys", "regions")

    def __init__(self, app: str, stream: str, shard: str):
        self.app, self.stream, self.shard = app, stream, shard
        self.sequences: list[str] = []    # a record's sequence number
        self.lines: list[LineParts] = []  # its line
        self.keys: list = []              # its partitionKey
        self.regions: list = []           # its awsRegion

    def _event(self, index: int) -> dict:
        return self.record(index)[0]

    def record(self, index: int) -> TextLines:
        """The events of the run's ``index``-th record, as the general way gives them."""
        ids = RecordIds(self.stream, self.shard, self.sequences[index], self.keys[index], self.regions[index])
        return TextLines([self.lines[index]], self.app, ids)

    def syslog_rows(self) -> tuple:
        """The events as the syslog encoder reads them (see ``TextLines.syslog_rows``): every event is
        line 0 of its record."""
        return self.app, (self.stream, self.shard), self.lines, self.sequences, repeat(0)


def decode_text_run(records: list, start: int, stop: int, now_ms: int) -> TextRun | None:
    """The records from ``start`` (before ``stop``) that are the plain case, up to the first that is
    not; None if the first is not."""
    first = records[start]
    if type(first) is not dict:
        return None
    arn, event_id = first.get("eventSourceARN"), first.get("eventID")
    if type(arn) is not str or type(event_id) is not str or ":" not in event_id:
        return None
    stream, app = stream_and_app(arn)
    shard = event_id.partition(":")[0]
    run = TextRun(app, stream, shard)
    shard_prefix = shard + ":"
    sequences, lines, keys, regions = run.sequences, run.lines, run.keys, run.regions
    for index in range(start, stop):
        record = records[index]
        if type(record) is not dict:
            break
        kinesis, event_id = record.get("kinesis"), record.get("eventID")
        if (type(kinesis) is not dict or record.get("eventSourceARN") != arn or type(event_id) is not str
                or not event_id.startswith(shard_prefix)):
            break
        sequence, data = kinesis.get("sequenceNumber"), kinesis.get("data")
        if type(sequence) is not str or not sequence or type(data) is not str:
            break
        try:
            raw = a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError):
            break
        if raw.startswith(GZIP_MAGIC):
            break
        text = raw.decode("utf-8", "replace")
        if text.endswith("\n"):
            text = text[:-1]  # "line\n" is one line too
        text = text.rstrip("\r")
        if "\n" in text or not text or text.isspace():
            break
        arrival = kinesis.get("approximateArrivalTimestamp")  # Lambda's: a float
        parts = line_parts(text, app, round(arrival * 1000) if type(arrival) is float else arrival_ms(arrival, now_ms))
        if parts.bad_json:
            break  # reported as a problem of its record: the general way
        sequences.append(sequence)
        lines.append(parts)
        keys.append(kinesis.get("partitionKey"))
        regions.append(record.get("awsRegion"))
    return run if lines else None
