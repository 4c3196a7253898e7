"""The C fast path of the OpenWhisk line loop (_plainlines.c) against the Python paths it stands in for.

Every line it takes must come out as the bytes the Python fast path and the general path write, and
every line it does not take must be left to them: checked over every Unicode character, over lines made
at random next to each of its checks, and on its contract with activation_events."""

import json
import random

import pytest

from logfwd.codecs.owlog import KNOWN_SECONDS, MARKER_PREFIXES, known_second
from logfwd.sources.openwhisk import events as events_module
from logfwd.sources.openwhisk import plainlines
from logfwd.sources.openwhisk.events import activation_events

TIME = "2023-11-14T22:13:20.178483919Z"
PREFIX = b'"guest/a1:'


def record(logs: list) -> dict:
    return {"activationId": "a1", "namespace": "guest", "start": 1_700_000_000_000, "name": "hello",
            "annotations": [{"key": "path", "value": "guest/hello"}, {"key": "kind", "value": "python:3.11"}],
            "logs": logs}


def heads_each_way(logs: list, max_line_bytes: int = 1_048_576) -> tuple[list, list, list]:
    """The heads with the C fast path, with the Python fast path, and with the general path alone."""
    def events_with(heads_of) -> list:
        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(events_module, "_plain_heads", heads_of)
            return activation_events(record(logs), max_line_bytes=max_line_bytes).heads

    c = events_with(plainlines.c_heads)
    python = events_with(plainlines.python_heads)
    general = events_with(lambda entries, first, *rest: first)
    return c, python, general


def taken(c_heads, logs: list, fits: int = 1 << 20) -> tuple[int, list]:
    heads: list = []
    return c_heads(logs, 0, heads, PREFIX, fits, MARKER_PREFIXES), heads


def taken_past_the_others(c_heads, logs: list, fits: int) -> list[list]:
    """The heads the C path writes in each run of lines it takes, called past each line it does not."""
    runs, offset = [], 0
    while offset < len(logs):
        heads: list = []
        offset = c_heads(logs, offset, heads, PREFIX, fits, MARKER_PREFIXES) + 1
        runs.append(heads)
    return runs


def test_every_unicode_character_is_written_as_orjson_and_the_general_path_write_it(c_heads):
    # Every code point but the surrogates, 512 to a line: escapes, controls, DEL, U+2028, every plane.
    points = [p for p in range(0x110000) if not 0xD800 <= p <= 0xDFFF]
    logs = [f"{TIME} stdout: " + "".join(map(chr, points[i:i + 512])) for i in range(0, len(points), 512)]
    end, heads = taken(c_heads, logs)
    assert end == len(logs)  # every one taken by the C path
    c, python, general = heads_each_way(logs)
    assert heads == c == python == general
    for line, head in zip(logs, heads):  # and it is the JSON of the line's message, read back
        assert json.loads(head + b"}")["message"] == line[39:]


@pytest.mark.parametrize("message", ["\ud800", "a\udfff", "\udbff\udc00 a pair written apart", "x" * 100 + "\ud83d"])
def test_a_lone_surrogate_is_left_to_the_general_path(c_heads, message):
    logs = [f"{TIME} stdout: ok", f"{TIME} stdout: {message}", f"{TIME} stdout: after"]
    end, heads = taken(c_heads, logs)
    assert end == 1 and len(heads) == 1
    c, python, general = heads_each_way(logs)
    assert c == python == general
    assert json.loads(c[1] + b"}")["message"] == message.encode("utf-8", "replace").decode()  # each one a "?"


# Lines next to each of the C path's checks; each is mixed at random into records below.
PIECES = {
    "time": [TIME, "2023-11-14T22:13:20.1784Z     ", "2023-11-14T22:13:20.1Z        ", "2023-11-14T22:13:20.17848391Z ",
             "2023-11-14T22:13:20.Z         ", "2023-11-14T22:13:60.178483919Z", "2023-02-30T22:13:20.1784Z     ",
             "2023-11-14T22:13:20.17848391xZ", "2023-11-14T22:13:20.17848391٩Z", "2023-11-14T22:13:20,178483919Z",
             "1969-12-31T23:59:59.999999999Z", "2016-12-31T23:59:60.500000000Z", "２023-11-14T22:13:20.178483919Z",
             "2023-11-14T22:13:20.1784Z\t    ", "2023-11-14T22:13:20.1784Z      ", "2023-11-14T22:13:20.1784Z    ",
             "2024-02-29T00:00:00.000000000Z", "2023-11-14T22:13:21.000000001Z",
             "\0" * 20 + "178483919Z"],  # NULs where the second is: ASCII, yet no second
    "gap": [" ", "  ", "", "\t"],
    "stream": ["stdout: ", "stderr: ", "stdout:", "stderr:  ", "stdouts: ", "stdin: ", "STDOUT: ", "stdoüt: "],
    "message": ["", "hello", "Logs were truncated because the limit", "There was an issue while collecting your logs",
                "The action did not initialize or run as expected", " Logs were truncated because", "é" * 30,
                "\x00\x1f\x7f\u2028", '"quoted" \\ back\\slash', "😀 emoji", "\ud800", "%s %d %b %%", "x" * 150,
                "\t\n\r\b\f", "ÿ latin-1 only", "日本語 two bytes wide", "\U0010ffff last"],
}


