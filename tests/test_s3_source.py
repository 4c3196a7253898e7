"""The s3 source's bookkeeping with an in-memory S3 (a fake client): a read that breaks mid-object, a
corrupt gzip object, access denied, and units confirmed only in order. The real S3 API is exercised in
test_s3_pipeline.py against moto's server; this covers what moto cannot be made to do."""

import datetime
import gzip
import json

from servers_s3 import classic_line, log_object

from logfwd.codecs.jsonbytes import json_payloads
from logfwd.deadline import Deadline
from logfwd.sources.s3.source import S3Source

MODIFIED = datetime.datetime(2026, 11, 30, 5, 0, tzinfo=datetime.timezone.utc)


class Denied(Exception):
    response = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}


class Body:
    def __init__(self, data: bytes, break_after: int | None = None):
        self.data, self.break_after, self.closed = data, break_after, False

    def iter_chunks(self, size):
        for offset in range(0, len(self.data), size):
            if self.break_after is not None and offset >= self.break_after:
                raise ConnectionResetError("Connection reset by peer")
            yield self.data[offset: offset + size]

    def close(self):
        self.closed = True


class FakeS3:
    def __init__(self, objects: dict, break_after: int | None = None):
        self.objects, self.break_after, self.bodies = objects, break_after, []

    def get_object(self, Bucket, Key, **_):
        if Key not in self.objects:
            raise Denied("An error occurred (AccessDenied) when calling the GetObject operation: Access Denied")
        self.bodies.append(Body(self.objects[Key], self.break_after))
        return {"Body": self.bodies[-1], "ETag": '"abc"', "LastModified": MODIFIED}


def event(*keys):
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": "b"}, "object": {"key": key}}} for key in keys]}


def drain(source, confirm=True):
    events = []
    for unit in source.units(Deadline(), json_payloads):
        events += [json.loads(payload) for payload in unit.payloads]
        if confirm and unit.done:
            unit.done()
    return events


def test_a_read_that_breaks_mid_object_keeps_what_was_confirmed_and_fails_the_invocation():
    data = log_object(classic_line, 5000)
    client = FakeS3({"a.log": data, "b.log": data}, break_after=len(data) // 2)
    source = S3Source(event("a.log", "b.log"), client, lines_per_unit=1000, chunk=4096)
    events = drain(source)
    first, second = source.progress
    assert 1000 <= first.delivered < 5000 and first.delivered % 1000 == 0 and not first.complete
    assert len(events) == first.delivered + second.delivered  # nothing unconfirmed is counted
    assert source.errors[0].startswith(f"s3://b/a.log: reading stopped after {first.read} lines "
                                       "(ConnectionResetError): Connection reset by peer")
    assert all(body.closed for body in client.bodies)
    assert "s3://b/a.log: " in source.answer()["failed"] and "s3://b/b.log: " in source.answer()["failed"]


def test_a_corrupt_gzip_object_and_a_denied_one_are_reported_by_name():
    data = gzip.compress(log_object(classic_line, 100))
    corrupt = data[:30] + bytes(byte ^ 0x55 for byte in data[30:60]) + data[60:]
    source = S3Source(event("bad.log.gz", "secret.log", "good.log.gz"), FakeS3({"bad.log.gz": corrupt, "good.log.gz": data}))
    events = drain(source)
    assert len(events) == 100 and source.progress[2].complete
    assert source.errors[0].startswith("s3://b/bad.log.gz: the gzip data is corrupt")
    assert source.errors[1] == ("s3://b/secret.log: GetObject failed (AccessDenied): An error occurred (AccessDenied) "
                                "when calling the GetObject operation: Access Denied")
    summary = source.summary()
    assert summary["records"] == 1 and summary["more"]


def test_units_confirmed_out_of_order_are_impossible_and_unconfirmed_ones_count_nothing():
    source = S3Source(event("a.log"), FakeS3({"a.log": log_object(classic_line, 2500)}), lines_per_unit=1000)
    units = list(source.units(Deadline(), json_payloads))
    assert [len(unit.payloads) for unit in units] == [1000, 1000, 500]
    units[0].done()
    assert source.summary()["objects"] == [{"bucket": "b", "key": "a.log", "lines_delivered": 1000, "complete": False}]
    units[1].done()
    units[2].done()
    assert source.summary()["objects"][0]["complete"] and source.answer() == {}


def test_unparsed_lines_carry_the_object_time_and_the_reason():
    source = S3Source(event("x.log"), FakeS3({"x.log": b"hello world\r\n\n" + classic_line(1).encode() + b"\n"}))
    events = drain(source)
    assert events[0] == {"message": "hello world", "@timestamp": "2026-11-30T05:00:00.000Z",
                         "error": {"message": "2 fields, a ALB line has at least 25"},
                         "event": {"kind": "event", "module": "aws", "dataset": "aws.elb"},
                         "cloud": {"provider": "aws"}, "logfwd": {"unparsed": True},
                         "aws": {"s3": {"bucket": {"name": "b", "arn": "arn:aws:s3:::b"}, "object": {"key": "x.log"}}},
                         "@metadata": events[0]["@metadata"], "log": {"offset": 0, "file": {"path": "s3://b/x.log"}}}
    assert events[1]["@metadata"]["_id"].endswith("-3") and events[1]["log"]["offset"] == 14  # the empty line counts
    assert source.summary()["unparsed"] == 1
