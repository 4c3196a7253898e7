"""The Kinesis source: the records of one Lambda invocation, and the answer Lambda gets back.

The input is either a Kinesis batch (``Records``, one shard's records in order) or a CloudWatch Logs
subscription invoking the function directly (``awslogs.data``, one payload). A run of one-line text
records is one unit (``TextRun``: nearly every record), any other record a unit of its own; a record
counts as delivered once the sink acknowledged its payloads and everything before them, so the
delivered records are always a prefix of the batch.

Answer (Kinesis): with ``partial`` (the mapping sets ``FunctionResponseTypes: [ReportBatchItemFailures]``,
which Lambda does not tell the function), ``batchItemFailures`` lists every record from the first one
not delivered on, so Lambda checkpoints before it and replays nothing that was delivered. Without it,
or for a direct CloudWatch Logs invocation, anything undelivered raises ``DeliveryError``: the
invocation fails and Lambda retries the whole batch (or the payload): the answer then carries
``"failed"``, which the Lambda entry turns into a failed invocation.
"""

from itertools import repeat
from typing import Callable, Iterator

from ...deadline import Deadline
from ...errors import SourceError
from ..base import Encode, Unit
from .records import decode_awslogs, decode_record, record_identity
from .textrun import TextRun, decode_text_run

__all__ = ["KinesisSource", "RUN"]

# One-line records a unit at most (see textrun.py): a unit a record cost ~1.5 us a record in units, the
# batcher and the completions (``python -m tests.bench.kinesis_syslog --stages``).
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
        """A unit a run of up to ``RUN`` one-line records (``TextRun``), else a unit a record."""
        now_ms = self.now_ms()  # the batch's reading time, for records without an arrival time
        expired, direct, records = deadline.pull_expired, self.direct, self.records
        index = 0
        while index < len(records):
            if expired():
                self.warnings.append(f"stopped before the deadline at record {self._name(index)}: "
                                     f"{len(records) - index} record(s) left for Lambda to retry")
                return
            run = None if direct else decode_text_run(records, index, min(index + RUN, len(records)), now_ms)
            if run is not None:
                self.lines += len(run)
                yield _TextRunUnit(self, run, encode).unit()
                index += len(run)
                continue
            record = records[index]
            if direct:
                events, problems, control = decode_awslogs(record, now_ms)
            else:
                events, problems, control = decode_record(record if isinstance(record, dict) else {}, now_ms)
            if control:
                self.control_messages += 1
            if problems:
                self.bad_records += 1
                self.errors += [f"record {self._name(index)}: {problem}" for problem in problems]
            self.lines += len(events)
            yield Unit(encode(events), self._one_delivered)
            index += 1

    def _one_delivered(self) -> None:
        """A record's ``done`` (one bound method for all): the batcher runs them in order, each once and
        only after every unit before it, so the count of records delivered is always a prefix's."""
        self.delivered += 1

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


class _TextRunUnit:
    """The unit of a ``TextRun``: its ``done`` marks all its records delivered; ``delivered_part`` those
    whose payloads a failed send acknowledged all of."""

    __slots__ = ("source", "run", "encode", "payloads")

    def __init__(self, source: KinesisSource, run: TextRun, encode: Encode):
        self.source, self.run, self.encode = source, run, encode
        self.payloads = encode(run)

    def unit(self) -> Unit:
        return Unit(self.payloads, self.done, None, self.delivered_part)

    def done(self) -> None:
        self.source.delivered += len(self.run)

    def delivered_part(self, acknowledged: int) -> int:
        """The records whose payloads are all among the first ``acknowledged``; how many payloads they have."""
        if len(self.payloads) == len(self.run):  # a payload a record: no line was split, one sink
            records = end = acknowledged
        else:  # a record's payloads are those encoding it alone gives (a failed send: rare)
            records = end = 0
            for index in range(len(self.run)):
                size = len(self.encode(self.run.record(index)))
                if end + size > acknowledged:
                    break
                records, end = records + 1, end + size
        self.source.delivered += records
        return end