@pytest.mark.parametrize("max_line_bytes", [1_048_576, 400, 200, 60])
def test_random_lines_come_out_the_same_every_way(c_heads, max_line_bytes):
    rng = random.Random(2026)

    def pick(options: list) -> str:  # the first (plain) piece half of the time: a fair share of lines are taken
        return options[0] if rng.random() < 0.5 else rng.choice(options)

    records = []
    for _ in range(400):
        logs = []
        for _ in range(rng.randint(0, 14)):
            if rng.random() < 0.04:
                logs.append(rng.choice([17, None, {"not": "text"}, ["a"], "bare text", ""]))
            else:
                logs.append("".join(pick(PIECES[part]) for part in ("time", "gap", "stream", "message")))
        records.append(logs)
    took = 0
    for logs in records:
        c, python, general = heads_each_way(logs, max_line_bytes)
        assert c == python == general, logs
        took += sum(len(heads) for heads in taken_past_the_others(c_heads, logs, max_line_bytes // 4))
    assert took > 500 if max_line_bytes >= 200 else took == 0  # the C path was taken, not only declined


def test_it_starts_at_first_and_stops_at_the_first_line_it_does_not_take(c_heads):
    logs = [f"{TIME} stdout: a", f"{TIME} stderr: b", "bare text", f"{TIME} stdout: c", 17]
    heads: list = [b"before"]
    assert c_heads(logs, 0, heads, PREFIX, 1 << 20, MARKER_PREFIXES) == 2
    assert heads[0] == b"before" and len(heads) == 3
    assert heads[1] == (b'{"@timestamp":"' + TIME.encode() + b'","message":"a","stream":"stdout","log":{"offset":0},'
                        b'"@metadata":{"_id":"guest/a1:0"}')
    assert heads[2].endswith(b'"stream":"stderr","log":{"offset":1},"@metadata":{"_id":"guest/a1:1"}')
    assert c_heads(logs, 3, heads, PREFIX, 1 << 20, MARKER_PREFIXES) == 4
    assert heads[3].endswith(b'"log":{"offset":3},"@metadata":{"_id":"guest/a1:3"}')
    assert c_heads(logs, 5, heads, PREFIX, 1 << 20, MARKER_PREFIXES) == 5
    assert c_heads([], 0, heads, PREFIX, 1 << 20, MARKER_PREFIXES) == 0
    assert len(heads) == 4


def test_a_line_longer_than_fits_is_left_to_the_general_path_which_may_cut_it(c_heads):
    line = f"{TIME} stdout: " + "x" * 61
    assert taken(c_heads, [line], fits=len(line))[0] == 1
    assert taken(c_heads, [line], fits=len(line) - 1)[0] == 0


def test_it_takes_the_seconds_owlog_knows_and_no_other(c_heads):
    # Every day from 1969 to 2101 (leap years, 1970's first day, 2000 and 2100), and the edges of each field.
    import datetime

    day, last = datetime.date(1969, 12, 1), datetime.date(2101, 3, 1)
    seconds = []
    while day <= last:
        seconds.append(f"{day.isoformat()}T12:30:30.")
        day += datetime.timedelta(days=1)
    for month in range(0, 14):
        for day_of_month in (0, 1, 28, 29, 30, 31, 32):
            for year in (1970, 1900, 2000, 2023, 2024, 2100, 9999, 1969, 0):
                seconds.append(f"{year:04d}-{month:02d}-{day_of_month:02d}T00:00:00.")
    for hour, minute, second in [(23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60), (99, 99, 99), (0, 0, 0)]:
        seconds.append(f"2023-11-14T{hour:02d}:{minute:02d}:{second:02d}.")
    seconds += ["2023-11-14 22:13:20.", "2023/11/14T22:13:20.", "2023-11-14T22-13-20.", "2023-11-14T22:13:20,",
                "2023-1a-14T22:13:20.", "+023-11-14T22:13:20.", "2023-11-14t22:13:20.", "２023-11-14T22:13:20."]
    KNOWN_SECONDS.clear()  # known_second answers anew, not from what other tests left
    lines = [f"{second}178483919Z stdout: x" for second in seconds]
    answers = [bool(c_heads([line], 0, [], PREFIX, 1 << 20, MARKER_PREFIXES)) for line in lines]
    assert answers == [known_second(second) for second in seconds]
    assert 40_000 < sum(answers) < len(answers)


def test_fits_may_be_any_int(c_heads):
    # activation_events gives max_line_bytes // 4, which may be past what C's sizes hold, or (called
    # directly) below them: every line fits, or none does.
    line = f"{TIME} stdout: x"
    assert taken(c_heads, [line], fits=2**70)[0] == 1
    assert taken(c_heads, [line], fits=-(2**70))[0] == 0
    assert activation_events(record([line]), max_line_bytes=2**70).heads == heads_each_way([line])[1]


def test_a_marker_prefix_that_is_not_text_is_a_type_error(c_heads):
    with pytest.raises(TypeError):
        c_heads([f"{TIME} stderr: x"], 0, [], PREFIX, 1 << 20, (b"bytes",))


@pytest.mark.parametrize("args", [
    ("not a list", 0, [], PREFIX, 10, MARKER_PREFIXES),
    ([], 0, [], "not bytes", 10, MARKER_PREFIXES),
    ([], 0, (), PREFIX, 10, MARKER_PREFIXES),
    ([], 0, [], PREFIX, 10, list(MARKER_PREFIXES)),
    ([], "0", [], PREFIX, 10, MARKER_PREFIXES),
    ([], 0, [], PREFIX),
])
def test_wrong_arguments_are_a_type_error(c_heads, args):
    with pytest.raises(TypeError):
        c_heads(*args)
