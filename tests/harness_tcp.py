"""The tcp sink's harness for the sink contract suite: a json_lines receiver (tests/jsonlines_receiver.py)."""

import contextlib
from typing import Iterator

from jsonlines_receiver import JsonLinesReceiver
from tlsutil import make_pki

from logfwd.sinks.tls import server_context


class _RunningJsonLines:
    def __init__(self, receiver: JsonLinesReceiver, pki):
        self.receiver, self.pki = receiver, pki
        self.earlier: list[str] = []  # what the receiver got before a restart

    def params(self) -> dict:
        params = {"sink": "tcp", "logstash_hosts": f"127.0.0.1:{self.receiver.port}", "logstash_tls": "false"}
        if self.pki:
            params.update(logstash_tls="true", logstash_ca=self.pki.ca, logstash_cert=self.pki.client_cert,
                          logstash_key=self.pki.client_key)
        return params

    def messages(self) -> list[str]:
        return self.earlier + [line["message"] for line in self.receiver.lines]

    def stop(self) -> None:
        self.receiver.stop()

    def start(self) -> None:
        self.earlier = self.messages()
        self.receiver = JsonLinesReceiver(self.receiver.ssl_context, port=self.receiver.port).start()


class TcpHarness:
    name = "tcp"
    confirms = True
    secret_param = "logstash_key"

    @contextlib.contextmanager
    def running(self, tls: bool = False) -> Iterator[_RunningJsonLines]:
        pki = make_pki() if tls else None
        context = server_context(pki.server_cert, pki.server_key, pki.ca) if pki else None
        running = _RunningJsonLines(JsonLinesReceiver(context).start(), pki)
        try:
            yield running
        finally:
            running.receiver.stop()
