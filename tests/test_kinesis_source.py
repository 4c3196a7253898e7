"""Kinesis source: every payload shape from tests/events/, the answer Lambda gets, and bad input."""

import json
import re
from pathlib import Path

import pytest

from logfwd.deadline import NO_DEADLINE, Deadline
from logfwd.errors import SourceError
from logfwd.sources.kinesis.awslogs import lambda_fields
from logfwd.sources.kinesis.lines import app_name, line_fields
from logfwd.sources.kinesis.source import KinesisSource
from logfwd.sources.kinesis.textrun import TextRun

EVENTS = Path(__file__).parent / "events" / "kinesis"
NOW_MS = 1_700_000_000_000
SEQ0 = 4959066843577283486738470196891235802390911736070717442


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def run(event: dict, deliver: int | None = None, **options) -> tuple[KinesisSource, list[list[dict]]]:
    """Decode every record, its events as one payload (a list); deliver the first ``deliver`` records
    (all by default) as the batcher does: ``done`` for a whole unit, ``delivered_part`` for a part."""
    source = KinesisSource(event, now_ms=lambda: NOW_MS, **options)
    records: list[list[dict]] = []
    def encode(events):  # a run of one-line records (TextRun): still a payload a record
        if isinstance(events, TextRun):
            return [[dict(event) for event in events.record(index)] for index in range(len(events))]
        return [[dict(event) for event in events]]

    for unit in source.units(NO_DEADLINE, encode):
        before = len(records)
        records += unit.payloads
        acknowledged = len(unit.payloads) if deliver is None else min(max(deliver - before, 0), len(unit.payloads))
        if acknowledged == len(unit.payloads):
            unit.done()
        elif acknowledged:
            assert unit.delivered_part(acknowledged) == acknowledged
    return source, records


def test_plain_lines_with_and_without_convox_prefix():
    source, units = run(load("plain.json"))
    first, second, third = units
    assert first == [{
        "@timestamp": "2016-01-07T10:00:00.000Z", "message": 'Started GET "/" for 10.0.0.1',
        "host": {"name": "myapp"}, "process": {"name": "web"}, "container": {"id": "1d11a78279e0"},
        "service": {"version": "RXZMCQEPDKO"}, "log": {"offset": 0},
        "@metadata": {"_id": f"myapp-Kinesis-L6MUKT1VH451/shardId-000000000000/{SEQ0}:0"},
        "aws": {"kinesis": {"stream": "myapp-Kinesis-L6MUKT1VH451", "shard_id": "shardId-000000000000",
                            "sequence_number": str(SEQ0), "partition_key": "1452160800123456789"}},
        "cloud": {"provider": "aws", "region": "us-east-1"},
    }]
    assert [e["message"] for e in second] == ["processed job 42", "second line of the record"]
    assert [e["process"]["name"] for e in second] == ["worker", "myapp"]  # no prefix: the app's name
    assert second[1]["@timestamp"] == "2016-01-07T10:00:00.123Z"  # the record's arrival time
    assert [e["log"]["offset"] for e in second] == [0, 1]
    assert third[0]["message"].startswith("a line without Convox's prefix") and third[0]["message"].endswith("✓")
    assert third[0]["process"] == {"name": "myapp"}
    assert source.errors == [] and source.summary()["lines"] == 4
    assert source.answer() == {"batchItemFailures": []}


def test_json_lines_give_level_and_time():
    source, units = run(load("json_lines.json"))
    first, second = units
    assert [e["log"].get("level") for e in first] == ["error", "info"]
    assert [e["@timestamp"] for e in first] == ["2016-01-07T10:00:02.250Z", "2016-01-07T10:00:02.500Z"]
    assert first[0]["message"].startswith('{"time":') and first[0]["message"].endswith('"order":17}')
    assert second[0]["process"]["name"] == "web" and second[0]["log"]["level"] == "warning"
    assert source.errors == []


def test_cloudwatch_payload_in_kinesis_parses_lambda_lines():
    source, units = run(load("cloudwatch.json"))
    start, error, end, report = units[0]
    assert start["host"] == {"name": "thumbnailer"} and start["process"] == {"name": "lambda"}
    assert start["event"] == {"action": "START"}
    assert start["faas"] == {"name": "thumbnailer", "execution": "6f6ba1c2-0c42-4a1a-9c5e-9b1a0c6b2f11"}
    assert start["aws"]["lambda"] == {"version": "$LATEST"}
    assert start["@timestamp"] == "2016-01-07T10:00:00.101Z"
    assert start["@metadata"]["_id"] == "32422880843342212521339519112467358435346151931219640320"
    assert start["aws"]["cloudwatch"]["log_group"] == "/aws/lambda/thumbnailer"
    assert start["aws"]["kinesis"]["sequence_number"] == str(SEQ0)
    assert error["log"]["level"] == "error" and error["faas"]["execution"].startswith("6f6ba1c2")
    assert end["event"] == {"action": "END"}
    assert report["aws"]["lambda"] == {"duration_ms": 26.73, "billed_duration_ms": 27, "memory_size_mb": 128,
                                       "max_memory_used_mb": 75, "init_duration_ms": 180.5}
    assert report["faas"]["coldstart"] is True
    assert not report["message"].endswith("\n")
    convox = units[1][0]  # Convox's agent also writes to a log group, without the time
    assert convox["host"] == {"name": "myapp"} and convox["process"] == {"name": "web"}
    assert convox["message"] == "GET / 200" and convox["@timestamp"] == "2016-01-07T10:00:01.500Z"
    assert source.errors == []


