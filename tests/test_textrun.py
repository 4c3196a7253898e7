"""Runs of one-line Kinesis records (``TextRun``) against the general way, record by record: the same
events, the same syslog bytes in every framing, runs that end exactly at the first record that is not
the plain case, and a failed send that marks delivered exactly the records it acknowledged."""

import base64
import gzip
import json
import random

import pytest

from logfwd.deadline import NO_DEADLINE
from logfwd.sinks.syslog.encode import SyslogEncoder
from logfwd.sources.kinesis.records import decode_record
from logfwd.sources.kinesis.source import RUN, KinesisSource
from logfwd.sources.kinesis.textrun import TextRun, decode_text_run
from kinesis_events import kinesis_event
from test_syslog_fast_path import _all_events

NOW_MS = 1_700_000_000_000
CONVOX = "2016-01-07 10:00:00 web:RXZMCQEPDKO/1d11a78279e0 "
ODD_LINES = [
    CONVOX + "hello",
    "web:RXZMCQEPDKO/1d11a78279e0",  # the prefix alone: an empty message
    "1970-01-01 00:00:00 web:R/1d11a78279e0 at epoch 0: the record's time instead",
    "no prefix at all",
    "trailing newline\n",
    "trailing CRLF\r\n",
    "carriage return\r",
    '{"level":"error","msg":"json with a level"}',
    '{"severity": "WARN", "time": "2020-01-01T00:00:00.123456Z"}',
    CONVOX + '{"lvl": "debug", "@timestamp": 1700000000123}',
    'SD escapes " \\ ] in the text',
    "\u00e9\u4e2d" * 3000,  # split between multi-byte characters at small sizes
    "x" * 20_000,
    "\udcff lone surrogate text",
]


def _odd_event() -> dict:
    lines = [line.encode("utf-8", "surrogatepass") for line in ODD_LINES] + [b"\xff\xfe not UTF-8 \xc3"]
    event = kinesis_event(lines)
    records = event["Records"]
    del records[2]["awsRegion"]
    records[3]["kinesis"]["partitionKey"] = None
    del records[4]["kinesis"]["approximateArrivalTimestamp"]
    records[5]["kinesis"]["approximateArrivalTimestamp"] = 1764478800  # an int
    records[6]["kinesis"]["sequenceNumber"] = 'seq"]\\'  # escaped in the SD
    return event


def _events() -> list[dict]:
    return [event for event in _all_events() if "Records" in event] + [_odd_event()]


def _general(records: list) -> list[dict]:
    return [event for record in records for event in decode_record(record, NOW_MS)[0]]


def _runs_and_singles(records: list):
    """What the source does: (True, TextRun) for each run, (False, record) for each record it leaves."""
    index = 0
    while index < len(records):
        run = decode_text_run(records, index, min(index + RUN, len(records)), NOW_MS)
        if run is None:
            yield False, records[index]
            index += 1
        else:
            yield True, run
            index += len(run)


def test_a_run_reads_as_the_events_the_general_way_gives():
    runs = 0
    for event in _events():
        records = event["Records"]
        position, read = 0, []
        for is_run, item in _runs_and_singles(records):
            if is_run:
                runs += 1
                assert list(item) == _general(records[position:position + len(item)])
                assert item[-1] == item[len(item) - 1] and item[0:2] == list(item)[0:2]
                read += item
                position += len(item)
            else:
                read += decode_record(item, NOW_MS)[0]
                position += 1
        assert read == _general(records)
    assert runs >= 8  # the comparison did go through runs


@pytest.mark.parametrize("framing", ["octet", "newline"])
@pytest.mark.parametrize("max_bytes", [1024, 2000, 8192])
def test_a_run_encodes_to_the_bytes_of_its_records_one_by_one(framing, max_bytes):
    encoder = SyslogEncoder(facility=16, framing=framing, max_bytes=max_bytes)
    for event in _events():
        records = event["Records"]
        position = 0
        for is_run, item in _runs_and_singles(records):
            count = len(item) if is_run else 1
            if is_run:
                one_by_one = [payload for record in records[position:position + count]
                              for payload in encoder([dict(e) for e in decode_record(record, NOW_MS)[0]])]
                assert encoder(item) == one_by_one
            position += count


def _record(data: str, n: int = 0, **changes) -> dict:
    record = kinesis_event([data.encode()], first=1000 + n)["Records"][0]
    record.update(changes)
    return record


