"""S3 -> parse -> Logstash, end to end against real parts: moto's S3 server holding 100,000-line gzip
(ALB) and plain (classic ELB) objects whose keys need URL decoding, read with boto3 through the S3
API; delivered with the tcp sink to a json_lines receiver, and with the Lumberjack sink to the
development receiver. Every line arrives once with the right fields; ids stay the same on a retry;
a receiver failing mid-object is reported and nothing is claimed delivered that was not."""

import json
import random
import re
from urllib.parse import quote_plus

import pytest

from jsonlines_receiver import JsonLinesReceiver
from logfwd.codecs.elblog import parse_line
from logfwd.deadline import NO_DEADLINE, Deadline
from logfwd.retry import NO_WAIT
from logfwd.pipeline import forward
from logfwd.sinks.lumberjack.sink import LumberjackSink
from logfwd.sinks.tcp.sink import TcpSink
from logfwd.sources.s3.source import S3Source
from logfwd_dev.receiver.server import Receiver
from servers_s3 import alb_line, classic_line, log_object

pytestmark = pytest.mark.slow

LINES = 100_000
BUCKET = "elb-logs"
ALB_KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/30/app.my lb+1 ünï.log.gz"
CLASSIC_KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/30/classic lb%2.log"
SMALL_KEY = "AWSLogs/small (5000 lines).log"
SMALL = 5000
HEADER = "Enable AccessLog for ELB: app/my-lb/50dc6c495c0c9188 at 2026-11-30T05:00:00.000000Z"


@pytest.fixture(scope="module")
def bucket(s3_server):
    """The two 100,000-line objects: ALB gzip (a control line first, a bad line every 10,000) and classic plain."""
    client = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=ALB_KEY,
                      Body=log_object(alb_line, LINES, bad_every=10_000, compress=True, header=HEADER))
    client.put_object(Bucket=BUCKET, Key=CLASSIC_KEY, Body=log_object(classic_line, LINES))
    client.put_object(Bucket=BUCKET, Key=SMALL_KEY, Body=log_object(classic_line, SMALL, compress=True))
    return client


def s3_event(*keys: str) -> dict:
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key, safe="/")}}}
                        for key in keys]}


def sqs_event(*keys: str) -> dict:
    return {"Records": [{"eventSource": "aws:sqs", "messageId": f"m{index}", "body": json.dumps(s3_event(key))}
                        for index, key in enumerate(keys)]}


def delivery_error(source: S3Source, sink, deadline: Deadline = NO_DEADLINE) -> str | None:
    """One pass of the pipeline; the delivery error it reports, if any (the source's own are in its errors)."""
    summary = forward(source, sink, None, deadline=deadline)
    sink.close()
    errors = [error for error in summary.get("errors", []) if error not in source.errors]
    assert summary["ok"] == (not errors and not source.errors)
    return errors[0] if errors else None


def test_every_line_of_both_objects_arrives_once_with_its_fields(bucket):
    source = S3Source(s3_event(ALB_KEY, CLASSIC_KEY), bucket)
    with JsonLinesReceiver() as receiver:
        assert delivery_error(source, TcpSink([receiver.address], retry=NO_WAIT)) is None
        received = {line["@metadata"]["_id"]: line for line in receiver.lines}
    assert len(receiver.lines) == len(received) == 2 * LINES  # once each; the control line is not a document
    assert source.errors == [] and source.answer() == {}
    summary = source.summary()
    assert summary["lines_delivered"] == 2 * LINES + 1 and summary["unparsed"] == 10 and summary["control_lines"] == 1
    assert [(o["key"], o["complete"], o["lines_delivered"]) for o in summary["objects"]] == [
        (ALB_KEY, True, LINES + 1), (CLASSIC_KEY, True, LINES)]

    by_key = {key: [doc for doc in received.values() if doc["aws"]["s3"]["object"]["key"] == key]
              for key in (ALB_KEY, CLASSIC_KEY)}
    assert len(by_key[ALB_KEY]) == len(by_key[CLASSIC_KEY]) == LINES
    for key, make, shift in ((ALB_KEY, alb_line, 1), (CLASSIC_KEY, classic_line, 0)):
        prefix = by_key[key][0]["@metadata"]["_id"].rsplit("-", 1)[0]
        for i in random.Random(7).sample(range(1, LINES + 1), 300) + [1, LINES]:
            doc = received[f"{prefix}-{i + shift}"]
            s3 = {"bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"}, "object": {"key": key}}
            aws, log = doc.pop("aws"), doc.pop("log")
            assert aws.pop("s3") == s3 and log["file"] == {"path": f"s3://{BUCKET}/{key}"}
            assert doc.pop("@metadata") == {"_id": f"{prefix}-{i + shift}"}
            if key == ALB_KEY and i % 10_000 == 0:
                assert doc["message"] == f"not an access log line {i}" and doc["logfwd"] == {"unparsed": True}
                assert doc["error"]["message"].startswith("6 fields, a ALB line has at least 25")
                continue
            assert {**doc, "aws": aws} == parse_line(make(i))


def test_ids_and_offsets_are_the_same_on_a_retry(bucket):
    runs = []
    for _ in range(2):
        source = S3Source(s3_event(SMALL_KEY), bucket, lines_per_unit=700)
        with JsonLinesReceiver() as receiver:
            assert delivery_error(source, TcpSink([receiver.address], retry=NO_WAIT)) is None
            runs.append([(line["@metadata"]["_id"], line["log"]["offset"]) for line in receiver.lines])
    assert runs[0] == runs[1] and len(set(runs[0])) == SMALL
    expected, offset = [], 0
    for i in range(1, SMALL + 1):
        expected.append(offset)
        offset += len(classic_line(i)) + 1
    assert [offset for _, offset in runs[0]] == expected