def test_control_message_is_skipped_and_counted():
    source, units = run(load("control_message.json"))
    assert units[0] == [] and len(units[1]) == 1
    assert source.summary()["control_messages"] == 1
    assert source.answer() == {"batchItemFailures": []}


def test_direct_cloudwatch_subscription():
    source, units = run(load("awslogs_direct.json"))
    assert [e.get("event", {}).get("action") for e in units[0]] == ["START", None, "END", "REPORT"]
    assert "kinesis" not in units[0][0]["aws"]
    assert source.answer() == {}


def test_direct_cloudwatch_subscription_not_delivered_fails_the_invocation():
    source, _ = run(load("awslogs_direct.json"), deliver=0)
    assert source.answer() == {"failed": "1 of 1 record(s) not delivered, from record awslogs.data on: "
                                         "failing the invocation so Lambda retries"}


def test_bad_records_are_forwarded_flagged_and_reported_by_sequence_number():
    source, units = run(load("bad_records.json"))
    assert units[0][0]["message"] == "this is not base64!"
    assert units[0][0]["logfwd"]["bad_record"].startswith("kinesis.data is not base64")
    assert units[1][0]["logfwd"]["bad_record"].startswith("gzip does not inflate")
    assert units[2][0]["message"] == "{not json"  # the inflated text, raw
    assert units[2][0]["logfwd"]["bad_record"].startswith("inflated payload is not JSON")
    assert units[3][0]["log"]["level"] == "info" and "logfwd" not in units[3][0]
    assert units[3][1]["message"] == "{\"level\": broken" and units[3][1]["logfwd"] == {"bad_json": True}
    assert units[4][0]["message"] == "a good record after the bad ones"
    assert len(source.errors) == 4
    for index, error in enumerate(source.errors):
        assert error.startswith(f"record {SEQ0 + index} (#{index}): ")
    assert "forwarded raw" in source.errors[0] and "line 1 is not valid JSON" in source.errors[3]
    assert source.summary()["bad_records"] == 4
    assert source.answer() == {"batchItemFailures": []}  # bad, but forwarded: nothing to retry


@pytest.mark.parametrize("delivered", [0, 1, 4])
def test_answer_lists_every_record_from_the_first_not_delivered(delivered):
    source, _ = run(load("bad_records.json"), deliver=delivered)
    assert source.answer() == {"batchItemFailures": [{"itemIdentifier": str(SEQ0 + i)} for i in range(delivered, 5)]}


def test_without_partial_answers_an_undelivered_record_fails_the_invocation():
    source, _ = run(load("plain.json"), deliver=2, partial=False)
    assert re.fullmatch(f"1 of 3 record.* {SEQ0 + 2} .*Lambda retries", source.answer()["failed"])
    complete, _ = run(load("plain.json"), partial=False)
    assert complete.answer() == {}


def test_stops_at_the_deadline_and_reports_the_rest():
    clock = [0.0]
    deadline = Deadline(at=10.0, grace=2.0, clock=lambda: clock[0])
    source = KinesisSource(load("plain.json"), now_ms=lambda: NOW_MS)

    def encode(events):
        clock[0] = 9.0  # past the point where pulling stops, once the first record is decoded
        return [events]

    units = list(source.units(deadline, encode))
    assert [len(unit.payloads) for unit in units] == [1]  # what was decoded still goes out
    units[0].done()
    assert source.summary()["records"] == 1 and source.summary()["received"] == 3
    assert source.answer() == {"batchItemFailures": [{"itemIdentifier": str(SEQ0 + i)} for i in (1, 2)]}
    assert "2 record(s) left" in source.warnings[0]


@pytest.mark.parametrize(("event", "words"), [
    ({"Records": [{"eventSource": "aws:sqs"}]}, "record 0 of the event comes from 'aws:sqs'"),
    ({"Records": [{"eventSource": "aws:kinesis"}] * 2 + [{"eventSource": "aws:sqs"}]},
     "record 2 of the event comes from 'aws:sqs'"),
    ({"Records": [{"eventSource": "aws:kinesis"}, "not an object", {"eventSource": "aws:sqs"}]},
     "record 1 of the event comes from None"),
    ({"Records": [{"eventSource": "aws:kinesis"}, {}]}, "record 1 of the event comes from None"),
    ({"detail": {}}, "neither a Kinesis batch"),
    ([], "neither a Kinesis batch"),
])
def test_an_event_of_another_kind_is_refused_clearly(event, words):
    with pytest.raises(SourceError, match=words):
        KinesisSource(event, now_ms=lambda: NOW_MS)