@pytest.mark.parametrize(("odd", "why"), [
    ("second line\nthird", "two lines"),
    ("\n", "a blank record"),
    ("   ", "a blank line"),
    ('{"broken json', "a JSON line that does not parse"),
])
def test_a_run_ends_at_the_first_record_with_another_shape(odd, why):
    records = [_record(f"line {n}", n) for n in range(5)]
    records[3] = _record(odd, 3)
    run = decode_text_run(records, 0, 5, NOW_MS)
    assert len(run) == 3, why
    assert decode_text_run(records, 3, 5, NOW_MS) is None
    assert len(decode_text_run(records, 4, 5, NOW_MS)) == 1


def test_a_run_ends_at_a_record_the_general_way_must_take():
    gz = base64.b64encode(gzip.compress(b'{"messageType": "CONTROL_MESSAGE"}')).decode()
    for change in ({"eventSourceARN": "arn:aws:kinesis:us-east-1:1:stream/other"}, {"eventID": "shardId-9:1"},
                   {"eventID": None}, {"kinesis": "not an object"}):
        records = [_record("a", 0), _record("b", 1, **change), _record("c", 2)]
        assert len(decode_text_run(records, 0, 3, NOW_MS)) == 1, change
    for data in ("not base64!", gz, None):
        records = [_record("a", 0), _record("b", 1), _record("c", 2)]
        records[1]["kinesis"]["data"] = data
        assert len(decode_text_run(records, 0, 3, NOW_MS)) == 1, data
    records = [_record("a", 0), _record("b", 1)]
    del records[1]["kinesis"]["sequenceNumber"]
    assert len(decode_text_run(records, 0, 2, NOW_MS)) == 1
    assert decode_text_run(["not an object"], 0, 1, NOW_MS) is None
    assert len(decode_text_run([_record("a", n) for n in range(10)], 2, 7, NOW_MS)) == 5  # start and stop


def _units(event: dict, encode) -> tuple[KinesisSource, list]:
    source = KinesisSource(event, now_ms=lambda: NOW_MS)
    return source, list(source.units(NO_DEADLINE, encode))


@pytest.mark.parametrize(("max_bytes", "lengths"), [(8192, (10,)), (8192, (10, 10, 10, 3000, 9000)),
                                                     (1024, (10, 10, 10, 3000, 9000))])
def test_a_failed_send_marks_delivered_exactly_the_records_it_acknowledged(max_bytes, lengths):
    """Short lines (a payload a record) and long ones split into several payloads: the records delivered
    are those whose payloads are all acknowledged, and the count of payloads returned is theirs."""
    rng = random.Random(5)
    lines = [("w" * rng.choice(lengths) + f" {n}").encode() for n in range(300)]
    encoder = SyslogEncoder(max_bytes=max_bytes)
    records = kinesis_event(lines, first=1000)["Records"]
    per_record = [len(encoder(decode_record(record, NOW_MS)[0])) for record in records]
    for acknowledged in sorted(rng.sample(range(sum(per_record[:RUN])), 40)) + [0]:
        source, units = _units(kinesis_event(lines, first=1000), encoder)
        assert len(units) == 2 and len(units[0].payloads) == sum(per_record[:RUN])
        end = units[0].delivered_part(acknowledged)
        whole = 0
        while whole < RUN and sum(per_record[:whole + 1]) <= acknowledged:
            whole += 1
        assert source.delivered == whole and end == sum(per_record[:whole])
        assert source.answer()["batchItemFailures"][0]["itemIdentifier"] == str(1000 + whole)


def test_a_run_sent_to_two_sinks_maps_their_payloads_back_to_records():
    """A tee's encoder gives each record a payload per sink: the run counts records, not payloads."""
    encoder = SyslogEncoder()

    def both(events):  # what a tee of two syslog sinks gives: each record's payloads for each sink, in turn
        if isinstance(events, TextRun):
            return [payload for index in range(len(events)) for payload in both(events.record(index))]
        return [payload for payload in encoder(events) for _ in range(2)]

    source, units = _units(kinesis_event([b"line %d" % n for n in range(10)]), both)
    assert len(units) == 1 and len(units[0].payloads) == 20
    assert units[0].delivered_part(7) == 6 and source.delivered == 3


def test_the_source_counts_the_lines_of_runs_and_of_single_records():
    event = kinesis_event([b"a", b"b\nc", b"d", json.dumps({"level": "info"}).encode()])
    source, units = _units(event, SyslogEncoder())
    assert [len(unit.payloads) for unit in units] == [1, 2, 2]
    for unit in units:
        unit.done()
    assert source.summary()["lines"] == 5 and source.summary()["records"] == 4
