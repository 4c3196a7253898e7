"""The OpenWhisk log-line codec: a table of lines and what they mean."""

import calendar

import pytest

from logfwd.codecs.owlog import KNOWN_SECONDS, LogLine, format_time_ns, known_second, nine_digits, parse_line

# Epoch seconds computed independently of the code under test.
T0 = calendar.timegm((2017, 11, 13, 15, 45, 25, 0, 0, 0))
NS = 1_000_000_000


@pytest.mark.parametrize(
    "line, expected",
    [
        # nine fractional digits: exactly 30 characters, one space
        ("2017-11-13T15:45:25.278483919Z stdout: hello", LogLine("2017-11-13T15:45:25.278483919Z", "stdout", "hello", None)),
        # eight digits (Docker trims trailing zeros): padded, two spaces
        ("2017-11-13T15:45:25.27848391Z  stderr: boom", LogLine("2017-11-13T15:45:25.278483910Z", "stderr", "boom", None)),
        # three digits, many spaces
        ("2017-11-13T15:45:25.278Z       stdout: x", LogLine("2017-11-13T15:45:25.278000000Z", "stdout", "x", None)),
        # no fraction at all
        ("2017-11-13T15:45:25Z           stdout: x", LogLine("2017-11-13T15:45:25.000000000Z", "stdout", "x", None)),
        # an empty message (the invoker writes "stdout: " then nothing)
        ("2017-11-13T15:45:25.1Z         stdout: ", LogLine("2017-11-13T15:45:25.100000000Z", "stdout", "", None)),
        # the message keeps its own colons, spaces and look-alike prefixes
        (
            "2017-11-13T15:45:25.5Z stdout: stderr:  a: b ",
            LogLine("2017-11-13T15:45:25.500000000Z", "stdout", "stderr:  a: b ", None),
        ),
        # non-ASCII text
        ("2017-11-13T15:45:25Z stdout: café ✓ 日本語", LogLine("2017-11-13T15:45:25.000000000Z", "stdout", "café ✓ 日本語", None)),
        # a leap second is kept, not rejected
        ("2016-12-31T23:59:60Z stdout: leap", LogLine("2017-01-01T00:00:00.000000000Z", "stdout", "leap", None)),
        (
            "2016-12-31T23:59:60.500000000Z stdout: leap",
            LogLine("2017-01-01T00:00:00.500000000Z", "stdout", "leap", None),
        ),
    ],
)
def test_well_formed_lines(line, expected):
    assert parse_line(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "",
        "hello world",
        "2017-11-13T15:45:25.278483919Z stdlog: wrong stream",
        "2017-11-13T15:45:25.278483919Zstdout: no space",
        "2017-11-13T15:45:25.1234567890Z stdout: ten digits",
        "2023-02-30T00:00:00Z stdout: no such day",
        "2023-01-01T25:00:00Z stdout: no such hour",
        "2023-01-01T00:60:00Z stdout: no such minute",
        "2023-01-01T00:00:61Z stdout: no such second",
        "2023-02-30T00:00:00.123456789Z stdout: no such day, nine digits",
        "2023-01-01T25:00:00.123456789Z stdout: no such hour, nine digits",
        "2023-01-01T00:60:00.123456789Z stdout: no such minute, nine digits",
        "2023-01-01T00:00:61.123456789Z stdout: no such second, nine digits",
        "9999-12-31T23:59:60.5Z stdout: a leap second into the year 10000",
        "1969-12-31T23:59:59.999999999Z stdout: before 1970",
        "0900-01-01T00:00:00Z stdout: before 1970, fewer digits",
        "２０２３-01-01T00:00:00Z stdout: full-width digits",
        "{\"statusCode\":0,\"rule\":\"guest/r\"}",
    ],
)
def test_unparseable_lines_come_back_whole(line):
    assert parse_line(line) == LogLine(None, None, line, None)


def test_stream_accepts_no_space_after_colon():
    assert parse_line("2017-11-13T15:45:25Z stdout:x") == LogLine("2017-11-13T15:45:25.000000000Z", "stdout", "x", None)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("2017-11-13T15:45:25.278483919+00:00 stdout: m", "2017-11-13T15:45:25.278483919Z"),
        ("2017-11-13T17:45:25.278483919+02:00 stdout: m", "2017-11-13T15:45:25.278483919Z"),
        ("2017-11-13T15:45:25+0000 stdout: m", "2017-11-13T15:45:25.000000000Z"),
        ("2017-11-13 15:45:25.5Z stdout: m", "2017-11-13T15:45:25.500000000Z"),
        ("2017-11-13T15:45:25.25 stdout: m", "2017-11-13T15:45:25.250000000Z"),  # no zone: OpenWhisk writes UTC
    ],
)
def test_odd_timestamps_take_the_tolerant_path_and_keep_nanoseconds(line, expected):
    assert parse_line(line) == LogLine(expected, "stdout", "m", None)


