"""Lumberjack v2 sink: delivers serialized JSON events to Logstash (or any Beats receiver).

``send`` returns only once every event is acknowledged. Around the pure codec it adds what real
receivers need (see reference/lumberjack.md): windows numbered 1..n, an overall deadline per window
that keepalives (``2A 0``) cannot stretch, resending only the unacknowledged tail after a partial
ACK, failover across hosts, connection reuse, and up to ``pipelining`` windows in flight. A send
gives up once ``window_timeout`` passes without an ACK, across its attempts: retrying a receiver that
only sends keepalives would hold the run for attempts x window_timeout.
"""

import collections
import random
import select
import socket
import ssl
import time
from dataclasses import dataclass, field, replace
from typing import Sequence

from ...codecs.jsonbytes import json_payloads
from ...codecs.lumberjack import AckDecoder, encode_window, foreign_protocol
from ...deadline import NO_DEADLINE, Deadline
from ...errors import ConfigError, DeliveryError, ProtocolError, SinkError, SinkTransientError
from ...plugs import ACKNOWLEDGED
from ...retry import RetryPolicy
from ..stream import open_connection
from ..tls import client_cert_rejected, rejection_message

__all__ = ["LumberjackSink"]

_RECV_SIZE = 4096
_SEND_CHUNK = 1 << 20


class _Link:
    """One open connection to one receiver: a socket and the ACK bytes it still owes us."""

    def __init__(self, sock: socket.socket, where: str):
        self.sock = sock
        self.where = where
        self.acks = AckDecoder()
        self.received = b""  # the first bytes the peer sent: they tell what it speaks when it is not Lumberjack

    def send(self, data: bytes, until: float) -> None:
        """Write everything before ``until`` (monotonic), in chunks so the limit holds for TLS too."""
        view = memoryview(data)
        offset = 0
        while offset < len(view):
            self.sock.settimeout(_left(until, f"sending a window to {self.where}"))
            try:
                offset += self.sock.send(view[offset : offset + _SEND_CHUNK])
            except TimeoutError:
                raise SinkTransientError(f"timed out sending a window to {self.where}") from None

    def read_acks(self, until: float) -> list[int]:
        """The next ACK numbers (keepalives included), waiting no later than ``until``."""
        while True:
            self.sock.settimeout(_left(until, f"waiting for the ACK from {self.where}"))
            try:
                data = self.sock.recv(_RECV_SIZE)
            except TimeoutError:
                # A blocked Logstash still sends keepalives; silence from the start is another protocol.
                silent = "" if self.received else (": not a byte came back, is it a Beats input? (an HTTP "
                                                   "server, for one, waits silently for more)")
                raise SinkTransientError(f"timed out waiting for the ACK from {self.where}{silent}") from None
            if not data:
                raise SinkTransientError(f"{self.where} closed the connection before acknowledging the window")
            self._keep(data)
            acks = self.acks.feed(data)
            if acks:
                return acks

    def _keep(self, data: bytes) -> None:
        if len(self.received) < 16:
            self.received += data[: 16 - len(self.received)]

    def peer_bytes(self) -> bytes:
        """What the peer sent so far, including what still waits unread (e.g. an HTTP error page that
        came back while we were writing, before it closed the connection)."""
        try:
            self.sock.setblocking(False)
            self._keep(self.sock.recv(16))
        except (OSError, ValueError):
            pass
        return self.received

    def idle_and_open(self) -> bool:
        """Between windows, is the connection still usable? (Logstash closes idle clients after 60 s.)"""
        try:
            if not select.select([self.sock], [], [], 0)[0]:
                return True
            self.sock.setblocking(False)
            data = self.sock.recv(_RECV_SIZE)
        except (ssl.SSLWantReadError, BlockingIOError):
            return True  # only TLS housekeeping (e.g. session tickets) was waiting
        except (OSError, ValueError):
            return False
        try:
            return bool(data) and not any(self.acks.feed(data))  # keepalives are fine, anything else is not
        except ProtocolError:
            return False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _left(until: float, doing: str) -> float:
    """Seconds until ``until``; the window deadline (window_timeout, or the run's deadline if sooner)."""
    left = until - time.monotonic()
    if left <= 0:
        raise SinkTransientError(f"timed out {doing}")
    return left


