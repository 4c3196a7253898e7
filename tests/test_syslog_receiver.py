"""The development syslog receiver (``logfwd_dev.syslog``): its framing and parsing as byte tables, and
the same messages sent to it and to a real rsyslogd, arriving with the same parts."""

import json
import re
import socket

import pytest

from logfwd.sinks.syslog.encode import SyslogEncoder
from logfwd.sinks.syslog.sink import SyslogSink
from logfwd.sinks.tls import client_context, server_context
from logfwd_dev.syslog.parse import Framer, FramingError, parse_message
from logfwd_dev.syslog.server import SyslogReceiver
from tlsutil import make_pki


@pytest.mark.parametrize(("chunks", "messages"), [
    ([b"5 <1>1 4 <2>1"], [b"<1>1 ", b"<2>1"]),                              # octet counting: spaces kept
    ([b"<1>1 a\n<2>1 b\n"], [b"<1>1 a", b"<2>1 b"]),                       # LF framing
    ([b"10 <1>1 a\nb c", b"<2>1 d\n"], [b"<1>1 a\nb c", b"<2>1 d"]),         # an LF inside a counted frame
    ([b"1", b"0 <1>1 ", b"abcd", b"e"], [b"<1>1 abcde"]),                  # split anywhere
    ([b"7 <1>1 \xc3\xa9"], [b"<1>1 \xc3\xa9"]),                            # the count is of bytes
])
def test_framer_reads_octet_counted_and_lf_frames(chunks, messages):
    framer = Framer()
    got = [message for chunk in chunks for message in framer.feed(chunk)]
    assert got == messages and framer.pending() == 0


def test_framer_holds_a_cut_frame_and_refuses_garbage():
    framer = Framer()
    assert framer.feed(b"20 <1>1 cut") == [] and framer.pending() == 11
    with pytest.raises(FramingError, match="neither an octet count"):
        Framer().feed(b"hello\n")
    with pytest.raises(FramingError, match="no space"):
        Framer().feed(b"12345678901234")


@pytest.mark.parametrize(("message", "fields"), [
    (b'<14>1 2016-01-07T10:00:00.123Z myapp web 1d11a78279e0 - [x@32473 id="1"] hello',
     {"pri": "14", "version": "1", "timestamp": "2016-01-07T10:00:00.123Z", "hostname": "myapp", "app_name": "web",
      "procid": "1d11a78279e0", "msgid": "-", "structured_data": '[x@32473 id="1"]', "msg": "hello"}),
    (b"<11>1 - - - - - -", {"pri": "11", "version": "1", "timestamp": "-", "hostname": "-", "app_name": "-",
                            "procid": "-", "msgid": "-", "structured_data": "-", "msg": ""}),
    (b'<11>1 - h a p m [a@1 v="x\\]y \\"q\\""][b@2] two  spaces ',
     {"structured_data": '[a@1 v="x\\]y \\"q\\""][b@2]', "msg": "two  spaces "}),
    (b"<0>1 - h a p m - caf\xc3\xa9", {"pri": "0", "structured_data": "-", "msg": "café"}),
])
def test_parse_message_parts(message, fields):
    parsed = parse_message(message)
    assert {key: parsed[key] for key in fields} == fields


@pytest.mark.parametrize(("message", "error"), [
    (b"hello", "no <PRI>"), (b"<192>1 - - - - - -", "PRI"), (b"<14>2 - - - - - -", "version"),
    (b"<14>1 - - -", "fewer than 7"), (b'<14>1 - - - - - [x@1 a="', "not closed"), (b"<14>1 - - - - - x", "neither"),
])
def test_parse_message_says_what_is_wrong(message, error):
    with pytest.raises(ValueError, match=error):
        parse_message(message)


def _events() -> list[dict]:
    """Events that exercise every header field and the structured data's escapes (no control characters:
    rsyslog writes those as #012 and the like, which is its display, not the message)."""
    events = [
        {"@timestamp": "2026-11-30T05:00:00.123Z", "message": "plain line", "host": {"name": "shop"},
         "process": {"name": "web", "pid": 4242}, "@metadata": {"_id": "a/1:0"}},
        {"@timestamp": "2026-11-30T05:00:01.5+02:00", "message": 'ünïcödé "quoted" ✓', "host": {"name": "my app"},
         "process": {"name": "worker"}, "container": {"id": "1d11a78279e0"}, "log": {"level": "error"},
         "aws": {"kinesis": {"stream": 's"]\\', "shard_id": "shardId-1", "sequence_number": "7"}},
         "@metadata": {"_id": "b/1:0"}},
        {"message": "", "event": {"action": "REPORT"}, "logfwd": {"bad_json": True}},
        {"@timestamp": "2026-11-30T05:00:02Z", "message": "  leading and trailing spaces  ", "stream": "stderr"},
        {"@timestamp": "2026-11-30T05:00:03.000Z", "message": "x" * 3000, "host": {"name": "long"}},
    ]
    return events + [{"@timestamp": "2026-11-30T05:00:04.000Z", "message": f"line {n}", "host": {"name": "n"}}
                     for n in range(200)]


@pytest.mark.slow
@pytest.mark.parametrize("framing", ["octet", "newline"])
def test_the_dev_receiver_parses_what_rsyslog_parses(rsyslog_tcp, tmp_path, framing):
    encoder = SyslogEncoder(framing=framing, max_bytes=1024)
    payloads = encoder(_events())
    with SyslogReceiver(tmp_path / "got.jsonl") as receiver:
        for host, port in (receiver.address, (rsyslog_tcp.host, rsyslog_tcp.port)):
            SyslogSink(host, port, encoder, "tcp").send(payloads)
        ours = [json.loads(line) for line in (tmp_path / "got.jsonl").read_text().splitlines()]
    theirs = rsyslog_tcp.wait_for(len(payloads))
    assert len(ours) == len(theirs) == len(payloads) > 200  # the 3000-byte line arrives in parts
    for mine, rsyslog in zip(ours, theirs):
        if mine["timestamp"] == "-":  # no TIMESTAMP sent: rsyslog shows the time it received the message
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d", rsyslog.pop("timestamp")), rsyslog
            mine.pop("timestamp")
        assert mine == {key: rsyslog[key] for key in mine}, (mine, rsyslog)
    assert sum("timestamp" not in m for m in ours) == 1  # the one event without a time


def test_the_dev_receiver_over_tls_with_verification(tmp_path):
    pki = make_pki()
    (tmp_path / "cert.pem").write_text(pki.server_cert)
    (tmp_path / "key.pem").write_text(pki.server_key)
    context = server_context(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    with SyslogReceiver(tmp_path / "got.jsonl", ssl_context=context) as receiver:
        host, port = receiver.address
        sink = SyslogSink(host, port, SyslogEncoder(), "tls", client_context(ca=pki.ca))
        sink.send(sink.encode([{"message": f"over TLS {n}"} for n in range(50)]))
        with socket.create_connection((host, port)) as sock:  # not syslog: the receiver closes on it, lives on
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        sink.send(sink.encode([{"message": "still serving"}]))
    got = [json.loads(line)["msg"] for line in (tmp_path / "got.jsonl").read_text().splitlines()]
    assert got == [f"over TLS {n}" for n in range(50)] + ["still serving"]
