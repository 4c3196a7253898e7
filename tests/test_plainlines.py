"""The C fast path of the OpenWhisk line loop (_plainlines.c) against the Python paths it stands in for.

Every line it takes must come out as the bytes the Python fast path and the general path write, and
every line it does not take must be left to them: checked over every Unicode character, over lines made
at random next to each of its checks, and on its contract with activation_events."""

import json
import random

import pytest

from logfwd.codecs.owlog import KNOWN_SECONDS, MARKER_PREFIXES, known_second
from logfwd.sources.openwhisk import events as events_module
from logfwd.sources.openwhisk.events import activation_events

TIME = "2023-11-14T22:13:20.178483919Z"
PREFIX = b'"guest/a1:'


def record(logs: list) -> dict:
    return {"activationId": "a1", "namespace": "guest", "start": 1_700_000_000_000, "name": "hello",
            "annotations": [{"key": "path", "value": "guest/hello"}, {"key": "kind", "value": "python:3.11"}],
            "logs": logs}


def heads_each_way(logs: list, max_line_bytes: int = 1_048_576, monkeypatch=None) -> tuple[list, list, list]:
    """The heads with the C fast path, with the Python fast path, and with the general path alone."""
    with pytest.MonkeyPatch.context() as patched:
        c = activation_events(record(logs), max_line_bytes=max_line_bytes).heads
        patched.setattr(events_module, "_c_heads", None)
        python = activation_events(record(logs), max_line_bytes=max_line_bytes).heads
        patched.setattr(events_module, "_plain_template", lambda *args: None)
        general = activation_events(record(logs), max_line_bytes=max_line_bytes).heads
    return c, python, general


def taken(c_heads, logs: list, fits: int = 1 << 20) -> tuple[int, list]:
    heads: list = []
    return c_heads(logs, 0, heads, PREFIX, fits, KNOWN_SECONDS, known_second, MARKER_PREFIXES), heads


def taken_past_the_others(c_heads, logs: list, fits: int) -> list[list]:
    """The heads the C path writes in each run of lines it takes, called past each line it does not."""
    runs, offset = [], 0
    while offset < len(logs):
        heads: list = []
        offset = c_heads(logs, offset, heads, PREFIX, fits, KNOWN_SECONDS, known_second, MARKER_PREFIXES) + 1
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
             "2024-02-29T00:00:00.000000000Z", "2023-11-14T22:13:21.000000001Z"],
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
    assert c_heads(logs, 0, heads, PREFIX, 1 << 20, KNOWN_SECONDS, known_second, MARKER_PREFIXES) == 2
    assert heads[0] == b"before" and len(heads) == 3
    assert heads[1] == (b'{"@timestamp":"' + TIME.encode() + b'","message":"a","stream":"stdout","log":{"offset":0},'
                        b'"@metadata":{"_id":"guest/a1:0"}')
    assert heads[2].endswith(b'"stream":"stderr","log":{"offset":1},"@metadata":{"_id":"guest/a1:1"}')
    assert c_heads(logs, 3, heads, PREFIX, 1 << 20, KNOWN_SECONDS, known_second, MARKER_PREFIXES) == 4
    assert heads[3].endswith(b'"log":{"offset":3},"@metadata":{"_id":"guest/a1:3"}')
    assert c_heads(logs, 5, heads, PREFIX, 1 << 20, KNOWN_SECONDS, known_second, MARKER_PREFIXES) == 5
    assert c_heads([], 0, heads, PREFIX, 1 << 20, KNOWN_SECONDS, known_second, MARKER_PREFIXES) == 0
    assert len(heads) == 4


def test_a_line_longer_than_fits_is_left_to_the_general_path_which_may_cut_it(c_heads):
    line = f"{TIME} stdout: " + "x" * 61
    assert taken(c_heads, [line], fits=len(line))[0] == 1
    assert taken(c_heads, [line], fits=len(line) - 1)[0] == 0


def test_each_new_second_is_checked_even_after_a_known_one(c_heads):
    # The C path remembers the last second it knew; a line with another second is looked up again.
    logs = [f"{TIME} stdout: a", "2023-02-30T22:13:20.178483919Z stdout: no such day", f"{TIME} stdout: b"]
    assert taken(c_heads, logs)[0] == 1
    asked = []

    def known(second):
        asked.append(second)
        return known_second(second)

    seconds = [f"2031-01-01T00:00:{s:02d}.000000000Z stdout: x" for s in (1, 1, 2, 1)]
    KNOWN_SECONDS.difference_update(line[:20] for line in seconds)
    heads: list = []
    assert c_heads(seconds, 0, heads, PREFIX, 1 << 20, KNOWN_SECONDS, known, MARKER_PREFIXES) == 4
    assert asked == ["2031-01-01T00:00:01.", "2031-01-01T00:00:02."]  # the third line's second, then a cached one


def test_an_error_of_the_second_check_is_raised_not_swallowed(c_heads):
    def broken(second):
        raise RuntimeError("broken check")

    heads: list = []
    with pytest.raises(RuntimeError, match="broken check"):
        c_heads(["2032-01-01T00:00:00.000000000Z stdout: x"], 0, heads, PREFIX, 1 << 20, set(), broken, MARKER_PREFIXES)
    assert heads == []


@pytest.mark.parametrize("args", [
    ("not a list", 0, [], PREFIX, 10, set(), known_second, MARKER_PREFIXES),
    ([], 0, [], "not bytes", 10, set(), known_second, MARKER_PREFIXES),
    ([], 0, [], PREFIX, 10, {}, known_second, MARKER_PREFIXES),
    ([], 0, [], PREFIX, 10, set(), known_second, list(MARKER_PREFIXES)),
    ([], "0", [], PREFIX, 10, set(), known_second, MARKER_PREFIXES),
    ([], 0, [], PREFIX),
])
def test_wrong_arguments_are_a_type_error(c_heads, args):
    with pytest.raises(TypeError):
        c_heads(*args)