def test_receiver_failing_mid_object_is_reported_and_nothing_unconfirmed_is_claimed(bucket):
    source = S3Source(sqs_event(CLASSIC_KEY, ALB_KEY), bucket, lines_per_unit=1000)
    with JsonLinesReceiver() as receiver:
        receiver.fail_after = 30_500  # the receiver dies in the middle of a batch, and stays dead
        error = delivery_error(source, TcpSink([receiver.address], retry=NO_WAIT))
        received = set(receiver.ids)
        prefix = receiver.lines[0]["@metadata"]["_id"].rsplit("-", 1)[0]
    assert error and re.search(r"after 5 attempt\(s\), none of \d+ lines confirmed: connection to 127.0.0.1:\d+ "
                               r"failed before it closed cleanly", error)
    assert receiver.resets >= 5 and len(received) == 30_500
    classic, alb = source.progress
    assert 0 < classic.delivered < 30_500 and not classic.complete and not alb.complete and alb.delivered == 0
    # Every line claimed delivered did arrive; what arrived beyond it will come again on the retry, same ids.
    assert all(f"{prefix}-{n}" in received for n in range(1, classic.delivered + 1))
    assert source.answer() == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert source.summary()["objects"][0] == {"bucket": BUCKET, "key": CLASSIC_KEY,
                                              "lines_delivered": classic.delivered, "complete": False}


def test_an_unfinished_object_fails_a_direct_s3_invocation(bucket):
    source = S3Source(s3_event(SMALL_KEY), bucket)
    source.progress[0].delivered = 5  # as a failed run leaves it: done ran for the first 5 lines only
    assert re.fullmatch(r"not everything was delivered \(s3://elb-logs/AWSLogs/small \(5000 lines\).log: 5 lines "
                        r"delivered\): the invocation fails so that it is retried from each object's first line "
                        r"\(same ids\)", source.answer()["failed"])


def test_deadline_stops_an_object_cleanly_and_says_how_far(bucket):
    ticks = iter(range(10**9))
    # Time moves 10 ms per look: pulling stops after 500 looks, while an object of 1,000 units needs 2,000+.
    deadline = Deadline(at=10.0, grace=5.0, clock=lambda: next(ticks) / 100)
    source = S3Source(s3_event(CLASSIC_KEY), bucket, lines_per_unit=100)
    with JsonLinesReceiver() as receiver:
        assert delivery_error(source, TcpSink([receiver.address], retry=NO_WAIT), deadline) is None
        arrived = len(set(receiver.ids))
    progress = source.progress[0]
    summary = source.summary()
    assert source.stopped_early and summary["more"] and not progress.complete and summary["records"] == 0
    assert 0 < progress.delivered < LINES and progress.delivered % 100 == 0 and arrived >= progress.delivered
    assert summary["objects"][0]["lines_delivered"] == progress.delivered
    assert f"{progress.delivered} lines delivered" in source.answer()["failed"]


def test_eventbridge_key_without_encoding_and_a_missing_object(bucket):
    event = {"detail-type": "Object Created", "source": "aws.s3", "id": "e1",
             "detail": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(SMALL_KEY, safe="/")}}}
    source = S3Source(event, bucket)
    with JsonLinesReceiver() as receiver:
        assert delivery_error(source, TcpSink([receiver.address], retry=NO_WAIT)) is None
        assert len(receiver.lines) == SMALL  # found under its decoded spelling
    assert source.answer() == {}

    missing = S3Source(s3_event("AWSLogs/none.log.gz"), bucket)
    with JsonLinesReceiver() as receiver:
        assert delivery_error(missing, TcpSink([receiver.address], retry=NO_WAIT)) is None
    assert missing.errors == [f"s3://{BUCKET}/AWSLogs/none.log.gz: GetObject failed (NoSuchKey): "
                              f"{missing.progress[0].failed.split(': ', 1)[1]}"]
    assert "none.log.gz: 0 lines delivered (GetObject failed (NoSuchKey)" in missing.answer()["failed"]


def test_lumberjack_sink_acknowledges_every_line(bucket):
    source = S3Source(s3_event(ALB_KEY), bucket)
    with Receiver(validate=False) as receiver:
        assert delivery_error(source, LumberjackSink([receiver.address], retry=NO_WAIT)) is None
        ids = [event["@metadata"]["_id"] for event in receiver.events]
    assert len(ids) == len(set(ids)) == LINES and source.answer() == {}
    assert source.summary()["objects"][0]["lines_delivered"] == LINES + 1


def test_the_plug_builds_the_source_with_an_endpoint(s3_server, bucket, aws_credentials):
    from types import SimpleNamespace

    from logfwd.plugs import plug
    from logfwd.sources.s3.client import s3_client

    declaration = plug("source", "s3")
    source = declaration.build(SimpleNamespace(values={"s3_endpoint_url": s3_server.endpoint}),
                               SimpleNamespace(event=s3_event(SMALL_KEY)))
    with JsonLinesReceiver() as receiver:
        assert delivery_error(source, TcpSink([receiver.address], retry=NO_WAIT)) is None
        assert len(receiver.lines) == SMALL
    # the next invocation (a warm Lambda) reuses the client of that endpoint; another endpoint has its own
    again = declaration.build(SimpleNamespace(values={"s3_endpoint_url": s3_server.endpoint}),
                              SimpleNamespace(event=s3_event(SMALL_KEY)))
    assert again.client is source.client
    assert s3_client("http://127.0.0.1:9") is not source.client is s3_client(s3_server.endpoint)
