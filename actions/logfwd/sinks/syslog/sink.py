"""Syslog over TLS, TCP or UDP. Syslog has no application ACK, so what "delivered" means is chosen here.

TLS and TCP (guarantee WRITTEN): each ``send`` opens a connection, writes the whole batch, then ends
the connection and waits for the receiver to end it too: TLS sends ``close_notify`` and waits for the
receiver's ``close_notify`` or its closing of the connection (rsyslog closes without answering);
plain TCP half-closes and waits for the receiver's EOF. The batch counts as delivered only if, at
that point, the receiver's TCP has acknowledged every byte (the socket's send queue is empty): a
receiver closes with a reset, not an EOF, when it leaves bytes unread, so an EOF after all our bytes
were acknowledged means its process read them all. What it does with them next (a full disk, a crash
before writing) is beyond what syslog can tell (RFC 5425 6.3). Anything else raises ``DeliveryError``
with nothing counted delivered; the retry policy reconnects and re-sends the batch, so a receiver may
see a line twice (each carries its id in the structured data), never zero times once confirmed.

UDP (guarantee BEST_EFFORT): one message per datagram, delivered once the kernel accepted it.
"""

import socket
import ssl
import time
from dataclasses import dataclass
from typing import Sequence

from ...deadline import NO_DEADLINE, Deadline
from ...errors import DeliveryError, SinkError, SinkTransientError
from ...plugs import BEST_EFFORT, WRITTEN
from ...retry import RetryPolicy
from ..stream import close_confirmed, time_left
from ..tls import handshake
from .encode import SyslogEncoder

__all__ = ["SyslogSink", "TRANSPORTS"]

TRANSPORTS = ("tls", "tcp", "udp")
_CHUNK = 1 << 20
_RENAMED = {"logstash_ca": "syslog_ca", "logstash_cert": "syslog_cert", "logstash_key": "syslog_key"}


@dataclass
class SyslogSink:
    host: str
    port: int
    encoder: SyslogEncoder
    transport: str = "tls"
    ssl_context: ssl.SSLContext | None = None
    connect_timeout: float = 10.0
    timeout: float = 30.0
    retry: RetryPolicy = RetryPolicy()

    def __post_init__(self):
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {self.transport!r}")
        if self.transport == "tls" and self.ssl_context is None:
            raise ValueError("the tls transport needs an ssl_context")
        self.guarantee = BEST_EFFORT if self.transport == "udp" else WRITTEN
        self.batches_sent = 0
        self.where = f"{self.host}:{self.port}"
        self._udp: socket.socket | None = None
        self.encode = self.encoder  # events -> payloads: the encoder itself, not a method calling it, once a record

    def describe(self) -> str:
        return f"syslog+{self.transport}://{self.where} ({self.encoder.framing} framing)"

    def send(self, payloads: Sequence[bytes], deadline: Deadline = NO_DEADLINE) -> None:
        if not payloads:
            return
        if self.transport == "udp":
            return self._send_datagrams(payloads)
        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            self._send_stream(payloads, deadline)

        try:
            self.retry.call(attempt, deadline)
        except SinkError as exc:
            raise DeliveryError(f"delivery to {self.describe()} failed after {attempts} attempt(s); none of "
                                f"the {len(payloads)} messages is confirmed: {exc}", acked=0) from exc
        self.batches_sent += 1

    def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    def _send_stream(self, payloads: Sequence[bytes], deadline: Deadline) -> None:
        if deadline.expired():
            raise SinkError("the run's deadline passed")
        until = time.monotonic() + deadline.budget(self.timeout)
        sock = self._connect(deadline)
        try:
            for start in range(0, len(payloads), 4096):  # a few large writes, not one per message
                data = memoryview(b"".join(payloads[start:start + 4096]))  # sliced without copying
                for offset in range(0, len(data), _CHUNK):
                    sock.settimeout(time_left(until, f"writing to {self.where}"))
                    sock.sendall(data[offset:offset + _CHUNK])
            close_confirmed(sock, until, self.where)  # see the module docstring
        except TimeoutError:
            raise SinkTransientError(f"timed out writing to {self.where} (syslog_timeout {self.timeout:g}s)") from None
        except ssl.SSLError as exc:
            raise SinkTransientError(f"TLS connection to {self.where} failed: {exc}") from exc
        except OSError as exc:
            raise SinkTransientError(f"connection to {self.where} failed while writing: {exc}") from exc
        finally:
            sock.close()

    def _connect(self, deadline: Deadline) -> socket.socket:
        timeout = deadline.budget(self.connect_timeout)
        if timeout <= 0:
            raise SinkTransientError(f"no time left to connect to {self.where} before the run's deadline")
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except socket.gaierror as exc:
            raise SinkTransientError(f"cannot resolve {self.host!r} ({exc.strerror}): check syslog_host") from exc
        except ConnectionRefusedError:
            raise SinkTransientError(f"connection refused by {self.where}: is the receiver listening there, "
                                     f"for {self.transport}?") from None
        except TimeoutError:
            raise SinkTransientError(f"connecting to {self.where} timed out after {timeout:.3g}s") from None
        except OSError as exc:
            raise SinkTransientError(f"cannot connect to {self.where}: {exc}") from exc
        # No Nagle: the batch's last bytes and the close_notify after them would otherwise wait for the
        # receiver's delayed ACK of what went before (up to 40 ms a connection on Linux).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is None:
            return sock
        try:
            return handshake(sock, self.ssl_context, self.host, self.port)
        except SinkError as exc:
            sock.close()
            raise type(exc)(_renamed(str(exc))) from None

    def _send_datagrams(self, payloads: Sequence[bytes]) -> None:
        if self._udp is None:
            try:
                self._udp = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_DGRAM)
                self._udp.connect((self.host, self.port))
            except OSError as exc:
                self.close()
                raise DeliveryError(f"cannot send UDP to {self.where}: {exc}", acked=0) from exc
        for index, payload in enumerate(payloads):
            try:
                self._udp.send(payload)
            except OSError as exc:
                raise DeliveryError(f"UDP datagram {index + 1} of {len(payloads)} to {self.where} refused: {exc}",
                                    acked=index) from exc
        self.batches_sent += 1


def _renamed(message: str) -> str:
    for old, new in _RENAMED.items():
        message = message.replace(old, new)
    return message
