"""The syslog sink and the kinesis source against a real rsyslogd (Debian's, with GnuTLS).

rsyslog writes each message it receives with every RFC 5424 part as one JSON line; the tests read
that file and check what arrived, field by field.
"""

import json
import re
import socket
import threading
import time
import types
from pathlib import Path

import pytest

from logfwd.batcher import Batcher
from logfwd.deadline import NO_DEADLINE
from logfwd.errors import ConfigError, DeliveryError
from logfwd.plugs import BEST_EFFORT, WRITTEN, plug
from logfwd.retry import NO_WAIT
from logfwd.sources.kinesis.source import KinesisSource
from kinesis_events import kinesis_event
from servers_rsyslog import run_rsyslog
from tlsutil import make_pki

EVENTS = Path(__file__).parent / "events" / "kinesis"
_SD_PARAM = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def syslog_sink(server, **values):
    values.setdefault("syslog_host", f"{server.host}:{server.port}")
    if server.pki is not None and values.get("syslog_transport", "tls") == "tls":
        values.setdefault("syslog_ca", server.pki.ca)
    declared = plug("sink", "syslog")
    coerced = {p.name: p.coerce(p.name, values[p.name]) if p.name in values else p.default for p in declared.params}
    return declared.build(types.SimpleNamespace(values=coerced), types.SimpleNamespace(retry=NO_WAIT))


def forward(event: dict, sink, *, max_events: int = 2048, partial: bool = True) -> KinesisSource:
    """What the pipeline does for a pushed source: units to the sink in batches, ``done`` once delivered."""
    source = KinesisSource(event, partial=partial, now_ms=lambda: 1_700_000_000_000)
    batcher = Batcher(sink, NO_DEADLINE, max_events=max_events, max_bytes=64 << 20)
    try:
        for unit in source.units(NO_DEADLINE, sink.encode):
            batcher.add(*unit)
        batcher.flush()
    except DeliveryError:
        pass
    finally:
        try:
            batcher.drain()
        except DeliveryError:
            pass
        sink.close()
    return source


def sd_params(structured_data: str) -> dict:
    assert structured_data.startswith("[logfwd@32473 ") and structured_data.endswith("]")
    return {name: re.sub(r"\\(.)", r"\1", value) for name, value in _SD_PARAM.findall(structured_data)}


def test_plain_tcp_every_field_arrives(rsyslog_tcp):
    sink = syslog_sink(rsyslog_tcp, syslog_transport="tcp", syslog_facility="local3")
    assert sink.guarantee == WRITTEN
    source = forward(json.loads((EVENTS / "plain.json").read_text()), sink)
    assert source.answer() == {"batchItemFailures": []}
    got = rsyslog_tcp.wait_for(4)
    assert len(got) == 4
    first = got[0]
    assert first["version"] == "1"
    assert first["pri"] == str(19 * 8 + 6)  # local3.info
    assert first["timestamp"] == "2016-01-07T10:00:00.000Z"
    assert (first["hostname"], first["app_name"], first["procid"], first["msgid"]) == ("myapp", "web", "1d11a78279e0", "-")
    assert first["msg"] == 'Started GET "/" for 10.0.0.1'
    assert sd_params(first["structured_data"]) == {
        "id": "myapp-Kinesis-L6MUKT1VH451/shardId-000000000000/4959066843577283486738470196891235802390911736070717442:0",
        "stream": "myapp-Kinesis-L6MUKT1VH451", "shard": "shardId-000000000000",
        "seq": "4959066843577283486738470196891235802390911736070717442"}
    assert [m["app_name"] for m in got] == ["web", "worker", "myapp", "myapp"]  # no prefix: the app's name
    assert got[3]["msg"].endswith("✓")  # UTF-8 arrives as sent
    assert got[3]["timestamp"] == "2016-01-07T10:00:00.123Z"


def test_levels_and_lambda_lines_over_tls(rsyslog_tls):
    sink = syslog_sink(rsyslog_tls)
    for name in ("json_lines.json", "cloudwatch.json"):
        assert forward(json.loads((EVENTS / name).read_text()), sink).answer() == {"batchItemFailures": []}
    got = rsyslog_tls.wait_for(8)
    assert [int(m["pri"]) % 8 for m in got[:3]] == [3, 6, 4]  # ERROR, info, warning from the JSON lines
    lambda_lines = got[3:7]
    assert [m["msgid"] for m in lambda_lines] == ["START", "-", "END", "REPORT"]
    assert {m["hostname"] for m in lambda_lines} == {"thumbnailer"}
    assert {m["procid"] for m in lambda_lines} == {"6f6ba1c2-0c42-4a1a-9c5e-9b1a0c6b2f11"}
    assert int(lambda_lines[1]["pri"]) % 8 == 3
    assert sd_params(lambda_lines[0]["structured_data"])["group"] == "/aws/lambda/thumbnailer"


