"""The drain's fast paths agree with its general ones, over the seed's body, Heroku's documented
formats and odd or broken frames: the header match of ``parse_frame`` with its full checks, the usual
forms of ``error_code`` with its general search, ``usual_frame_error`` (one match of a frame's bytes)
with ``parse_frame`` then ``error_code``, and the statsd sink counting ``DrainEvents.metrics()`` with it
counting the built event dicts."""

import base64

import pytest

from logfwd.codecs import heroku, logplex
from logfwd.coerce import Secret
from logfwd.deadline import NO_DEADLINE
from logfwd.errors import BadRecordError
from logfwd.sinks.statsd.sink import StatsdSink
from logfwd.sources.logplex.source import LogplexSource
from logplex_frames import DOCUMENTED, ROUTER_H12, ROUTER_INFO, SEED_BODY, body, frame

ODD_LINES = [
    ("heroku", "router", "x at=error code=H12 at=info"), ("heroku", "router", "at=info at=error code=H13"),
    ("heroku", "router", "at=error  code=H14 code=H15"), ("heroku", "router", "at=errors code=H16"),
    ("heroku", "router", 'at=error\tcode=H17 desc="a \\"b\\" c"'), ("heroku", "router", "at=error code=H1\u0662\u0663"),
    ("heroku", "router", "code=H18 at=error"), ("heroku", "router", "at=error code=H19x"),
    ("heroku", "router", "at=error code=H20"), ("heroku", "router", "at=error code=H21 code=H22"),
    ("heroku", "web.1", "Error R14"), ("heroku", "web.1", "Error R14: x"), ("heroku", "web.1", "Error R1"),
    ("heroku", "web.1", "Error X14 (no)"), ("heroku", "web.1", "- Error R15 (dash)"),
    ("heroku", "web.1", "\ufeffError R16 (bom)"), ("heroku", "web.1", "Error R17 (unclosed"),
    ("app", "web.1", "Error R18 (an app's own line)"), ("heroku", "web.1", "Error L10 (output buffer overflow)"),
]
ODD_FRAMES = [  # (msg of a frame) broken or unusual headers, each skipped or parsed alike by both paths
    b"<999>1 - h heroku x - Error R14", b"<1>\xff\xfe \xe2 heroku r - Error R20\n",
    b'<10>1 2015-12-03T23:12:17+11:00 h heroku r - [a b="c"]Error R22\n', b'<10>1 ts h heroku r - [a b="c" Error R23\n',
    b"<010>1 ts h heroku r - Error R24", b"<10>1 ts h heroku r -", b"<10>\xd9\xa1 ts h heroku r - Error R25",
    b"<10>1 ts h heroku r - - Error R26\n", b"<10>1 ts  h heroku r - Error R27", b"<191>1 ts h heroku r x -\n",
    b"<192>1 ts h heroku r x - Error R28", b"<0>1 ts h heroku r x \xef\xbb\xbfError L11", b"<7>1 ts h heroku r x\n",
    b"<15>1 ts h \xe2\x82\xac r x Error R29", b"<15>12 ts h heroku r x -\n",
]
BODIES = {
    "seed": SEED_BODY,
    "documented": body(DOCUMENTED),
    "odd lines": body(ODD_LINES),
    "odd frames": body(DOCUMENTED[:2]) + b"".join(b"%d %s" % (len(msg), msg) for msg in ODD_FRAMES)
                  + frame("heroku", "web.1", "Error R21 (x)", timestamp="-"),
    "typical": body([("heroku", "router", ROUTER_INFO)] * 7 + [("heroku", "router", ROUTER_H12)]),
}


def _parsed(parse, data):
    try:
        return parse(data)
    except BadRecordError as exc:
        return str(exc)


@pytest.mark.parametrize("name", BODIES)
def test_parse_frame_matches_its_full_checks(name):
    data = BODIES[name]
    for message in logplex.split_frames(data):
        assert _parsed(logplex.parse_frame, message) == _parsed(logplex._parse_any_frame, message), message


def test_error_code_matches_its_general_search_and_platform_error():
    messages = [message for _, _, message in DOCUMENTED + ODD_LINES] + [ROUTER_INFO, "at=error", "Error "]
    for message in messages:
        assert heroku.error_code(message) == heroku._any_error_code(message), message
        error = heroku.platform_error(message)
        assert (error.code if error else None) == heroku.error_code(message), message


def test_a_usual_frame_error_is_what_parsing_the_frame_finds():
    matched = 0
    for data in BODIES.values():
        for message in logplex.split_frames(data):
            usual = heroku.usual_frame_error(message)
            if usual is None:
                continue
            matched += 1
            frame = logplex.parse_frame(message)  # a match is never a bad frame
            assert (frame.app.encode(), heroku.error_code(frame.message)) == usual, message
    assert matched >= 12  # the documented errors, the bench's, and odd lines in the usual forms


def _drain(data: bytes, **options):
    headers = {"Content-Type": "application/logplex-1", "Logplex-Frame-Id": "F1",
               "Authorization": "Basic " + base64.b64encode(b"logplex:pw").decode()}
    source = LogplexSource({"method": "POST", "path": "/app/logs", "headers": headers, "body": data},
                           credentials={"app": Secret("logplex:pw")}, **options)
    kept = []
    [unit] = source.units(NO_DEADLINE, lambda events: kept.append(events) or [b"x"])
    unit.done()
    return source, kept[0]


@pytest.mark.parametrize("name", BODIES)
@pytest.mark.parametrize("options", [{}, {"every_line": True}, {"router_timers": True}, {"platform_only": False},
                                     {"every_line": True, "router_timers": True, "platform_only": False}])
@pytest.mark.parametrize("prefix", ["", "heroku"])
def test_the_statsd_sink_counts_the_drains_metrics_as_it_counts_its_events(name, options, prefix):
    source, events = _drain(BODIES[name], **options)
    sink = StatsdSink([("127.0.0.1", 8125), ("127.0.0.1", 8126)], prefix=prefix)  # encode only: nothing sent
    built = list(events)  # plain dicts: what any other sink reads, and the general path of this one
    assert [metric for event in built for metric in event.get("metrics", ())] == events.metrics()
    lines = sink.encode(events)
    assert lines == sink.encode(built)
    counted = sum(int(line.split(b":")[1].split(b"|")[0]) for line in lines if line.endswith(b"|c"))
    assert counted == source.counts["heroku_errors"] == sum("error" in event for event in built)
    assert source.answer()["statusCode"] == 200


def test_counting_by_a_field_reads_the_built_events():
    _, events = _drain(BODIES["documented"])
    sink = StatsdSink([("127.0.0.1", 8125)], count_by="error.code")
    assert sink.encode(events) == sink.encode(list(events))
    assert b"H12:2|c" in sink.encode(events)
