"""The Lumberjack receiver (``Receiver`` and ``logfwd receive``), driven by raw sockets, pylogbeat and our sink."""

import json
import random
import zlib
import socket
import subprocess
import sys
from pathlib import Path

import pylogbeat
import pytest
from tlsutil import make_pki

from logfwd.codecs.lumberjack import AckDecoder, encode_window
from logfwd.errors import ProtocolError
from logfwd_dev.receiver import validate
from logfwd_dev.receiver.output import EventLog
from logfwd_dev.receiver.server import Receiver
from logfwd.retry import NO_WAIT
from logfwd.sinks.lumberjack.sink import LumberjackSink
from logfwd.sinks.tls import client_context

LOGFWD = Path(sys.executable).with_name("logfwd")
EVENTS = [{"message": f"line {i}", "n": i} for i in range(5)]
PAYLOADS = [json.dumps(event).encode() for event in EVENTS]


class RawClient:
    """A bare socket speaking bytes, to see exactly what the receiver answers."""

    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=5)
        self.acks = AckDecoder()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_acks(self, count: int) -> list[int]:
        """``count`` ACK numbers; fewer if the receiver closes the connection first."""
        acks: list[int] = []
        while len(acks) < count:
            data = self.sock.recv(4096)
            if not data:
                break
            acks += self.acks.feed(data)
        return acks

    def read_until_ack(self) -> list[int]:
        """Keepalives (``0``) up to and including the first real ACK."""
        acks: list[int] = []
        while not acks or acks[-1] == 0:
            acks += self.read_acks(1)
        return acks

    def closed_by_peer(self) -> bool:
        try:
            return self.sock.recv(4096) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def client(receiver):
    raw = RawClient(receiver.address)
    yield raw
    raw.close()


@pytest.mark.parametrize("level", [0, 3])
def test_acks_a_complete_window_with_its_highest_sequence(receiver, client, level):
    client.send(encode_window(PAYLOADS, level))
    assert client.read_acks(1) == [5]
    assert receiver.events == EVENTS
    assert (receiver.windows, receiver.connections) == (1, 1)


def test_acks_the_highest_sequence_received_not_the_count(receiver, client):
    # pylogbeat numbers events cumulatively across windows; Logstash echoes the highest number.
    frames = b"2W\x00\x00\x00\x02" + b"".join(
        b"2J" + seq.to_bytes(4, "big") + len(p).to_bytes(4, "big") + p
        for seq, p in ((6, PAYLOADS[0]), (7, PAYLOADS[1]))
    )
    client.send(frames)
    assert client.read_acks(1) == [7]


def test_answers_an_empty_window_with_a_keepalive(receiver, client):
    client.send(encode_window([], 0))
    assert client.read_acks(1) == [0]
    assert receiver.events == []


def test_pipelined_windows_are_acked_in_order(receiver, client):
    client.send(encode_window(PAYLOADS[:2], 3) + encode_window(PAYLOADS[2:], 0))
    assert client.read_acks(2) == [2, 3]
    assert receiver.events == EVENTS


def test_sends_keepalives_while_holding_the_ack(client, receiver):
    receiver.faults.ack_delay = 0.5
    receiver.faults.keepalive_interval = 0.1
    client.send(encode_window(PAYLOADS, 3))
    acks = client.read_until_ack()
    assert acks[-1] == 5 and set(acks[:-1]) == {0} and len(acks) >= 2
    assert receiver.keepalives == len(acks) - 1


@pytest.mark.parametrize(
    "payload", [b'{"message": "unterminated', b"[1, 2]", b'"just a string"', b"\xff\xfe{}", b'{"a":1} {"b":2}',
                b'{"a":NaN}', b'{"s":"\xed\xa0\x80"}']
)
def test_invalid_json_closes_the_connection_without_ack(receiver, client, payload):
    client.send(encode_window([PAYLOADS[0], payload], 0))
    assert client.read_acks(1) == []
    assert receiver.events == []


def compressed_events(first_seq: int, payloads: list[bytes]) -> bytes:
    """One C frame holding J frames numbered from ``first_seq``."""
    frames = b"".join(b"2J" + seq.to_bytes(4, "big") + len(p).to_bytes(4, "big") + p
                      for seq, p in enumerate(payloads, first_seq))
    body = zlib.compress(frames)
    return b"2C" + len(body).to_bytes(4, "big") + body


def test_a_window_split_over_two_compressed_frames_is_acked(receiver, client):
    # Logstash accepts it (Elastic's Go receiver does not, which is why our sink never sends it).
    client.send(b"2W\x00\x00\x00\x05" + compressed_events(1, PAYLOADS[:2]) + compressed_events(3, PAYLOADS[2:]))
    assert client.read_acks(1) == [5]
    assert receiver.events == EVENTS


def test_events_beyond_the_window_count_close_the_connection_after_its_ack(receiver, client):
    client.send(b"2W\x00\x00\x00\x02" + compressed_events(1, PAYLOADS[:3]))
    assert client.read_acks(2) == [2]  # the window of 2 is complete and ACKed; event 3 has no window
    assert client.closed_by_peer()
    assert receiver.events == EVENTS[:2]


