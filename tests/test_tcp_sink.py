"""The tcp sink (json_lines to Logstash's tcp input) against a real local receiver: plain and TLS
(verified by default), failover across hosts, and every way a send can fail without being claimed."""

import random
import socket
from types import SimpleNamespace

import pytest

from jsonlines_receiver import JsonLinesReceiver
from logfwd.deadline import Deadline
from logfwd.errors import ConfigError, DeliveryError
from logfwd.plugs import WRITTEN, plug
from logfwd.retry import NO_WAIT, RetryPolicy
from logfwd.sinks.tcp.sink import TcpSink
from logfwd.sinks.tls import client_context, server_context
from tlsutil import make_pki

EVENTS = [{"@metadata": {"_id": f"id-{i}"}, "message": f"line {i}\nwith a newline", "n": i} for i in range(500)]


@pytest.fixture(scope="module")
def pki():
    return make_pki()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_json_lines_arrive_in_order_one_per_line():
    with JsonLinesReceiver() as receiver:
        sink = TcpSink([receiver.address], retry=NO_WAIT)
        payloads = sink.encode(EVENTS)
        assert all(b"\n" not in payload for payload in payloads)  # newlines inside strings are escaped
        sink.send(payloads[:200])
        sink.send(payloads[200:])
    assert receiver.lines == EVENTS
    assert sink.guarantee == WRITTEN and sink.batches_sent == 2 and receiver.connections == 2


def test_tls_is_verified_and_works_with_the_right_ca(pki):
    with JsonLinesReceiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as receiver:
        host, port = receiver.address
        TcpSink([(host, port)], ssl_context=client_context(pki.ca), retry=NO_WAIT).send([b'{"a":1}'])
        assert receiver.lines == [{"a": 1}]
        wrong = TcpSink([(host, port)], ssl_context=client_context(pki.other_ca), retry=NO_WAIT)
        with pytest.raises(DeliveryError, match="certificate verify failed.*check logstash_ca") as failure:
            wrong.send([b'{"a":2}'])
        assert failure.value.acked == 0
        by_name = TcpSink([("localhost", port)], ssl_context=client_context(pki.ca), retry=NO_WAIT)
        by_name.send([b'{"a":3}'])
    assert receiver.lines == [{"a": 1}, {"a": 3}]


def test_fails_over_to_the_next_host_when_one_refuses():
    with JsonLinesReceiver() as receiver:
        dead = ("127.0.0.1", free_port())
        sink = TcpSink([dead, receiver.address], retry=NO_WAIT, rng=random.Random(0))
        sink._next_host = 0  # start at the dead one
        sink.send([b'{"x":1}'])
        sink.send([b'{"x":2}'])
    assert receiver.lines == [{"x": 1}, {"x": 2}]
    assert sink.describe() == f"tcp+json_lines://127.0.0.1:{dead[1]},127.0.0.1:{receiver.address[1]} (plain)"


def test_refused_everywhere_names_the_host_and_claims_nothing():
    port = free_port()
    with pytest.raises(DeliveryError, match=rf"after 5 attempt\(s\), none of 1 lines confirmed: connection "
                                            rf"refused by 127.0.0.1:{port}: is the receiver listening there\?") as failure:
        TcpSink([("127.0.0.1", port)], retry=NO_WAIT).send([b"{}"])
    assert failure.value.acked == 0


def test_a_receiver_that_never_closes_is_a_timeout_not_a_delivery():
    with JsonLinesReceiver() as receiver:
        receiver.hold = True
        sink = TcpSink([receiver.address], send_timeout=1.0, retry=RetryPolicy(attempts=1))
        with pytest.raises(DeliveryError, match="timed out waiting for 127.0.0.1:[0-9]+ to close the connection") as failure:
            sink.send([b'{"held":1}'])
        receiver.hold = False
    assert failure.value.acked == 0 and sink.batches_sent == 0


def test_an_expired_deadline_sends_nothing():
    with JsonLinesReceiver() as receiver:
        with pytest.raises(DeliveryError, match="deadline passed"):
            TcpSink([receiver.address], retry=NO_WAIT).send([b"{}"], Deadline(at=0.0))
    assert receiver.connections == 0


def test_the_plug_builds_a_verifying_tls_sink_and_checks_its_parameters(pki):
    declaration = plug("sink", "tcp")
    assert declaration.guarantee == WRITTEN
    values = {"logstash_hosts": (("127.0.0.1", 1),), "logstash_tls": True, "logstash_ca": pki.ca,
              "logstash_cert": None, "logstash_key": None, "tcp_connect_timeout": 1.0, "tcp_send_timeout": 2.0}
    sink = declaration.build(SimpleNamespace(values=values), SimpleNamespace(retry=NO_WAIT))
    assert sink.ssl_context.check_hostname and sink.describe() == "tcp+json_lines://127.0.0.1:1 (TLS)"
    with pytest.raises(ConfigError, match="'logstash_key': is missing while logstash_cert is set"):
        declaration.check({**values, "logstash_cert": pki.client_cert})
    with pytest.raises(ConfigError, match="'logstash_tls': is false but TLS material"):
        declaration.check({**values, "logstash_tls": False})
    with pytest.raises(ConfigError, match="'logstash_hosts': is empty"):
        TcpSink([])
