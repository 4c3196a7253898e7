"""The Kinesis source: the records of one Lambda invocation, and the answer Lambda gets back.

The input is either a Kinesis batch (``Records``, one shard's records in order) or a CloudWatch Logs
subscription invoking the function directly (``awslogs.data``, one payload). Each record is one unit;
records go to the sink in runs (one unit each, see ``_Run``), and a record counts as delivered once the
sink acknowledged its payloads and everything before them, so the delivered records are always a
prefix of the batch.

Answer (Kinesis): with ``partial`` (the mapping sets ``FunctionResponseTypes: [ReportBatchItemFailures]``,
which Lambda does not tell the function), ``batchItemFailures`` lists every record from the first one
not delivered on, so Lambda checkpoints before it and replays nothing that was delivered. Without it,
or for a direct CloudWatch Logs invocation, anything undelivered raises ``DeliveryError``: the
invocation fails and Lambda retries the whole batch (or the payload): the answer then carries
``"failed"``, which the Lambda entry turns into a failed invocation.
"""

from bisect import bisect_right
from itertools import repeat
from typing import Callable, Iterator

from ...deadline import Deadline
from ...errors import SourceError
from ..base import Encode, Unit
from .records import decode_awslogs, decode_record, record_identity

__all__ = ["KinesisSource", "RUN"]

# Records a unit. A unit a record cost ~1.5 us a record in units, the batcher and the completions
# (``python -m tests.bench.kinesis_syslog --stages``); a run of them is the same work once.
RUN = 256


class KinesisSource:
    def __init__(self, event: object, *, partial: bool = True, now_ms: Callable[[], int]):
        if isinstance(event, dict) and isinstance(event.get("awslogs"), dict):
            self.direct = True
            self.records: list = [event["awslogs"].get("data")]
        elif isinstance(event, dict) and isinstance(event.get("Records"), list):
            self.direct = False
            self.records = event["Records"]
            try:  # up to 10,000 records: their sources read without a Python step each
                single = set(map(dict.get, self.records, repeat("eventSource"))) == {"aws:kinesis"}
            except TypeError:  # a record that is not an object
                single = False
            if not single:
                for index, record in enumerate(self.records):
                    source = record.get("eventSource") if isinstance(record, dict) else None
                    if source != "aws:kinesis":
                        raise SourceError(f"record {index} of the event comes from {source!r}, not aws:kinesis: "
                                          "connect the kinesis source to a Kinesis stream or a CloudWatch Logs "
                                          "subscription")
        else:
            keys = ", ".join(sorted(event)) if isinstance(event, dict) else type(event).__name__
            raise SourceError(f"the event is neither a Kinesis batch (Records) nor a CloudWatch Logs "
                              f"subscription (awslogs.data); it has: {keys or 'nothing'}")
        self.partial = partial
        self.now_ms = now_ms
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.delivered = 0  # records delivered: always the first ones
        self.lines = self.control_messages = self.bad_records = 0

    def units(self, deadline: Deadline, encode: Encode) -> Iterator[Unit]:
        """A unit a run of up to ``RUN`` records: its ``done`` marks them all delivered, and a send that
        fails part of the way through it marks those whose payloads were all acknowledged (``_Run``)."""
        now_ms = self.now_ms()  # the batch's reading time, for records without an arrival time
        expired, direct, records = deadline.pull_expired, self.direct, self.records
        for start in range(0, len(records), RUN):  # up to 10,000 records: no work a record that can be done once
            run = _Run(self)
            payloads, ends = run.payloads, run.ends
            for index in range(start, min(start + RUN, len(records))):
                if expired():
                    self.warnings.append(f"stopped before the deadline at record {self._name(index)}: "
                                         f"{len(records) - index} record(s) left for Lambda to retry")
                    if ends:
                        yield run.unit()
                    return
                record = records[index]
                if direct:
                    decoded = decode_awslogs(record, now_ms)
                else:
                    decoded = decode_record(record if isinstance(record, dict) else {}, now_ms)
                events, problems, control = decoded
                if control:
                    self.control_messages += 1
                if problems:
                    self.bad_records += 1
                    self.errors += [f"record {self._name(index)}: {problem}" for problem in problems]
                self.lines += len(events)
                payloads += encode(events)
                ends.append(len(payloads))
            yield run.unit()

    def _name(self, index: int) -> str:
        if self.direct:
            return "awslogs.data"
        record = self.records[index]
        sequence = record_identity(record)[2] if isinstance(record, dict) else ""
        return f"{sequence} (#{index})" if sequence else f"#{index}"

    def undelivered(self) -> list[str]:
        """Sequence numbers of the records not delivered, first one first."""
        return [record_identity(record)[2] for record in self.records[self.delivered:]]

    def answer(self) -> dict:
        """Lambda's answer: ``batchItemFailures`` from the first undelivered record on (``partial``),
        else ``{}`` when everything was delivered, and ``{"failed": why}`` when it was not."""
        if self.delivered >= len(self.records):
            return {"batchItemFailures": []} if self.partial and not self.direct else {}
        if self.partial and not self.direct:
            return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in self.undelivered()]}
        return {"failed": f"{len(self.records) - self.delivered} of {len(self.records)} record(s) not delivered, "
                          f"from record {self._name(self.delivered)} on: failing the invocation so Lambda retries"}

    def close(self) -> None:
        """Nothing to release: the records came in the invocation's input."""

    def summary(self) -> dict:
        return {"records": self.delivered, "received": len(self.records),
                "more": self.delivered < len(self.records), "lines": self.lines,
                "control_messages": self.control_messages, "bad_records": self.bad_records}


class _Run:
    """The records of one unit: their payloads, and where each record's payloads end among them."""

    __slots__ = ("source", "payloads", "ends")

    def __init__(self, source: KinesisSource):
        self.source = source
        self.payloads: list[bytes] = []
        self.ends: list[int] = []  # a record's end: how many of the run's payloads up to its last

    def unit(self) -> Unit:
        return Unit(self.payloads, self.done, None, self.delivered_part)

    def done(self) -> None:
        self.source.delivered += len(self.ends)

    def delivered_part(self, acknowledged: int) -> int:
        """The sink acknowledged the run's first ``acknowledged`` payloads, not all: the records whose
        payloads all are among them are delivered (a record without payloads, once those before it
        are). Returns how many payloads those records have."""
        records = bisect_right(self.ends, acknowledged)
        self.source.delivered += records
        return self.ends[records - 1] if records else 0
