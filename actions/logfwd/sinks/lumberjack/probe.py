"""``logfwd check`` for the Lumberjack sink, per Logstash host: the TCP connection, the TLS handshake
(certificate and host name verified, the client certificate accepted), and, only when allowed to send
one test event, that the host speaks Lumberjack and acknowledges it."""

import socket
import time
import uuid
from datetime import datetime, timezone
from typing import Iterator

from ...checklist import ERROR, OK, SKIPPED, WARNING, Item
from ...errors import SinkError
from ...retry import RetryPolicy
from ..tls import client_context, handshake
from .sink import LumberjackSink

CONNECT_TIMEOUT = 10.0


def probe(settings, context, options) -> Iterator[Item]:
    values = settings.values
    ssl_context = None
    if values["logstash_tls"]:
        key = values["logstash_key"]
        ssl_context = client_context(values["logstash_ca"], values["logstash_cert"], key.reveal() if key else None)
    for host, port in values["logstash_hosts"]:
        yield from _host(host, port, ssl_context, bool(values["logstash_cert"]), values, options)


def _host(host: str, port: int, ssl_context, client_cert: bool, values, options) -> Iterator[Item]:
    area = f"logstash {host}:{port}"
    try:
        sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    except socket.gaierror as exc:
        yield Item(area, ERROR, f"cannot resolve {host!r} ({exc.strerror})", "Check logstash_hosts.")
        return
    except ConnectionRefusedError:
        yield Item(area, ERROR, "connection refused: nothing listens there",
                   "Check logstash_hosts, and that Logstash's beats input runs (port 5044 by default).")
        return
    except OSError as exc:  # a timeout, an unreachable network
        yield Item(area, ERROR, f"cannot connect: {exc}", "Check logstash_hosts and the firewall between.")
        return
    yield Item(area, OK, "TCP connection accepted")
    try:
        if ssl_context is None:
            yield Item(area, WARNING, "plain TCP: events cross the network unencrypted (logstash_tls=false)",
                       "Use logstash_tls=true unless Logstash runs on this machine or a private network.")
        else:
            try:
                sock = handshake(sock, ssl_context, host, port)
            except SinkError as exc:
                yield Item(area, ERROR, str(exc))
                return
            client = ", client certificate accepted" if client_cert else ""
            yield Item(area, OK, f"TLS handshake ({sock.version()}): certificate verified for {host!r}{client}")
    finally:
        sock.close()
    if not options.send_test_event:
        yield Item(area, SKIPPED, "speaks Lumberjack: not tested, nothing was sent",
                   "Run with --send-test-event to send one test event (Logstash indexes it like any other).")
        return
    yield _test_event(area, host, port, ssl_context, values)


def _test_event(area: str, host: str, port: int, ssl_context, values) -> Item:
    event_id = f"logfwd-check-{uuid.uuid4().hex}"
    event = {"@timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
             "message": "logfwd check: test event", "event": {"kind": "event", "dataset": "logfwd.check"},
             "@metadata": {"_id": event_id}, "logfwd": {"check": True}}
    sink = LumberjackSink([(host, port)], ssl_context=ssl_context, compression_level=values["compression_level"],
                          window_timeout=values["window_timeout"], retry=RetryPolicy(attempts=1))
    started = time.monotonic()
    try:
        sink.send(sink.encode([event]))
    except SinkError as exc:
        return Item(area, ERROR, f"the test event was not acknowledged: {exc}")
    finally:
        sink.close()
    took = time.monotonic() - started
    return Item(area, OK, f"speaks Lumberjack: the test event {event_id} was acknowledged in {took:.2f} s")