class LumberjackSink:
    """Delivers windows of serialized JSON objects over Lumberjack v2, at least once.

    ``hosts`` are tried starting from a random one (as Filebeat does) and failed over in order; with
    ``loadbalance``, windows are spread over all healthy hosts at once (``balance.py``). Payloads
    beyond ``window_size`` go out as several windows, ``pipelining`` of them in flight per connection.
    """

    def __init__(self, hosts: Sequence[tuple[str, int]], *, ssl_context: ssl.SSLContext | None = None,
                 compression_level: int = 3, window_timeout: float = 30.0, connect_timeout: float = 10.0,
                 retry: RetryPolicy = RetryPolicy(), rng: random.Random | None = None,
                 window_size: int = 2048, pipelining: int = 2, loadbalance: bool = False):
        if not hosts:
            raise ConfigError("logstash_hosts", "is empty", "give at least one host:port")
        if not 0 <= compression_level <= 9:
            raise ConfigError("compression_level", f"must be 0..9, not {compression_level}",
                              "use 3 (Filebeat's default)")
        self.hosts = [(host, int(port)) for host, port in hosts]
        self.ssl_context = ssl_context
        self.compression_level = compression_level
        self.window_timeout = window_timeout
        self.connect_timeout = connect_timeout
        self.retry = retry
        self.window_size = max(1, window_size)
        self.pipelining = max(1, pipelining)
        self._next_host = (rng or random.Random()).randrange(len(self.hosts))
        self._link: _Link | None = None
        self.batches_sent = 0
        self.wire_bytes = 0  # bytes of the acknowledged windows as sent: after compression and framing
        self._balancer = None
        if loadbalance and len(self.hosts) > 1:
            from .balance import Balancer

            self._balancer = Balancer(self)
        # How many windows one send should carry to keep every connection's pipeline full.
        self.windows_per_send = self.pipelining * (len(self.hosts) if self._balancer else 1)

    guarantee = ACKNOWLEDGED
    encode = staticmethod(json_payloads)

    def describe(self) -> str:
        hosts = ",".join(f"{host}:{port}" for host, port in self.hosts)
        balanced = ", load-balanced" if self._balancer else ""
        return f"lumberjack://{hosts} ({'TLS' if self.ssl_context else 'plain'}{balanced})"

    def send(self, payloads: Sequence[bytes], deadline: Deadline = NO_DEADLINE) -> None:
        """Deliver ``payloads``; raise ``DeliveryError`` (with how many are safe) if that fails."""
        progress = _Progress(total=len(payloads))
        if not progress.total:
            return
        if self._balancer is not None:
            return self._send_balanced(payloads, progress, deadline)
        # Every attempt shares one deadline, moved on by each ACK: window_timeout without any progress
        # ends the send, however many attempts are left (keepalives are not progress).
        progress.stalled = replace(deadline, at=min(deadline.remaining(), self.window_timeout) + deadline.clock(),
                                   grace=0.0)
        try:
            self.retry.call(lambda: self._attempt(payloads, progress, deadline), progress.stalled)
        except SinkError as exc:
            raise DeliveryError(
                f"delivery to {self.describe()} failed after {progress.attempts} attempt(s), "
                f"{progress.acked} of {progress.total} events acknowledged: {exc}",
                acked=progress.acked,
            ) from exc

    def _send_balanced(self, payloads: Sequence[bytes], progress: "_Progress", deadline: Deadline) -> None:
        from .balance import Plan

        plan = Plan(len(payloads), self.window_size)

        def attempt() -> None:
            progress.attempts += 1
            if deadline.expired():
                raise SinkError("the run's deadline passed")
            try:
                self._balancer.attempt(payloads, plan, deadline)
            finally:
                self.batches_sent += plan.completed
                self.wire_bytes += plan.wire_bytes
                plan.completed = plan.wire_bytes = 0

        try:
            self.retry.call(attempt, deadline)
        except SinkError as exc:
            acked = plan.acked_prefix()
            raise DeliveryError(
                f"delivery to {self.describe()} failed after {progress.attempts} attempt(s), "
                f"{acked} of {progress.total} events acknowledged in order: {exc}",
                acked=acked,
            ) from exc

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        if self._balancer is not None:
            self._balancer.close()

    def _attempt(self, payloads: Sequence[bytes], progress: "_Progress", deadline: Deadline) -> None:
        progress.attempts += 1
        if deadline.expired():
            raise SinkError("the run's deadline passed")
        link = self._connect(deadline)
        try:
            self._stream(link, payloads, progress, deadline)
        except BaseException as exc:
            explained = None
            if isinstance(exc, (OSError, ProtocolError, SinkTransientError)):
                explained = _explain(exc, link, tls=self.ssl_context is not None)  # before the socket closes
            # The stream is in an unknown state: drop it, and try the next host next time (failover).
            self.close()
            self._next_host = (self._next_host + 1) % len(self.hosts)
            if explained is not None and explained is not exc:
                raise explained from exc
            raise

    def _stream(self, link: _Link, payloads: Sequence[bytes], progress: "_Progress", deadline: Deadline) -> None:
        """Send windows from the first unacknowledged payload on; return once all are acknowledged."""
        in_flight: collections.deque[int] = collections.deque()  # window sizes, oldest first
        wire: collections.deque[int] = collections.deque()  # their bytes as sent (framed, compressed)
        head_acked = 0  # events of the oldest window in flight acknowledged so far
        sent = progress.acked
        until = 0.0
        while progress.acked < progress.total:
            while len(in_flight) < self.pipelining and sent < progress.total:
                size = min(self.window_size, progress.total - sent)
                window = encode_window(payloads[sent : sent + size], self.compression_level)
                if not in_flight:
                    until = time.monotonic() + progress.stalled.budget(self.window_timeout)
                link.send(window, until)
                in_flight.append(size)
                wire.append(len(window))
                sent += size
            for seq in link.read_acks(until):
                if seq == 0:
                    continue  # keepalive: the receiver is working on it; the window deadline stands
                if not in_flight or seq > in_flight[0]:
                    size = in_flight[0] if in_flight else 0
                    raise ProtocolError(f"ACK {seq} for a window of {size} events")
                if seq > head_acked:
                    progress.acked += seq - head_acked
                    head_acked = seq
                    progress.stalled.at = deadline.clock() + deadline.budget(self.window_timeout)
                if seq == in_flight[0]:
                    in_flight.popleft()
                    self.wire_bytes += wire.popleft()
                    head_acked = 0
                    self.batches_sent += 1
                    # The next window's own deadline starts now that it is the oldest.
                    until = time.monotonic() + progress.stalled.budget(self.window_timeout)

    def _connect(self, deadline: Deadline) -> _Link:
        """The open connection if it is still good, else a new one: each host once, in order."""
        if self._link is not None:
            if self._link.idle_and_open():
                return self._link
            self.close()
        failures: list[SinkError] = []
        for step in range(len(self.hosts)):
            index = (self._next_host + step) % len(self.hosts)
            try:
                self._link = self._open(*self.hosts[index], deadline.budget(self.connect_timeout))
            except SinkError as exc:
                failures.append(exc)
                continue
            self._next_host = index
            return self._link
        message = "; ".join(str(failure) for failure in failures)
        if all(not isinstance(failure, SinkTransientError) for failure in failures):
            raise SinkError(message)  # e.g. certificates: waiting will not fix them
        raise SinkTransientError(message)

    def _open(self, host: str, port: int, timeout: float) -> _Link:
        return _Link(open_connection(host, port, timeout, self.ssl_context), f"{host}:{port}")