def test_protocol_errors_close_the_connection(receiver, client):
    client.send(b"2J\x00\x00\x00\x01\x00\x00\x00\x02{}")  # an event outside any window
    assert client.closed_by_peer()
    second = RawClient(receiver.address)
    second.send(b"2Q\x00\x00\x00\x00")
    assert second.closed_by_peer()
    second.close()


def test_drop_before_ack_stores_the_window_then_closes(client, receiver):
    receiver.faults.drop_before_ack = 1.0
    client.send(encode_window(PAYLOADS, 3))
    assert client.read_acks(1) == []
    assert receiver.events == EVENTS  # stored: a resend will duplicate them, as with a real crash


def test_partial_ack_stores_and_acks_a_prefix_then_closes(receiver, client):
    receiver.faults.partial_ack = 1.0
    receiver.faults.rng = random.Random(7)
    client.send(encode_window(PAYLOADS, 0))
    acks = client.read_acks(2)
    assert len(acks) == 1 and 1 <= acks[0] < 5
    assert receiver.events == EVENTS[: acks[0]]


def test_writes_one_json_line_per_event(tmp_path):
    out = tmp_path / "events.jsonl"
    pretty = json.dumps({"message": "multi\nline", "nested": {"a": [1, 2]}}, indent=2).encode()
    with Receiver(out) as receiver:
        client = RawClient(receiver.address)
        client.send(encode_window(PAYLOADS + [pretty], 3))
        assert client.read_acks(1) == [6]  # the ACK comes after the lines are flushed
        lines = out.read_bytes().splitlines()
        client.close()
    assert [json.loads(line) for line in lines] == EVENTS + [json.loads(pretty)]
    assert lines[:5] == PAYLOADS  # compact payloads are written as they came


def test_without_validation_only_the_shape_is_checked(tmp_path):
    pretty = json.dumps({"message": "a\nb"}, indent=1).encode()
    with Receiver(tmp_path / "fast.jsonl", validate=False) as receiver:
        client = RawClient(receiver.address)
        client.send(encode_window(PAYLOADS + [pretty], 3))
        assert client.read_acks(1) == [6]
        client.close()
        for bad in (b"[1, 2]", b'{"cut": "short'):  # not {...}: parsed, and rejected
            client = RawClient(receiver.address)
            client.send(encode_window([bad], 0))
            assert client.read_acks(1) == []
            client.close()
        assert receiver.events == EVENTS + [{"message": "a\nb"}]


def test_pylogbeat_delivers_to_the_receiver(receiver):
    host, port = receiver.address
    batches = [[{"message": f"batch {b} line {i}"} for i in range(3)] for b in range(3)]
    for batch in batches:
        # One client (so one connection) per window: pylogbeat numbers events cumulatively over a
        # connection's windows, a known bug that hangs it against Elastic's Go receiver.
        with pylogbeat.PyLogBeatClient(host, port, timeout=5) as beat:
            beat.send(batch)
    assert receiver.events == [event for batch in batches for event in batch]
    assert (receiver.windows, receiver.connections) == (3, 3)


