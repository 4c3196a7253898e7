"""What the s3 source reads before any network: the objects an event announces (S3, SQS, SNS-in-SQS,
EventBridge), and an object's bytes turned into lines (gzip from the magic bytes, several members,
tiny chunks, corrupt and truncated data)."""

import gzip
import json
from pathlib import Path

import pytest

from logfwd.errors import SourceError
from logfwd.sources.s3.lines import MAX_INFLATE, MAX_LINE, decoded_lines, inflated, line_runs
from logfwd.sources.s3.notifications import ObjectRef, announced_objects

EVENTS = Path(__file__).parent / "events" / "s3"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_s3_notification_keys_are_form_decoded():
    announced = announced_objects(load("object_created.json"))
    assert announced.shape == "s3"
    assert announced.objects == [
        ObjectRef("elb-logs", "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2026/11/30/my lb+ünï.log.gz",
                  None, 1024, None),
    ]
    assert announced.skipped == [] and announced.errors == [] and announced.bad_messages == {}


def test_sqs_batch_keeps_message_ids_and_reports_unusable_bodies():
    s3 = load("object_created.json")
    event = {"Records": [
        {"eventSource": "aws:sqs", "messageId": "m1", "body": json.dumps(s3)},
        {"eventSource": "aws:sqs", "messageId": "m2", "body": "not json"},
        {"eventSource": "aws:sqs", "messageId": "m3", "body": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})},
        {"eventSource": "aws:sqs", "messageId": "m4",
         "body": json.dumps({"Type": "Notification", "Message": json.dumps(s3)})},  # through SNS
        {"eventSource": "aws:sqs", "messageId": "m5", "body": json.dumps({"hello": 1})},
    ]}
    announced = announced_objects(event)
    assert announced.shape == "sqs"
    assert [(ref.key.split("/")[-1], ref.message_id) for ref in announced.objects] == [
        ("my lb+ünï.log.gz", "m1"), ("my lb+ünï.log.gz", "m4")]
    assert announced.bad_messages == {"m2": "its body is not JSON",
                                      "m5": "its body is neither an S3 notification nor an EventBridge event"}
    assert announced.skipped == ["S3 test event in message m3"]


def test_eventbridge_key_is_kept_with_its_decoded_form_as_alternate():
    announced = announced_objects(load("eventbridge_object_created.json"))
    assert announced.shape == "eventbridge"
    assert announced.objects == [ObjectRef("elb-logs", "logs/a+b%2Bc.log", None, 2048, None, "logs/a b+c.log")]


def test_other_s3_events_are_skipped_and_unknown_events_refused():
    removed = load("object_created.json")
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert announced_objects(removed).objects == []
    assert announced_objects(removed).skipped == [
        "record 0: ObjectRemoved:Delete (only ObjectCreated events are read)"]
    assert announced_objects({"Service": "Amazon S3", "Event": "s3:TestEvent"}).skipped == ["S3 test event"]
    with pytest.raises(ValueError, match="not an S3 notification, an SQS batch or an EventBridge event"):
        announced_objects({"foo": 1})
    broken = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}]}
    assert announced_objects(broken).errors == ["record 0 has no s3.bucket.name or s3.object.key"]


def lines(chunks):
    return [line for run in line_runs(inflated(chunks)) for line in run.split(b"\n")]


def split(data: bytes, size: int):
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_plain_and_gzip_objects_give_the_same_lines_in_any_chunking(size):
    text = b"".join(b"line %d\n" % i for i in range(3000))
    expected = [b"line %d" % i for i in range(3000)]
    assert lines(split(text, size)) == expected
    assert lines(split(gzip.compress(text), size)) == expected


def test_several_gzip_members_and_a_last_line_without_newline():
    data = gzip.compress(b"a\nb\n") + gzip.compress(b"c\nd")
    assert lines(split(data, 5)) == [b"a", b"b", b"c", b"d"]


def test_inflating_is_bounded_per_step():
    data = gzip.compress(b"x" * (20 << 20) + b"\n")  # 20 MB of one byte: ~20 KB compressed
    blocks = list(inflated([data]))
    assert max(map(len, blocks)) <= MAX_INFLATE and sum(map(len, blocks)) == (20 << 20) + 1
    pieces = lines([data])
    assert [len(piece) for piece in pieces] == [MAX_LINE] * 20  # no newline for 1 MB: cut in pieces


def test_truncated_and_corrupt_gzip_are_errors():
    data = gzip.compress(b"some line\n" * 1000)
    with pytest.raises(SourceError, match="truncated"):
        lines([data[: len(data) // 2]])
    corrupt = data[:20] + bytes(b ^ 0xFF for b in data[20:40]) + data[40:]
    with pytest.raises(SourceError, match="corrupt"):
        lines([corrupt])


def test_empty_object_has_no_lines():
    assert lines([]) == [] and lines([b""]) == []


def test_a_run_decodes_to_its_lines_and_their_byte_offsets():
    texts, offsets = decoded_lines(b"ab\r\n\ncd", 100)  # ASCII: decoded and split whole
    assert texts == ["ab", "", "cd"] and offsets == [100, 104, 105, 108]
    texts, offsets = decoded_lines("é\n\xff\r\nz".encode("utf-8").replace(b"\xc3\xbf", b"\xff"), 0)  # not ASCII
    assert texts == ["é", "\ufffd", "z"] and offsets == [0, 3, 6, 8]  # offsets count bytes, not characters