@dataclass
class _Progress:
    """How far one ``send`` call got, across attempts."""

    total: int
    acked: int = 0
    attempts: int = 0
    stalled: Deadline = field(default_factory=Deadline)  # when the send gives up for want of an ACK


def _explain(exc: Exception, link: _Link, tls: bool) -> SinkError:
    """A failure on an open connection, as a SinkError that names the likely cause; certificate
    trouble and a peer that speaks another protocol are permanent (retrying will not change them)."""
    where = link.where
    if client_cert_rejected(exc):  # TLS 1.3: the verdict may come after the handshake
        return SinkError(rejection_message(where, exc))
    spoken = foreign_protocol(link.peer_bytes())
    if spoken == "HTTP":
        return SinkError(f"{where} answered with HTTP: it is not a Beats (Lumberjack) input ({exc}). "
                         "Check logstash_hosts: Logstash's beats input listens on port 5044 by default")
    if spoken == "TLS" and not tls:
        return SinkError(f"{where} answered with TLS: TLS expected ({exc}). Set logstash_tls=true "
                         "(and logstash_ca if its certificate is not signed by a public CA)")
    if isinstance(exc, ProtocolError):
        return SinkTransientError(f"protocol error from {where}: {exc}")
    if isinstance(exc, SinkTransientError):
        return exc
    hint = ""
    if not tls and not link.received and isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        # A TLS port drops a plain client without a word: the reset is all the client sees.
        hint = "; TLS expected? If it is a TLS port (Logstash's ssl_enabled), set logstash_tls=true"
    return SinkTransientError(f"connection to {where} failed: {exc}{hint}")