def start_receive(*arguments: str, mode: str = "plain") -> tuple[subprocess.Popen, int]:
    """``logfwd receive`` in a subprocess, and the port it announced."""
    process = subprocess.Popen([str(LOGFWD), "receive", "--port", "0", *arguments],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = process.stdout.readline()
    if not banner:
        pytest.fail(f"logfwd receive did not start: {process.communicate(timeout=10)[1]}")
    assert banner.startswith("listening on 127.0.0.1:") and f" ({mode}), writing to " in banner, banner
    return process, int(banner.split()[2].rsplit(":", 1)[1])


def stop(process: subprocess.Popen) -> tuple[int, str, str]:
    """Terminate as a service manager would; the exit code and the rest of stdout and stderr."""
    process.terminate()
    rest, errors = process.communicate(timeout=10)
    return process.returncode, rest, errors


def test_logfwd_receive_command_writes_what_the_sink_sends(tmp_path):
    out = tmp_path / "received.jsonl"
    process, port = start_receive("--out", str(out))
    try:
        sink = LumberjackSink([("127.0.0.1", port)], retry=NO_WAIT)
        sink.send(PAYLOADS[:3])
        sink.send(PAYLOADS[3:])
        sink.close()
        assert [json.loads(line) for line in out.read_text().splitlines()] == EVENTS
    finally:
        assert stop(process) == (0, "", "")  # the banner was the only output


def test_logfwd_receive_command_with_mutual_tls(tmp_path):
    pki = make_pki()
    files = pki.write(tmp_path / "pki")
    out = tmp_path / "received.jsonl"
    process, port = start_receive("--out", str(out), "--tls-cert", files["server_cert"],
                                  "--tls-key", files["server_key"], "--tls-ca", files["ca"], mode="tls")
    try:
        context = client_context(files["ca"], files["client_cert"], files["client_key"])
        sink = LumberjackSink([("localhost", port)], ssl_context=context, retry=NO_WAIT)
        sink.send(PAYLOADS)
        sink.close()
        assert [json.loads(line) for line in out.read_text().splitlines()] == EVENTS
    finally:
        assert stop(process)[0] == 0


def test_logfwd_receive_command_rejects_half_tls_settings(tmp_path):
    command = [str(LOGFWD), "receive", "--port", "0", "--out", str(tmp_path / "x"), "--tls-cert", "c.pem"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--tls-cert/--tls-key" in result.stderr and "give both" in result.stderr


@pytest.fixture(params=["msgspec", "orjson", "standard library"])
def json_parser(request, monkeypatch):
    """Validation by each fast checker (with the standard library's final word), or the standard library alone."""
    fast = {"msgspec": getattr(validate, "_msgspec_accepts", None), "orjson": validate._orjson_accepts,
            "standard library": None}[request.param]
    if request.param == "msgspec":
        assert fast is not None and validate.CHECKER == "msgspec", "msgspec is a dependency of the tests"
    monkeypatch.setattr(validate, "_fast_accepts", fast)
    return request.param


@pytest.mark.parametrize("payload", [
    b'{"a":1}',
    b' {"a": 1}\n',
    b'{"a":1,"a":2}',
    "{\"caf\u00e9\":\"\u2713\"}".encode(),
    b'{"big":123456789012345678901234567890}',  # beyond 64 bits: orjson refuses, the standard library decides
    b'{"s":"\\ud800"}',  # a lone surrogate escape: valid JSON text, refused by orjson and msgspec
    b'{"f":1e400}',
], ids=["compact", "blanks", "duplicate-key", "utf-8", "big-int", "surrogate-escape", "huge-float"])
def test_validation_accepts_json_objects(json_parser, payload):
    validate.check_objects([b'{"first":true}', payload])


@pytest.mark.parametrize(("payload", "complaint"), [
    (b"[1, 2]", r"not an object \(got list\)"),
    (b'"a string"', r"not an object \(got str\)"),
    (b"3", r"not an object \(got int\)"),
    (b"null", r"not an object \(got NoneType\)"),
    (b"", "not valid UTF-8 JSON"),
    (b'{"a":1}{"b":2}', "Extra data"),
    (b'{"a":"x\ty"}', "control character"),
    (b"\xff{}", "can't decode byte 0xff"),
    (b'{"s":"\xed\xa0\x80"}', "can't decode byte 0xed"),  # a surrogate encoded in UTF-8 is not UTF-8
    ('{"a":1}'.encode("utf-16"), "can't decode"),
    ('{"a":1}'.encode("utf-16-le"), "not valid UTF-8 JSON"),
    (b'\xef\xbb\xbf{"a":1}', "BOM"),
    (b'{"a":NaN}', "NaN is not a JSON value"),
    (b'{"a":-Infinity}', "-Infinity is not a JSON value"),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested too deeply"),
], ids=["list", "string", "number", "null", "empty", "two-values", "raw-tab", "bad-byte", "utf8-surrogate",
        "utf-16", "utf-16-le", "bom", "nan", "infinity", "deep"])
def test_validation_refuses_what_is_not_a_utf8_json_object(json_parser, payload, complaint):
    with pytest.raises(ProtocolError, match=r"^event 2 of the window: .*" + complaint):
        validate.check_objects([b'{"first":true}', payload, b"[3]"])


def test_a_window_is_not_validated_as_one_joined_document(json_parser):
    # "[" + ",".join(...) + "]" reads as three objects; none of the three payloads is one.
    smuggled = [b'{"a":"', b'"}', b"{},{}"]
    assert json.loads(b"[" + b",".join(smuggled) + b"]") == [{"a": ","}, {}, {}]
    with pytest.raises(ProtocolError, match="^event 1 of the window"):
        validate.check_objects(smuggled)


def test_event_log_writes_each_window_with_blanks_on_one_line(tmp_path, json_parser):
    store = EventLog(tmp_path / "out.jsonl")
    store.append([b'{"a":1}', b'{"b": [1,\r\n 2],\n "s": "x\\ny"}'])
    store.append([b'{"c":3}'])
    with pytest.raises(ProtocolError):
        store.append([b'{"d":4}', b"[5]"])  # nothing of a bad window is stored
    store.close()
    assert (tmp_path / "out.jsonl").read_bytes() == b'{"a":1}\n{"b": [1,   2],  "s": "x\\ny"}\n{"c":3}\n'
    assert store.events == [{"a": 1}, {"b": [1, 2], "s": "x\ny"}, {"c": 3}]


def test_event_log_in_memory_keeps_order_across_windows(json_parser):
    store = EventLog()
    store.append(PAYLOADS[:2])
    store.append([b'{"pretty":\n true}'])
    store.append(PAYLOADS[2:])
    assert store.events == EVENTS[:2] + [{"pretty": True}] + EVENTS[2:]
