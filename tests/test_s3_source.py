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


def _line_by_line(data: bytes) -> list[tuple[str, int, int]]:
    """What the source reads, worked out a line at a time: (text, line number, byte offset) of each line
    of the log (not empty, not ALB's control line)."""
    read, offset = [], 0
    for number, raw in enumerate(data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"), 1):
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if text and not text.startswith("Enable AccessLog for ELB: "):
            read.append((text, number, offset))
        offset += len(raw) + 1
    return read


def test_lines_cut_a_run_at_a_time_are_those_read_line_by_line():
    """The source cuts lines and units a run of inflated bytes at a time; the same texts, numbers, offsets
    and delivered counts as a reading line by line, in any chunking and unit size, with empty lines, CRs,
    control lines, non-ASCII, invalid UTF-8 and a long line among them."""
    import random

    rng = random.Random(7)
    odd = [b"", b"\r", b"Enable AccessLog for ELB: my-lb", "caf\xe9 \u2028 line".encode(), b"bad \xff\xfe utf-8",
           b"cr at the end\r", b"two\r\r", b"x" * 3000]
    lines = [classic_line(i).encode() if rng.random() < 0.8 else rng.choice(odd) for i in range(3000)]
    for ending in (b"\n", b""):
        whole = b"\n".join(lines) + ending
        for compress, chunk, per_unit in ((False, 1, 7), (False, 4096, 1000), (True, 333, 2048), (True, 1 << 18, 1)):
            data = whole[:20000] if chunk == 1 else whole  # a byte at a time: a shorter object
            want = _line_by_line(data)
            client = FakeS3({"a.log": gzip.compress(data) if compress else data})
            source = S3Source(event("a.log"), client, lines_per_unit=per_unit, chunk=chunk)
            got, delivered = [], []
            for unit in source.units(Deadline(), lambda lines: lines):
                got += zip(unit.payloads.texts, unit.payloads.numbers, unit.payloads.offsets)
                unit.done()
                delivered.append(source.progress[0].delivered)
            assert got == want, (compress, chunk, per_unit)
            every_unit = [number for _, number, _ in want][per_unit - 1::per_unit]  # the last line of each full unit
            assert delivered[:-1] == every_unit and delivered[-1] == data.count(b"\n") + (not data.endswith(b"\n"))
            assert source.progress[0].complete
            assert source.summary()["control_lines"] == data.count(b"Enable AccessLog for ELB: ")
