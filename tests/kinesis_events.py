"""Kinesis Lambda events built in the tests (the saved ones are in tests/events/), and the kinesis
source's harness for the source contract suite."""

import base64
import contextlib
from typing import Iterator


STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/shop-Kinesis-ABCDEF123456"
FIRST_SEQUENCE = 49590668435772834867384701968912358023909117360707174420


def kinesis_event(lines: list[bytes | str], first: int = FIRST_SEQUENCE, shard: str = "shardId-000000000007") -> dict:
    """One record per line (``str`` items are sent as they are: e.g. data that is not base64)."""
    return {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": str(n), "sequenceNumber": str(first + n),
                    "data": base64.b64encode(line).decode() if isinstance(line, bytes) else line,
                    "approximateArrivalTimestamp": 1764478800.5 + n / 1000},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{first + n}",
        "eventName": "aws:kinesis:record", "awsRegion": "us-east-1", "eventSourceARN": STREAM_ARN}
        for n, line in enumerate(lines)]}


class KinesisHarness:
    name = "kinesis"

    @contextlib.contextmanager
    def source(self, messages: list[str], bad: bool = False) -> Iterator:
        from source_harnesses import build

        lines: list[bytes | str] = [m.encode() for m in messages]
        if bad:
            lines.insert(len(lines) // 2, "not base64!")
        yield build({"source": "kinesis"}, event=kinesis_event(lines), clock=lambda: 1764478800.0)
