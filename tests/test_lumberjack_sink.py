"""LumberjackSink against the real Receiver (and one scripted peer) on loopback."""

import json
import random
import socket
import ssl
import threading

import pytest
from tlsutil import make_pki

from logfwd.codecs.lumberjack import Event, FrameDecoder, Window, encode_ack
from logfwd.errors import ConfigError, DeliveryError, ProtocolError
from logfwd_dev.receiver.server import Receiver
from logfwd.retry import NO_WAIT, RetryPolicy
from logfwd.sinks.lumberjack.sink import LumberjackSink
from logfwd.sinks.tls import client_context, server_context

FEW_RETRIES = RetryPolicy(attempts=2, initial=0, maximum=0, jitter=0)
MANY_RETRIES = RetryPolicy(attempts=50, initial=0, maximum=0, jitter=0)


def events(count: int, tag: str = "e") -> list[dict]:
    return [{"message": f"{tag} {i}", "n": i, "pad": "x" * (i % 7)} for i in range(count)]


def encoded(items: list[dict]) -> list[bytes]:
    return [json.dumps(item).encode() for item in items]


class FirstHost(random.Random):
    """Start at the first host of the list, so the test knows which one is tried first."""

    def randrange(self, *args, **kwargs):
        return 0


def refused_address() -> tuple[str, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()  # nothing listens there once the socket is closed


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.mark.parametrize("level", [0, 3])
def test_several_windows_over_one_connection(receiver, level):
    sink = LumberjackSink([receiver.address], compression_level=level, retry=NO_WAIT)
    batches = [events(n, f"batch{n}") for n in (1, 5, 3)]
    for batch in batches:
        sink.send(encoded(batch))
    sink.close()
    assert receiver.events == [item for batch in batches for item in batch]
    assert (receiver.windows, receiver.connections) == (3, 1)


@pytest.mark.parametrize("pipelining", [1, 2, 3])
def test_large_send_is_split_into_pipelined_windows(receiver, pipelining):
    sink = LumberjackSink([receiver.address], window_size=64, pipelining=pipelining, retry=NO_WAIT)
    sent = events(1000)
    sink.send(encoded(sent))
    sink.close()
    assert receiver.events == sent
    assert receiver.windows == 16  # 15 full windows of 64 and one of 40


def test_describe_names_hosts_and_transport_only():
    sink = LumberjackSink([("logstash.example", 5044), ("backup.example", 5045)], ssl_context=client_context())
    assert sink.describe() == "lumberjack://logstash.example:5044,backup.example:5045 (TLS)"


def test_keepalives_within_the_window_timeout_let_a_slow_ack_through(receiver):
    receiver.faults.ack_delay = 0.6
    receiver.faults.keepalive_interval = 0.1
    sink = LumberjackSink([receiver.address], window_timeout=10, retry=NO_WAIT)
    sink.send(encoded(events(3)))
    sink.close()
    assert receiver.events == events(3)
    assert receiver.keepalives >= 1
    assert receiver.connections == 1


def test_keepalives_do_not_stretch_the_window_deadline(receiver):
    receiver.faults.ack_delay = 1.0
    receiver.faults.keepalive_interval = 0.05  # far more often than the window timeout
    sink = LumberjackSink([receiver.address], window_timeout=0.3, retry=FEW_RETRIES)
    payloads = encoded(events(4))
    with pytest.raises(DeliveryError) as failure:
        sink.send(payloads)
    assert failure.value.acked == 0
    assert "after 1 attempt(s)" in str(failure.value)  # no ACK within window_timeout: retrying would not help
    assert f"timed out waiting for the ACK from 127.0.0.1:{receiver.address[1]}" in str(failure.value)
    assert receiver.keepalives > 0

    receiver.faults.ack_delay = 0  # the pipeline unblocks: the next call gets through
    sink.send(payloads)
    sink.close()
    received = receiver.events
    # Held windows may still be stored after the client left (at-least-once), always whole.
    assert len(received) >= 4 and received == events(4) * (len(received) // 4)


def test_dropped_connections_are_retried_until_everything_arrives(receiver):
    receiver.faults.drop_before_ack = 0.5
    receiver.faults.rng = random.Random(1)
    sink = LumberjackSink([receiver.address], window_size=10, retry=MANY_RETRIES)
    sent = events(100)
    sink.send(encoded(sent))
    sink.close()
    received = receiver.events
    assert receiver.connections > 1  # the seed makes some windows drop
    assert {json.dumps(item) for item in received} == {json.dumps(item) for item in sent}
    assert len(received) > len(sent)  # the dropped windows were stored, then resent


@pytest.mark.parametrize("window_size", [2048, 4])  # one window, or pipelined windows of 4
def test_after_a_partial_ack_only_the_rest_is_resent(receiver, window_size):
    receiver.faults.partial_ack = 1.0  # every window of 2+ events: ACK k < n, then drop
    receiver.faults.rng = random.Random(3)
    sink = LumberjackSink([receiver.address], window_size=window_size, retry=MANY_RETRIES)
    sent = events(20)
    sink.send(encoded(sent))
    sink.close()
    assert receiver.events == sent  # each exactly once, in order
    assert receiver.connections > 2


def test_delivery_error_counts_the_acknowledged_prefix(receiver):
    receiver.faults.partial_ack = 1.0
    sink = LumberjackSink([receiver.address], retry=RetryPolicy(attempts=1))
    with pytest.raises(DeliveryError) as failure:
        sink.send(encoded(events(10)))
    stored = len(receiver.events)
    assert 1 <= failure.value.acked == stored < 10
    assert f"{stored} of 10 events acknowledged" in str(failure.value)


def test_fails_over_from_a_refused_host_within_one_attempt(receiver):
    dead = refused_address()
    sink = LumberjackSink([dead, receiver.address], rng=FirstHost(), retry=RetryPolicy(attempts=1))
    sink.send(encoded(events(3)))
    sink.close()
    assert receiver.events == events(3)


def test_fails_over_to_the_next_host_when_a_window_fails(receiver):
    with Receiver(drop_before_ack=1.0) as flaky:
        sink = LumberjackSink([flaky.address, receiver.address], rng=FirstHost(), retry=FEW_RETRIES)
        sink.send(encoded(events(3)))
        sink.close()
        assert flaky.events == events(3)  # stored but never acknowledged
    assert receiver.events == events(3)


def test_all_hosts_refused_names_every_host():
    hosts = [refused_address(), refused_address()]
    sink = LumberjackSink(hosts, retry=FEW_RETRIES)
    with pytest.raises(DeliveryError) as failure:
        sink.send(encoded(events(2)))
    assert failure.value.acked == 0
    for host, port in hosts:
        assert f"connection refused by {host}:{port}" in str(failure.value)


def test_reconnects_when_the_receiver_closed_an_idle_connection():
    with Receiver(idle_timeout=0.2) as receiver:
        sink = LumberjackSink([receiver.address], retry=RetryPolicy(attempts=1))
        sink.send(encoded(events(2)))
        for _ in range(100):  # up to 5 s for the receiver to close the idle connection
            if not receiver.open_connections:
                break
            threading.Event().wait(0.05)
        sink.send(encoded(events(2, "later")))  # no retry budget: the stale link must be noticed
        sink.close()
        assert receiver.events == events(2) + events(2, "later")
        assert receiver.connections == 2


class ScriptedPeer:
    """A one-connection-at-a-time server answering complete windows with ``reply(count)``.

    With ``hold=2`` it answers only once two windows are complete (both at once), so a client that
    waits for each ACK before sending the next window never gets one.
    """

    def __init__(self, reply, hold: int = 1):
        self.reply = reply
        self.hold = hold
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = self.listener.getsockname()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                decoder, expected, seen, complete = FrameDecoder(), 0, 0, []
                while data := conn.recv(65536):
                    for frame in decoder.feed(data):
                        if isinstance(frame, Window):
                            expected, seen = frame.count, 0
                        elif isinstance(frame, Event):
                            seen += 1
                            if seen == expected:
                                complete.append(expected)
                    if len(complete) >= self.hold:
                        conn.sendall(b"".join(self.reply(count) for count in complete))
                        complete = []

    def close(self):
        self.listener.close()


@pytest.mark.parametrize("pipelining", [1, 2])
def test_pipelining_sends_the_next_window_before_the_ack(pipelining):
    peer = ScriptedPeer(encode_ack, hold=2)
    try:
        sink = LumberjackSink([peer.address], window_size=3, pipelining=pipelining, window_timeout=0.5,
                              retry=RetryPolicy(attempts=1))
        if pipelining == 1:  # the control: one window at a time never gets its ACK from this peer
            with pytest.raises(DeliveryError, match="timed out waiting for the ACK"):
                sink.send(encoded(events(6)))
        else:
            sink.send(encoded(events(6)))
        sink.close()
    finally:
        peer.close()


def test_an_ack_above_the_window_size_is_a_protocol_error():
    peer = ScriptedPeer(lambda count: encode_ack(count + 1))
    try:
        sink = LumberjackSink([peer.address], retry=FEW_RETRIES)
        with pytest.raises(DeliveryError) as failure:
            sink.send(encoded(events(2)))
    finally:
        peer.close()
    assert failure.value.acked == 0
    assert "protocol error" in str(failure.value) and "ACK 3 for a window of 2 events" in str(failure.value)
    assert isinstance(failure.value.__cause__.__cause__, ProtocolError)


def test_keepalives_and_partial_acks_lead_to_the_final_ack():
    peer = ScriptedPeer(lambda count: encode_ack(0) + encode_ack(1) + encode_ack(0) + encode_ack(count))
    try:
        sink = LumberjackSink([peer.address], retry=RetryPolicy(attempts=1))
        sink.send(encoded(events(3)))
        sink.send(encoded(events(2)))  # a second window on the same connection
        sink.close()
    finally:
        peer.close()


def test_a_window_without_its_final_ack_reports_the_partial_count():
    peer = ScriptedPeer(lambda count: encode_ack(0) + encode_ack(2) + encode_ack(0))  # never the final ACK
    try:
        sink = LumberjackSink([peer.address], window_timeout=0.3, retry=RetryPolicy(attempts=1))
        with pytest.raises(DeliveryError) as failure:
            sink.send(encoded(events(3)))
    finally:
        peer.close()
    assert failure.value.acked == 2


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki():
    return make_pki()


def test_tls_with_the_right_ca(pki, tmp_path):
    files = pki.write(tmp_path)
    with Receiver(ssl_context=server_context(files["server_cert"], files["server_key"])) as receiver:
        for host in ("127.0.0.1", "localhost"):  # both are in the certificate
            sink = LumberjackSink([(host, receiver.address[1])], ssl_context=client_context(ca=pki.ca),
                                  window_size=100, retry=NO_WAIT)
            sink.send(encoded(events(3)))
            sink.send(encoded(events(250)))  # same connection, pipelined windows over TLS
            sink.close()
        assert receiver.events == (events(3) + events(250)) * 2
        assert receiver.connections == 2


def test_tls_with_a_wrong_ca_fails_clearly_without_retrying(pki):
    with Receiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as receiver:
        sink = LumberjackSink([receiver.address], ssl_context=client_context(ca=pki.other_ca), retry=FEW_RETRIES)
        with pytest.raises(DeliveryError) as failure:
            sink.send(encoded(events(1)))
        assert receiver.events == []
    message = str(failure.value)
    assert f"certificate verify failed for 127.0.0.1:{receiver.address[1]}" in message
    assert "check logstash_ca" in message and "after 1 attempt(s)" in message


def test_tls_hostname_mismatch_fails(pki):
    other = make_pki(server_names=("logstash.example",))
    with Receiver(ssl_context=server_context(other.server_cert, other.server_key)) as receiver:
        sink = LumberjackSink([receiver.address], ssl_context=client_context(ca=other.ca), retry=NO_WAIT)
        with pytest.raises(DeliveryError, match="not valid for the name '127.0.0.1'"):
            sink.send(encoded(events(1)))
        assert receiver.events == []


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_mutual_tls(pki, version):
    context = server_context(pki.server_cert, pki.server_key, pki.ca, require_client_cert=True)
    context.maximum_version = version  # 1.3 judges the client certificate after the handshake
    stranger = make_pki()  # a client certificate from a CA the receiver does not trust
    with Receiver(ssl_context=context) as receiver:
        with_cert = client_context(ca=pki.ca, cert=pki.client_cert, key=pki.client_key)
        sink = LumberjackSink([receiver.address], ssl_context=with_cert, retry=NO_WAIT)
        sink.send(encoded(events(2)))
        sink.close()

        failures = []
        for rejected in (client_context(ca=pki.ca), client_context(pki.ca, stranger.client_cert, stranger.client_key)):
            sink = LumberjackSink([receiver.address], ssl_context=rejected, retry=FEW_RETRIES)
            with pytest.raises(DeliveryError) as failure:
                sink.send(encoded(events(1, "anonymous")))
            failures.append(str(failure.value))
        assert receiver.events == events(2)
    for message in failures:
        assert "logstash_cert and logstash_key" in message and "after 1 attempt(s)" in message
    # TLS 1.2 answers a missing certificate with a generic handshake failure; the rest is explicit.
    explicit = failures if version == ssl.TLSVersion.TLSv1_3 else failures[1:]
    for message in explicit:
        assert f"127.0.0.1:{receiver.address[1]} rejected our TLS client certificate" in message


def test_tls_without_verification_is_explicit(pki):
    with Receiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as receiver:
        sink = LumberjackSink([receiver.address], ssl_context=client_context(verify=False), retry=NO_WAIT)
        sink.send(encoded(events(1)))
        sink.close()
        assert receiver.events == events(1)


def test_tls_material_from_files_leaves_no_copies(pki, tmp_path, monkeypatch):
    files = pki.write(tmp_path / "given")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    client_context(files["ca"], files["client_cert"], files["client_key"])
    client_context(pki.ca, pki.client_cert, pki.client_key)  # PEM text goes through private temp files
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "parameter", "message"),
    [
        ({"ca": "/no/such/ca.pem"}, "logstash_ca", "neither PEM text nor an existing file: '/no/such/ca.pem'"),
        ({"ca": "-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n"}, "logstash_ca",
         "not a valid PEM"),
        ({"cert": "-----BEGIN CERTIFICATE-----\n"}, "logstash_key", "is missing"),
        ({"key": "-----BEGIN PRIVATE KEY-----\n"}, "logstash_cert", "is missing"),
    ],
)
def test_bad_tls_material_names_the_parameter(arguments, parameter, message):
    with pytest.raises(ConfigError) as failure:
        client_context(**arguments)
    assert failure.value.parameter == parameter and message in str(failure.value)


