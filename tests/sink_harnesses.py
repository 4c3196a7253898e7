"""One harness per registered sink, for the sink contract suite (``test_sink_contract.py``).

A harness starts a real receiver for its sink, gives the parameters that point the sink at it, and
reads back the ``message`` of every event that arrived. Adding a sink means adding its harness to
``HARNESSES``; the suite fails for a registered sink without one.
"""

import contextlib
import socket
from typing import Iterator, Protocol

from servers_rsyslog import SyslogHarness
from harness_tcp import TcpHarness
from tlsutil import make_pki

from logfwd_dev.receiver.server import Receiver
from logfwd.sinks.tls import server_context


class Harness(Protocol):
    name: str
    confirms: bool  # does the sink learn that events arrived (acknowledged/written) or not (best effort)?
    secret_param: str  # a parameter whose value must never be printed

    def running(self, tls: bool = False) -> "contextlib.AbstractContextManager[Running]":
        """A receiver, started; stops at the end of the block."""


class Running(Protocol):
    def params(self) -> dict: ...
    def messages(self) -> list[str]: ...
    def stop(self) -> None: ...
    def start(self) -> None: ...


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


class _RunningLumberjack:
    def __init__(self, receiver: Receiver, pki):
        self.receiver, self.pki, self.port = receiver, pki, receiver.address[1]
        self.earlier: list[str] = []  # what receivers before a restart got

    def params(self) -> dict:
        params = {"sink": "lumberjack", "logstash_hosts": f"127.0.0.1:{self.port}", "logstash_tls": "false"}
        if self.pki:
            params.update(logstash_tls="true", logstash_ca=self.pki.ca, logstash_cert=self.pki.client_cert,
                          logstash_key=self.pki.client_key)
        return params

    def messages(self) -> list[str]:
        return self.earlier + [event["message"] for event in self.receiver.events]

    def stop(self) -> None:
        self.receiver.stop()

    def start(self) -> None:
        self.earlier = self.messages()
        self.receiver = Receiver(port=self.port, ssl_context=self.receiver.ssl_context).start()


class LumberjackHarness:
    name = "lumberjack"
    confirms = True
    secret_param = "logstash_key"

    @contextlib.contextmanager
    def running(self, tls: bool = False) -> Iterator[_RunningLumberjack]:
        pki = make_pki() if tls else None
        context = server_context(pki.server_cert, pki.server_key, pki.ca) if pki else None
        running = _RunningLumberjack(Receiver(ssl_context=context).start(), pki)
        try:
            yield running
        finally:
            running.receiver.stop()


from drain_harnesses import StatsdHarness  # noqa: E402


class _RunningTee:
    """Two receivers; a message counts as delivered when both got it (a tee delivers to every sink)."""

    def __init__(self, names: str, parts: list):
        self.names, self.parts = names, parts

    def params(self) -> dict:
        merged = {}
        for part in self.parts:
            merged.update(part.params())
        return {**merged, "sink": self.names}

    def messages(self) -> list[str]:
        first, second = (part.messages() for part in self.parts)
        both = []
        for message in first:
            if message in second:
                second.remove(message)
                both.append(message)
        return both

    def stop(self) -> None:
        for part in self.parts:
            part.stop()

    def start(self) -> None:
        for part in self.parts:
            part.start()


class TeeHarness:
    """``sink=lumberjack,syslog``: the tee of two sinks keeps the contract of one."""

    name = "lumberjack,syslog"
    confirms = True
    secret_param = "logstash_key"

    @contextlib.contextmanager
    def running(self, tls: bool = False) -> Iterator[_RunningTee]:
        with LumberjackHarness().running(tls) as lumberjack, SyslogHarness().running(tls) as syslog:
            yield _RunningTee(self.name, [lumberjack, syslog])


HARNESSES: dict[str, Harness] = {
    "lumberjack": LumberjackHarness(),
    "syslog": SyslogHarness(),
    "statsd": StatsdHarness(),
    "tcp": TcpHarness(),
    "lumberjack,syslog": TeeHarness(),
}
