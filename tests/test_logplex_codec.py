"""The logplex frame codec as byte tables: no sockets."""

import pytest

from logfwd.codecs.logplex import Frame, frame_spans, frames_containing, parse_frame, split_frames
from logfwd.errors import BadRecordError
from logplex_frames import SEED_BODY, body, frame

H10_MSG = (b'<158>1 2015-12-13T06:02:17.590861+00:00 host heroku router - at=error code=H10 desc="App crashed" '
       b'method=GET path="/" host=myapp.herokuapp.com request_id=0f8e9fb5-bd2a-4a47-9a8f-4f1a1f4f4f4f '
       b'fwd="1.2.3.4" dyno= connect= service= status=503 bytes=\n')
H10 = b"%d %s" % (len(H10_MSG), H10_MSG)


def test_a_router_frame_counts_its_trailing_newline():
    literal = b"60 <158>1 2026-11-30T06:02:17.590861+00:00 host app web.1 - hi\n"
    assert split_frames(literal) == [literal[3:]]
    with pytest.raises(BadRecordError):
        split_frames(literal[:-1])  # the count included the newline
    [msg] = split_frames(H10)
    assert parse_frame(msg) == Frame(158, "1", "2015-12-13T06:02:17.590861+00:00", "host", "heroku", "router",
                                     "-", "", H10[H10.index(b"at=error"):-1].decode())


@pytest.mark.parametrize("msg, expected", [
    # logplex HTTPS: no structured data at all
    (b"<158>1 2026-11-30T06:00:00.000001+00:00 host app web.1 - hello world\n",
     Frame(158, "1", "2026-11-30T06:00:00.000001+00:00", "host", "app", "web.1", "-", "", "hello world")),
    # syslog drain layout: structured data "-"
    (b"<190>1 2026-11-30T06:00:00Z d.1234 app web.1 - - hi\n",
     Frame(190, "1", "2026-11-30T06:00:00Z", "d.1234", "app", "web.1", "-", "-", "hi")),
    # elements, with an escaped ] and quote inside a value
    (b'<10>1 - h a p - [x@1 k="a\\]b\\"c"][y v=""] msg',
     Frame(10, "1", "-", "h", "a", "p", "-", '[x@1 k="a\\]b\\"c"][y v=""]', "msg")),
    # no message at all, and the old Labs layout with the token as MSGID
    (b"<40>1 2026-11-30T06:00:00Z heroku web.3 d.abc - State changed from starting to up",
     Frame(40, "1", "2026-11-30T06:00:00Z", "heroku", "web.3", "d.abc", "-", "", "State changed from starting to up")),
    (b"<158>1 t h a p - -",
     Frame(158, "1", "t", "h", "a", "p", "-", "-", "")),
    (b"<0>1 t h a p m \xef\xbb\xbfBOM then \xff bad byte\n",
     Frame(0, "1", "t", "h", "a", "p", "m", "", "BOM then \ufffd bad byte")),
])
def test_frames_parse_leniently(msg, expected):
    assert parse_frame(msg) == expected


@pytest.mark.parametrize("msg, complaint", [
    (b"<192>1 t h a p - m", "priority"),
    (b"<01>1 t h a p - m", "priority"),
    (b"<x>1 t h a p - m", "priority"),
    (b"158>1 t h a p - m", "priority"),
    (b"<158>1 t h a p", "VERSION TIMESTAMP"),
    (b"<158>one t h a p - m", "VERSION TIMESTAMP"),
    (b"<158>1 t  a p - m", "VERSION TIMESTAMP"),
    (b'<158>1 t h a p - [x k="]" msg', "closing ]"),
])
def test_bad_headers_are_named(msg, complaint):
    with pytest.raises(BadRecordError, match=complaint):
        parse_frame(msg)


def test_the_seed_body_splits_into_five_frames():
    frames = [parse_frame(msg) for msg in split_frames(SEED_BODY)]
    assert [f.message for f in frames] == ["error=12345", "Error R99 heroku", "Error R89 heroku", "Error L99 heroku",
                                           'at=error code=H12 desc="a thing happened"']
    assert frames[0].structured_data == '[foo bar="baz"]' and frames[0].version == "123"
    assert {f.structured_data for f in frames[1:]} == {"-"}


def test_frames_split_back_to_back_with_multibyte_characters():
    lines = [("app", "web.1", "caf\u00e9 \u2603"), ("heroku", "router", "x" * 300)]
    frames = [parse_frame(msg) for msg in split_frames(body(lines))]
    assert [(f.app, f.proc, f.message) for f in frames] == lines


@pytest.mark.parametrize("data, complaint", [
    (frame("app", "web.1", "hi")[:-1], r"frame 1 at byte 0 counts 60 bytes but only 59 remain"),
    (frame("app", "web.1", "hi") + b"12 <1>1 t h a", r"frame 2 at byte 63 counts 12 bytes but only 10 remain"),
    (b"58" + frame("app", "web.1", "hi")[2:-1] + b"xy", r"frame 2 at byte 61: expected an octet count"),
    (frame("app", "web.1", "hi") + b"\n", r"frame 2 at byte 63: expected an octet count"),
    (b"5 hello", r"does not start with <PRI>"),
    (b"0 ", r"frame 1 at byte 0: expected an octet count"),
    (b"012 <1>1 t h a p", r"expected an octet count"),
    (b"<158>1 t h a p - m", r"expected an octet count"),
    (b"99999999 <1>", r"expected an octet count"),
])
def test_a_count_that_does_not_match_its_frame_is_an_error(data, complaint):
    with pytest.raises(BadRecordError, match=complaint):
        split_frames(data)


def test_an_empty_body_has_no_frames():
    assert split_frames(b"") == []


def test_frames_holding_a_marker_are_found_in_one_search():
    lines = [("app", "web.1", "ok"), ("heroku", "router", "at=error code=H12"), ("app", "web.1", "Error R14 x"),
             ("app", "web.1", "Error at=error both"), ("app", "web.1", "no")]
    data = body(lines)
    spans = frame_spans(data)
    assert [data[s:e] for s, e in spans] == split_frames(data)
    assert frames_containing(data, spans, (b"Error ", b"at=error")) == [1, 2, 3]
    assert frames_containing(data, spans, (b" router ",)) == [1]
    assert frames_containing(data, spans, (b"nowhere",)) == []
    # a marker that only appears across a frame boundary, or in a count, belongs to no frame
    glued = frame("app", "web.1", "ends with Err") + frame("app", "web.1", "x")
    assert frames_containing(glued, frame_spans(glued), (b"Err\n",)) == [0]
    assert frames_containing(glued, frame_spans(glued), (b"Err\n5",)) == []