def test_a_mangled_key_is_never_echoed(pki):
    with pytest.raises(ConfigError) as failure:
        client_context(cert=pki.client_cert, key="MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-s3cr3t")
    assert failure.value.parameter == "logstash_key" and "neither PEM text nor an existing file" in str(failure.value)
    assert "s3cr3t" not in str(failure.value)


def test_bad_client_key_names_both_parameters(pki):
    other = make_pki()
    with pytest.raises(ConfigError, match="logstash_cert/logstash_key.*check that the key belongs to the certificate"):
        client_context(cert=pki.client_cert, key=other.client_key)


def test_required_client_certificates_need_a_ca(pki):
    with pytest.raises(ConfigError, match="tls-ca"):
        server_context(pki.server_cert, pki.server_key, require_client_cert=True)


def test_an_encrypted_client_key_is_a_clear_error_not_a_passphrase_prompt(tmp_path):
    from cryptography.hazmat.primitives import serialization

    import trustme

    from logfwd.errors import ConfigError
    from logfwd.sinks.tls import client_context

    leaf = trustme.CA().issue_cert("logfwd-client@example.org")
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"passphrase"))
    (tmp_path / "key.pem").write_bytes(encrypted)
    (tmp_path / "cert.pem").write_bytes(leaf.cert_chain_pems[0].bytes())
    with pytest.raises(ConfigError, match="unencrypted private key"):
        client_context(cert=str(tmp_path / "cert.pem"), key=str(tmp_path / "key.pem"))