def test_tls_verifies_the_receiver_certificate_and_name():
    with run_rsyslog("tls", pki=make_pki(("other.example",))) as server:
        with pytest.raises(DeliveryError, match="not valid for the name '127.0.0.1'"):
            syslog_sink(server).send([b"5 hello"])
        other = make_pki()
        with pytest.raises(DeliveryError, match="certificate verify failed.*check syslog_ca"):
            syslog_sink(server, syslog_ca=other.ca).send([b"5 hello"])
        assert server.settle(quiet=0.3) == []


def test_mutual_tls(rsyslog_mtls):
    pki = rsyslog_mtls.pki
    with pytest.raises(DeliveryError):
        syslog_sink(rsyslog_mtls).send(syslog_sink(rsyslog_mtls).encode([{"message": "no cert"}]))
    sink = syslog_sink(rsyslog_mtls, syslog_cert=pki.client_cert, syslog_key=pki.client_key)
    sink.send(sink.encode([{"message": "with a client certificate", "host": {"name": "h"}}]))
    got = rsyslog_mtls.wait_for(1)
    assert [m["msg"] for m in got] == ["with a client certificate"]
    assert "syslog_key" not in sink.describe() and pki.client_key not in repr(sink)


@pytest.mark.parametrize(("framing", "expected"), [("octet", "first#012second"), ("newline", "first second")])
def test_framing(rsyslog_tcp, framing, expected):
    sink = syslog_sink(rsyslog_tcp, syslog_transport="tcp", syslog_framing=framing)
    sink.send(sink.encode([{"message": "first\nsecond"}, {"message": "third"}]))
    got = rsyslog_tcp.wait_for(2)
    assert [m["msg"] for m in got] == [expected, "third"]  # rsyslog shows a kept LF as #012


def test_a_1_mb_line_is_split_into_numbered_parts_and_nothing_is_lost(rsyslog_tls):
    line = ("ünïcödé " * 140_000).encode()[:1_000_000]
    line = line.decode("utf-8", "ignore").encode()
    sink = syslog_sink(rsyslog_tls)
    source = forward(kinesis_event([b"web:R1/0123456789ab " + line]), sink)
    assert source.answer() == {"batchItemFailures": []}
    first = rsyslog_tls.wait_for(1)[0]
    parts = int(sd_params(first["structured_data"])["parts"])
    got = rsyslog_tls.wait_for(parts)
    assert len(got) == parts > 100  # 8192-byte messages by default
    numbered = {int(sd_params(m["structured_data"])["part"]): m for m in got}
    assert sorted(numbered) == list(range(1, parts + 1))
    assert {sd_params(m["structured_data"])["parts"] for m in got} == {str(parts)}
    assert "".join(numbered[n]["msg"] for n in range(1, parts + 1)).encode() == line


def test_default_message_size_fits_rsyslog_defaults():
    with run_rsyslog("tls", max_message=8192) as server:  # rsyslog's own default maxMessageSize
        sink = syslog_sink(server)
        text = "x" * 20_000
        sink.send(sink.encode([{"message": text, "@metadata": {"_id": "i" * 100}}]))
        got = server.wait_for(3)
        assert "".join(m["msg"] for m in got) == text  # no part was truncated by the receiver


def test_ten_thousand_record_batch_over_tls(rsyslog_tls):
    lines = [b"web:RXZMCQEPDKO/1d11a78279e0 request %05d " % n + b"x" * 160 for n in range(10_000)]
    sink = syslog_sink(rsyslog_tls)
    source = forward(kinesis_event(lines, first=1000), sink)
    assert source.answer() == {"batchItemFailures": []}
    assert sink.batches_sent == 5  # 2048 messages per connection
    got = rsyslog_tls.wait_for(10_000)
    assert len(got) == 10_000
    assert [int(m["msg"].split()[1]) for m in got] == list(range(10_000))
    assert len({sd_params(m["structured_data"])["id"] for m in got}) == 10_000


def _sequences(messages):
    return {int(sd_params(m["structured_data"])["seq"]) for m in messages}


def test_receiver_stopping_between_batches_fails_exactly_what_did_not_arrive():
    lines = [b"web:R1/0123456789ab line %d" % n for n in range(3000)]
    with run_rsyslog("tls") as server:
        sink = syslog_sink(server)
        real_send, calls = sink.send, []

        def send(payloads, deadline):
            calls.append(len(payloads))
            if len(calls) == 3:
                server.stop()  # the receiver goes away after two batches
            return real_send(payloads, deadline)

        sink.send = send
        source = forward(kinesis_event(lines, first=1000), sink, max_events=1000)
        arrived = _sequences(server.messages())
    failed = {int(item["itemIdentifier"]) for item in source.answer()["batchItemFailures"]}
    assert arrived == set(range(1000, 3000))
    assert failed == set(range(3000, 4000))  # exactly what did not arrive