@pytest.mark.parametrize(
    "message, marker",
    [
        ("Logs were truncated because the total bytes size exceeds the limit of 10485760 bytes.", "truncated"),
        ("There was an issue while collecting your logs. Data might be missing.", "missing"),
        ("The action did not initialize or run as expected. Log data might be missing.", "missing"),
    ],
)
def test_platform_markers(message, marker):
    timed = parse_line(f"2017-11-13T15:45:25.9Z         stderr: {message}")
    assert timed == LogLine("2017-11-13T15:45:25.900000000Z", "stderr", message, marker)
    # the invoker also writes some of them bare, without time or stream
    assert parse_line(message) == LogLine(None, None, message, marker)


def test_marker_text_on_stdout_is_user_text():
    message = "Logs were truncated because I said so"
    assert parse_line(f"2017-11-13T15:45:25Z stdout: {message}").marker is None


@pytest.mark.parametrize(
    "ns, text",
    [
        (T0 * NS + 278483919, "2017-11-13T15:45:25.278483919Z"),
        (T0 * NS + 278000000, "2017-11-13T15:45:25.278000000Z"),
        (T0 * NS, "2017-11-13T15:45:25.000000000Z"),
        (0, "1970-01-01T00:00:00.000000000Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (calendar.timegm((2024, 2, 29, 23, 59, 59)) * NS + 1, "2024-02-29T23:59:59.000000001Z"),
    ],
)
def test_format_time_ns(ns, text):
    assert format_time_ns(ns) == text


def test_parse_and_format_round_trip_over_many_minutes():
    # Crosses day, month and year boundaries, and more distinct minutes than the caches hold.
    start = calendar.timegm((2023, 12, 31, 20, 0, 0))
    for step in range(0, 6000 * 60, 59):
        ns = (start + step) * NS + step * 7919 % NS
        text = format_time_ns(ns)
        assert parse_line(f"{text} stdout: m").time == text
        trimmed = text[:-1].rstrip("0").rstrip(".") + "Z"  # as Docker writes it
        assert parse_line(f"{trimmed} stdout: m").time == text


@pytest.mark.parametrize("line", ["9999-12-31T23:59:59-05:00 stdout: x", "0900-01-01T00:00:00+00:00 stdout: x"])
def test_times_rfc3339_cannot_hold_leave_the_line_untimed(line):
    parsed = parse_line(line)
    assert parsed.time is None and parsed.message == line


@pytest.mark.parametrize("prefix", ["2023-11-14T22:13:20.", "2023-11-14T22:13:59.", "1970-01-01T00:00:00.",
                                    "2023-11-14T22:13:60.", "2023-02-30T22:13:20.", "2023-11-14T24:13:20.",
                                    "1969-12-31T23:59:59.", "2023-11-14T22:13:20,", "2023-11-14 22:13:20.",
                                    "2023-11-14T22:13:2٩.", "2023-11-14T22:13:20", "", "x" * 20])
def test_known_second_is_what_the_invoker_shape_accepts(prefix):
    # known_second (and the KNOWN_SECONDS it fills) says yes exactly where parse_line's invoker-shape
    # path takes a line starting with these 20 characters and nine fraction digits.
    KNOWN_SECONDS.discard(prefix)
    line = f"{prefix}178483919Z stdout: m"
    taken = parse_line(line).time == line[:30]
    assert known_second(prefix) is taken
    assert (prefix in KNOWN_SECONDS) is taken


@pytest.mark.parametrize("line", [
    "2023-11-14T22:13:20.1784Z      stdout: four digits",
    "2023-11-14T22:13:20.1Z         stderr: one",
    "2023-11-14T22:13:20.17848391Z  stdout: eight",
    "2023-11-14T22:13:20.1784Z      stderr: Logs were truncated because of the limit",
    "2023-02-30T22:13:20.1784Z      stdout: no such day (the time is not checked)",
    "2023-11-14T22:13:20.1784Z       stdout: a space more (the same line, which events.py leaves to parse_line)",
])
def test_nine_digits_pads_a_trimmed_fraction_to_the_same_line(line):
    padded = nine_digits(line)
    assert len(padded) == len(line) and padded[29:31] == "Z " and padded[30:] == line[30:]
    assert padded[:20] == line[:20] and padded[20:29].isdigit()
    if "02-30" not in line:
        assert parse_line(padded) == parse_line(line) and parse_line(padded).time == padded[:30]


@pytest.mark.parametrize("line", [
    "2023-11-14T22:13:20.178483919Z stdout: nine digits already",
    "2023-11-14T22:13:20.1784Z     stdout: a space less",
    "2023-11-14T22:13:20.1784Z\t     stdout: a tab in the padding",
    "2023-11-14T22:13:20.Z          stdout: a dot and no digits",
    "2023-11-14T22:13:20.17٩4Z      stdout: a non-ASCII digit",
    "2023-11-14T22:13:20.17x4Z      stdout: a letter",
    "2023-11-14T22:13:20.1784",
    "",
])
def test_nine_digits_leaves_other_shapes_alone(line):
    assert nine_digits(line) is None