@pytest.mark.parametrize(("resource", "app"), [
    ("myapp-staging-Kinesis-L6MUKT1VH451", "myapp-staging"), ("httpd-LogGroup-1M8XKXLMQT6Y3", "httpd"),
    ("plain-stream", "plain-stream"),
])
def test_app_name_from_convox_resources(resource, app):
    assert app_name(resource) == app


@pytest.mark.parametrize(("line", "process", "message"), [
    ("web:RXZMCQEPDKO/1d11a78279e0 hello", "web", "hello"),
    ("web.1:R1/1d11a78279e0 ", "web.1", ""),
    ("2016-01-07 10:00:00 web:RXZ/1d11a78279e0 x", "web", "x"),
    ("web: not a prefix", "app", "web: not a prefix"),
    ("web:RXZ/NOTHEX1d11a7 hello", "app", "web:RXZ/NOTHEX1d11a7 hello"),
])
def test_convox_prefix(line, process, message):
    fields = line_fields(line, "app", 0)
    assert (fields["process"]["name"], fields["message"]) == (process, message)


@pytest.mark.parametrize(("text", "expected"), [
    ("START RequestId: abc Version: 7", {"event": {"action": "START"}, "faas": {"execution": "abc"},
                                         "aws": {"lambda": {"version": "7"}}}),
    ("END RequestId: abc", {"event": {"action": "END"}, "faas": {"execution": "abc"}}),
    ("REPORT RequestId: abc\tDuration: 1.5 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\t"
     "\nXRAY TraceId: 1-5e-abc\tSegmentId: 1\tSampled: true",
     {"event": {"action": "REPORT"}, "faas": {"execution": "abc"},
      "aws": {"lambda": {"duration_ms": 1.5, "billed_duration_ms": 2, "memory_size_mb": 128,
                         "max_memory_used_mb": 9, "xray_trace_id": "1-5e-abc"}}}),
    ("2024-01-01T00:00:00.000Z\t6f6ba1c2-0c42-4a1a-9c5e-9b1a0c6b2f11\tWARN\tdisk low",
     {"log": {"level": "warn"}, "faas": {"execution": "6f6ba1c2-0c42-4a1a-9c5e-9b1a0c6b2f11"}}),
    ('{"time":"2024-01-01T00:00:00.000Z","type":"platform.start","record":{"requestId":"abc","version":"$LATEST"}}',
     {"event": {"action": "START"}, "faas": {"execution": "abc"}, "aws": {"lambda": {"version": "$LATEST"}}}),
    ('{"time":"2024-01-01T00:00:00.000Z","type":"platform.report","record":{"requestId":"abc","metrics":'
     '{"durationMs":1.5,"billedDurationMs":2,"memorySizeMB":128,"maxMemoryUsedMB":9,"initDurationMs":80.2},'
     '"status":"success"}}',
     {"event": {"action": "REPORT"}, "faas": {"execution": "abc", "coldstart": True},
      "aws": {"lambda": {"duration_ms": 1.5, "billed_duration_ms": 2, "memory_size_mb": 128, "max_memory_used_mb": 9,
                         "init_duration_ms": 80.2}}}),
    ('{"time":"2024-01-01T00:00:00.000Z","type":"platform.runtimeDone","record":{"requestId":"abc"}}',
     {"event": {"action": "platform.runtimeDone"}, "faas": {"execution": "abc"}}),
    ('{"timestamp":"2024-01-01T00:00:00Z","level":"ERROR","requestId":"abc","message":"boom"}',
     {"log": {"level": "error"}, "faas": {"execution": "abc"}}),
    ('{"not": "lambda"', {}),
    ("STARTED something", {}),
    ("plain text", {}),
])
def test_lambda_lines(text, expected):
    assert lambda_fields(text) == expected


@pytest.mark.parametrize(("line", "level"), [
    ('{"level":30,"msg":"pino info"}', "info"), ('{"level":50,"msg":"bunyan error"}', "error"),
    ('{"level":"WARN"}', "warn"), ('{"severity":"Critical"}', "critical"), ('{"level":35}', None),
    ('{"level":true}', None),
])
def test_json_line_levels(line, level):
    assert line_fields(line, "app", 0).get("log", {}).get("level") == level


def test_the_events_of_a_record_share_no_dict():
    _, units = run(load("plain.json"))
    first, second = units[1]
    first["aws"]["kinesis"]["stream"] = "changed"
    assert second["aws"]["kinesis"]["stream"] == "myapp-Kinesis-L6MUKT1VH451"