def test_receiver_stopping_mid_connection_loses_nothing_reported_delivered():
    lines = [b"web:R1/0123456789ab line %d " % n + b"y" * 4000 for n in range(20_000)]  # more than the socket buffers hold
    with run_rsyslog("tcp") as server:
        sink = syslog_sink(server, syslog_transport="tcp")
        def stop_halfway():  # after the first connection and part of the second: 40 MB cannot all be buffered
            give_up = time.monotonic() + 60
            while server.count() < 13_000 and time.monotonic() < give_up:
                time.sleep(0.005)
            server.stop()

        stopper = threading.Thread(target=stop_halfway)
        stopper.start()
        source = forward(kinesis_event(lines, first=1000), sink, max_events=10_000)
        stopper.join()
        arrived = _sequences(server.messages())
    failed = [int(item["itemIdentifier"]) for item in source.answer()["batchItemFailures"]]
    delivered = set(range(1000, 21_000)) - set(failed)
    assert failed == list(range(1000 + len(delivered), 21_000))  # from the first undelivered one on
    assert delivered <= arrived  # nothing reported delivered was lost
    assert set(range(1000, 21_000)) - arrived <= set(failed)  # everything missing is reported
    assert 13_000 <= len(arrived) < 20_000  # it did stop in the middle of the second connection
    # Syslog cannot say how much of a broken connection was read (RFC 5425 6.3): the records of that
    # connection that did arrive are reported failed too, and will arrive again (same id) on the retry.
    assert delivered == set(range(1000, 11_000))


@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_connections_do_not_wait_for_delayed_acks(rsyslog_tls, rsyslog_tcp, transport):
    """Nagle off: the batch's last bytes and the close after them go out without waiting for the
    receiver to acknowledge what went before (its delayed ACK holds that up to 40 ms a connection)."""
    server = rsyslog_tls if transport == "tls" else rsyslog_tcp
    sink = syslog_sink(server, syslog_transport=transport)
    sock = sink._connect(NO_DEADLINE)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        sock.close()


def test_udp_is_best_effort_and_arrives_on_loopback(rsyslog_tcp):
    sink = syslog_sink(rsyslog_tcp, syslog_host=f"127.0.0.1:{rsyslog_tcp.udp_port}", syslog_transport="udp")
    assert sink.guarantee == BEST_EFFORT and sink.encoder.max_bytes == 1024
    payloads = sink.encode([{"message": "datagram %d" % n} for n in range(3)] + [{"message": "z" * 3000}])
    assert all(len(p) <= 1024 for p in payloads) and len(payloads) == 7
    sink.send(payloads)
    got = rsyslog_tcp.wait_for(7, timeout=10)
    assert [m["msg"] for m in got[:3]] == ["datagram 0", "datagram 1", "datagram 2"]
    assert "".join(m["msg"] for m in got[3:]) == "z" * 3000


def test_refused_connection_names_the_receiver_and_counts_nothing_delivered(rsyslog_tcp):
    where = f"{rsyslog_tcp.host}:{rsyslog_tcp.port}"
    rsyslog_tcp.stop()
    sink = syslog_sink(rsyslog_tcp, syslog_transport="tcp")
    with pytest.raises(DeliveryError, match=f"connection refused by {where}") as caught:
        sink.send([b"5 hello"])
    assert caught.value.acked == 0


@pytest.mark.parametrize(("values", "words"), [
    ({"syslog_host": "logs.example.com:port"}, "syslog_host.*bad port"),
    ({"syslog_host": "h:1", "syslog_transport": "tcp", "syslog_ca": "x"}, "syslog_ca.*only used with syslog_transport tls"),
    ({"syslog_host": "h:1", "syslog_cert": "-----BEGIN CERTIFICATE-----"}, "syslog_key.*is missing"),
    ({"syslog_host": "h:1", "syslog_transport": "smtp"}, "syslog_transport"),
    ({"syslog_host": "h:1", "syslog_facility": "kernel7"}, "syslog_facility.*unknown facility"),
    ({"syslog_host": "h:1", "syslog_max_message_bytes": "100"}, "syslog_max_message_bytes.*out of range"),
    ({"syslog_host": "h:1", "syslog_ca": "/no/such/ca.pem"}, "syslog_ca.*neither PEM text nor an existing file"),
    ({"syslog_host": "h:1", "syslog_transport": "udp", "syslog_max_message_bytes": "70000"},
     "syslog_max_message_bytes.*largest UDP datagram"),
    ({"syslog_host": "h:1", "syslog_transport": "udp", "syslog_framing": "newline"}, "syslog_framing.*udp"),
])
def test_bad_settings_name_the_parameter(values, words):
    declared = plug("sink", "syslog")
    with pytest.raises(ConfigError, match=words):
        coerced = {p.name: p.coerce(p.name, values[p.name]) if p.name in values else p.default
                   for p in declared.params}
        declared.build(types.SimpleNamespace(values=coerced), types.SimpleNamespace(retry=NO_WAIT))
