"""The syslog encoder's fast path (a record's text lines given flat, ``TextLines.syslog_rows``) against
its general path (each event a dict): the same bytes for every event shape of tests/events/kinesis/ and
the edge cases, in every framing and at the message sizes where lines are split."""

import base64
import gzip
import json
from pathlib import Path

import pytest

from logfwd.sinks.syslog.encode import SyslogEncoder
from logfwd.sources.kinesis.records import decode_awslogs, decode_record
from logfwd.sources.kinesis.textlines import TextLines
from kinesis_events import kinesis_event

EVENTS = Path(__file__).parent / "events" / "kinesis"
CONVOX = "2016-01-07 10:00:00 web:RXZMCQEPDKO/1d11a78279e0 "

EDGE_LINES = [
    (CONVOX + "hello").encode(),
    b"web:/1d11a78279e0 no release, no time",
    b"web:RXZMCQEPDKO/1d11a78279e0",  # the prefix and nothing else: an empty message
    b"1970-01-01 00:00:00 web:R/1d11a78279e0 at epoch 0: the record's time instead",
    b"plain line\r\nsecond line\n\n   \nthird line\n",  # several lines, CRLF, blank lines
    b'{"level":"error","msg":"json with a level"}',
    b'{"severity": "WARN", "time": "2020-01-01T00:00:00.123456Z"}',
    b'{"level": 50, "ts": 1700000000}',  # pino's number, epoch seconds
    b'{"level": "NOTALEVEL"}',
    (CONVOX + '{"lvl": "debug", "@timestamp": 1700000000123}').encode(),
    b"{not json",
    (CONVOX + "{broken json").encode(),
    b"x" * 20_000,  # split at any max_bytes
    ("\u00e9\u4e2d" * 3000).encode(),  # split between multi-byte characters
    (CONVOX + "y" * 9000).encode(),
    'SD escapes " \\ ] in the text'.encode(),
    b"\xff\xfe not UTF-8 \xc3",
    "not base64!",  # a bad record: forwarded raw, general path
    b"",
    b"\n\n",
    b"\x1f\x8b not really gzip",  # a bad gzip: general path
    gzip.compress(json.dumps({"messageType": "DATA_MESSAGE", "logGroup": "/aws/lambda/fn", "logStream": "s",
                              "owner": "1", "logEvents": [{"id": "1", "timestamp": 1, "message": "START RequestId: r"}]}
                             ).encode()),
]


def _edge_event() -> dict:
    event = kinesis_event(EDGE_LINES)
    odd = event["Records"][1]
    odd["eventSourceARN"] = 'arn:aws:kinesis:us-east-1:1:stream/we"ird]\\name-Kinesis-ABC'  # escaped in SD
    odd["eventID"] = 'shard"]\\:1'
    odd["kinesis"]["sequenceNumber"] = 'seq"]\\'
    del event["Records"][2]["awsRegion"]
    event["Records"][3]["kinesis"]["partitionKey"] = None
    del event["Records"][4]["kinesis"]["approximateArrivalTimestamp"]
    return event


def _decoded(event: dict) -> list:
    if "awslogs" in event:
        return [decode_awslogs(event["awslogs"]["data"], 1_700_000_000_000)]
    return [decode_record(record, 1_700_000_000_000) for record in event["Records"]]


def _all_events() -> list:
    events = [json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))]
    events.append(_edge_event())
    plain = base64.b64encode(b"a direct subscription\nthat is not gzip").decode()
    events.append({"awslogs": {"data": plain}})  # text without Kinesis ids: no id in the SD
    return events


@pytest.mark.parametrize("framing", ["octet", "newline", "datagram"])
@pytest.mark.parametrize("max_bytes", [1024, 1100, 8192])
def test_the_fast_path_writes_the_same_bytes_as_the_general_path(framing, max_bytes):
    encoder = SyslogEncoder(facility=16, framing=framing, max_bytes=max_bytes)
    fast_records = 0
    for event in _all_events():
        for decoded in _decoded(event):
            events = decoded[0]  # its events
            general = encoder([dict(item) for item in events])  # a plain list: no syslog_rows, the general path
            assert encoder(events) == general
            if isinstance(events, TextLines) and events:
                fast_records += 1
                assert len(general) >= len(events)
    assert fast_records >= 20  # the comparison did go through the fast path


def test_split_lines_take_the_same_path_in_both():
    encoder = SyslogEncoder(max_bytes=1024)
    decoded = decode_record(kinesis_event([(CONVOX + "z" * 5000).encode()])["Records"][0], 0)
    fast = encoder(decoded[0])  # its events
    assert len(fast) > 5 and fast == encoder(list(decoded[0]))
    assert b'part="1" parts="' in fast[0] and all(len(message.split(b" ", 1)[1]) <= 1024 for message in fast)


def test_text_lines_read_as_the_events_they_stand_for():
    record = kinesis_event([(CONVOX + '{"level": "ERROR"}\nplain').encode()])["Records"][0]
    lines = decode_record(record, 0)[0]  # its events
    assert isinstance(lines, TextLines) and len(lines) == 2
    first = lines[0]
    assert list(first) == ["@timestamp", "message", "host", "process", "container", "service", "log", "@metadata",
                           "aws", "cloud"]  # the order the JSON sinks write
    assert first["log"] == {"level": "error", "offset": 0} and first["process"] == {"name": "web"}
    assert first["@metadata"]["_id"] == "shop-Kinesis-ABCDEF123456/shardId-000000000007/" \
                                        "49590668435772834867384701968912358023909117360707174420:0"
    assert lines[-1] == lines[1] == lines[0:2][1] and lines[1]["message"] == "plain"
    assert lines[1]["process"] == {"name": "shop"} and "container" not in lines[1]
    lines[0]["message"] = "changed"  # a fresh dict each time it is read
    assert lines[0]["message"] == '{"level": "ERROR"}'
    with pytest.raises(IndexError):
        lines[2]


def test_bad_json_lines_are_reported_and_flagged_in_both_paths():
    events, problems, _ = decode_record(kinesis_event([b"ok\n{bad json\n{\"a\": 1}"])["Records"][0], 0)
    assert problems == ["line 1 is not valid JSON; forwarded as text, flagged logfwd.bad_json"]
    messages = SyslogEncoder()(events)
    assert [b'bad_json="True"' in message for message in messages] == [False, True, False]
