"""RFC 5424 codec: tables of bytes, no sockets."""

import pytest

from logfwd.codecs.syslog import (FACILITIES, SEVERITIES, frame_newline, frame_octet, header_field, message,
                                  prival, sd_element, split_message, split_utf8, structured_data_end, timestamp)


@pytest.mark.parametrize(("facility", "severity", "expected"), [
    (0, 0, 0), (1, 6, 14), (FACILITIES["local0"], SEVERITIES["info"], 134), (23, 7, 191), (1, 3, 11),
])
def test_prival(facility, severity, expected):
    assert prival(facility, severity) == expected


@pytest.mark.parametrize(("facility", "severity"), [(24, 0), (-1, 0), (1, 8)])
def test_prival_out_of_range(facility, severity):
    with pytest.raises(ValueError):
        prival(facility, severity)


@pytest.mark.parametrize(("text", "expected"), [
    ("2016-01-07T10:00:00.123Z", "2016-01-07T10:00:00.123Z"),
    ("2016-01-07T10:00:00.123456789Z", "2016-01-07T10:00:00.123456Z"),  # at most 6 digits, cut
    ("2016-01-07T10:00:00Z", "2016-01-07T10:00:00Z"),
    ("2016-01-07t10:00:00.5+02:00", "2016-01-07T10:00:00.5+02:00"),
    ("2016-01-07 10:00:00", "-"), ("", "-"), (None, "-"),
])
def test_timestamp(text, expected):
    assert timestamp(text) == expected


@pytest.mark.parametrize(("value", "limit", "expected"), [
    ("web", 48, "web"), ("", 48, "-"), (None, 48, "-"), ("my app", 48, "my_app"), ("é", 48, "_"),
    ("a" * 300, 255, "a" * 255), ("x" * 49, 48, "x" * 48), (1234, 128, "1234"), ("tab\there", 32, "tab_here"),
])
def test_header_field(value, limit, expected):
    assert header_field(value, limit) == expected


@pytest.mark.parametrize(("params", "expected"), [
    ([("id", "a")], '[x@32473 id="a"]'),
    ([("v", 'say "hi"')], r'[x@32473 v="say \"hi\""]'),
    ([("v", "back\\slash")], r'[x@32473 v="back\\slash"]'),
    ([("v", "[x]")], r'[x@32473 v="[x\]"]'),
    ([("v", None), ("n", 3)], '[x@32473 n="3"]'),
    ([("bad name=", "é")], '[x@32473 bad_name_="é"]'),
    ([("n" * 40, "1")], '[x@32473 ' + "n" * 32 + '="1"]'),
])
def test_sd_element_escapes(params, expected):
    assert sd_element("x@32473", params) == expected


def test_message_bytes():
    assert message(14, "2016-01-07T10:00:00.123Z", "myapp", "web", "1d11a78279e0", "-", '[x@32473 id="1"]',
                   "héllo".encode()) == \
        b'<14>1 2016-01-07T10:00:00.123Z myapp web 1d11a78279e0 - [x@32473 id="1"] h\xc3\xa9llo'
    assert message(11, "-", "-", "-", "-", "-", "", b"") == b"<11>1 - - - - - -"


@pytest.mark.parametrize(("msg", "octet", "newline"), [
    (b"<14>1 - - - - - - hi", b"20 <14>1 - - - - - - hi", b"<14>1 - - - - - - hi\n"),
    (b"<14>1 - - - - - - a\nb", b"21 <14>1 - - - - - - a\nb", b"<14>1 - - - - - - a b\n"),
    ("<14>1 - - - - - - é".encode(), b"20 <14>1 - - - - - - \xc3\xa9", b"<14>1 - - - - - - \xc3\xa9\n"),
    (b"<14>1 - - - - - - a\r\x00", b"21 <14>1 - - - - - - a\r\x00", b"<14>1 - - - - - - a  \n"),
])
def test_framing(msg, octet, newline):
    assert frame_octet(msg) == octet  # the count is of bytes, not characters
    assert frame_newline(msg) == newline


@pytest.mark.parametrize(("data", "size", "pieces"), [
    (b"abcdef", 4, [b"abcd", b"ef"]),
    ("aé€😀".encode(), 4, [b"a\xc3\xa9", "€".encode(), "😀".encode()]),
    ("ééé".encode(), 5, ["éé".encode(), "é".encode()]),
    (b"", 4, [b""]),
    (b"\x80\x80\x80\x80\x80\x80", 4, [b"\x80\x80\x80\x80", b"\x80\x80"]),  # not UTF-8: cut at the size
])
def test_split_utf8_keeps_characters_whole(data, size, pieces):
    assert split_utf8(data, size) == pieces
    assert b"".join(pieces) == data


def test_split_message_marks_every_part_and_loses_nothing():
    text = ("é" * 300 + "x" * 50).encode()
    parts = split_message(14, "-", "h", "a", "-", "-", "x@32473", [("id", "7")], text, 200)
    assert len(parts) > 1
    assert all(len(part) <= 200 for part in parts)
    rebuilt = b""
    for n, part in enumerate(parts, 1):
        head = b'<14>1 - h a - - [x@32473 id="7" part="%d" parts="%d"] ' % (n, len(parts))
        assert part.startswith(head)
        piece = part[len(head):]
        piece.decode("utf-8")  # every part is valid UTF-8 on its own
        rebuilt += piece
    assert rebuilt == text


def test_split_message_leaves_short_messages_whole():
    assert split_message(14, "-", "h", "a", "-", "-", "x@32473", [], b"hi", 100) == [b"<14>1 - h a - - [x@32473] hi"]


def test_split_message_without_room_says_so():
    with pytest.raises(ValueError, match="no room"):
        split_message(14, "-", "h" * 255, "a", "-", "-", "x@32473", [("id", "i" * 200)], b"x" * 1000, 300)


@pytest.mark.parametrize(("text", "end"), [
    ('[x@1 a="b"] msg', 11), ("[x@1][y@2] msg", 10), ('[x@1 a="]"]', 11), ('[x@1 a="\\"]"] m', 13),
    ('[x@1 a="\\]"]', 12), ("[x@1", -1), ('[x@1 a="]', -1), ("- msg", 0), ("", 0),
])
def test_structured_data_end(text, end):
    assert structured_data_end(text) == end
    if end > 0:  # what sd_element writes, a receiver finds the end of
        assert structured_data_end(sd_element("x@1", [("a", text)]) + " m") == len(sd_element("x@1", [("a", text)]))
