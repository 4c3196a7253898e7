"""JSON lines over TCP or TLS, as Logstash's ``tcp`` input with the ``json_lines`` codec reads them.

The protocol has no acknowledgement, so "delivered" means *written*: each ``send`` opens a connection,
writes one JSON document per line, ends its side (TLS ``close_notify``; TCP FIN) and waits for the
receiver to end its side after reading everything (``stream.close_confirmed`` says what counts as
proof). A reset, a timeout or unacknowledged bytes instead mean some lines may be lost, so the whole
send counts as undelivered and is retried on the next host (the ids in ``@metadata._id`` let Elasticsearch drop the duplicates). Hosts are tried from
a random one, failing over in order, as the Lumberjack sink does.
"""

import random
import socket
import ssl
import time
from typing import Sequence

from ...codecs.jsonbytes import json_payloads
from ...deadline import NO_DEADLINE, Deadline
from ...errors import ConfigError, DeliveryError, SinkError, SinkTransientError
from ...plugs import WRITTEN
from ...retry import RetryPolicy
from ..stream import close_confirmed, open_connection, write_all

__all__ = ["TcpSink"]

_DRAIN = 65536


class TcpSink:
    guarantee = WRITTEN

    def __init__(self, hosts: Sequence[tuple[str, int]], *, ssl_context: ssl.SSLContext | None = None,
                 connect_timeout: float = 10.0, send_timeout: float = 30.0, retry: RetryPolicy = RetryPolicy(),
                 rng: random.Random | None = None):
        if not hosts:
            raise ConfigError("logstash_hosts", "is empty", "give at least one host:port of a Logstash tcp input")
        self.hosts = [(host, int(port)) for host, port in hosts]
        self.ssl_context = ssl_context
        self.connect_timeout = connect_timeout
        self.send_timeout = send_timeout
        self.retry = retry
        self._next_host = (rng or random.Random()).randrange(len(self.hosts))
        self.batches_sent = 0

    def encode(self, events) -> list[bytes]:
        return json_payloads(events)

    def describe(self) -> str:
        hosts = ",".join(f"{host}:{port}" for host, port in self.hosts)
        return f"tcp+json_lines://{hosts} ({'TLS' if self.ssl_context else 'plain'})"

    def send(self, payloads: Sequence[bytes], deadline: Deadline = NO_DEADLINE) -> None:
        if not payloads:
            return
        data = b"\n".join([*payloads, b""])  # each line ended by \n, in one copy
        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            if deadline.expired():
                raise SinkError("the run's deadline passed")
            self._deliver(data, deadline)

        try:
            self.retry.call(attempt, deadline)
        except SinkError as exc:
            raise DeliveryError(f"delivery to {self.describe()} failed after {attempts} attempt(s), none of "
                                f"{len(payloads)} lines confirmed: {exc}", acked=0) from exc
        self.batches_sent += 1

    def close(self) -> None:
        """Nothing to release: every send closes its own connection."""

    def _deliver(self, data: bytes, deadline: Deadline) -> None:
        """One connection to the next host: write, close our side, wait for the receiver's close."""
        host, port = self.hosts[self._next_host]
        where = f"{host}:{port}"
        sock = self._connect(host, port, deadline.budget(self.connect_timeout))
        until = time.monotonic() + deadline.budget(self.send_timeout)
        try:
            write_all(sock, data, until, f"writing to {where}")
            close_confirmed(sock, until, where)
        except BaseException as exc:
            self._next_host = (self._next_host + 1) % len(self.hosts)  # fail over
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise SinkError(f"TLS certificate of {where} rejected: {exc.verify_message}") from None
            if isinstance(exc, TimeoutError):
                raise SinkTransientError(f"timed out writing to {where}") from None
            if isinstance(exc, OSError):
                raise SinkTransientError(f"connection to {where} failed before it closed cleanly: {exc}") from exc
            raise
        finally:
            sock.close()

    def _connect(self, host: str, port: int, timeout: float) -> socket.socket:
        try:
            return open_connection(host, port, timeout, self.ssl_context)
        except SinkError:
            self._next_host = (self._next_host + 1) % len(self.hosts)  # fail over
            raise
