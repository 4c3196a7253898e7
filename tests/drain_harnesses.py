"""The logplex source and the statsd sink in the contract suites (``source_harnesses``, ``sink_harnesses``)."""

import base64
import contextlib
import secrets
import uuid
from typing import Iterator

from logplex_frames import body
from servers_statsd import Statsd, run_statsd


class LogplexHarness:
    """A drain request whose frames are app lines, one per message; every line becomes an event."""

    name = "logplex"

    @contextlib.contextmanager
    def source(self, messages: list[str], bad: bool = False) -> Iterator:
        from source_harnesses import build
        password = secrets.token_hex(8)
        data = body([("app", "web.1", message) for message in messages])
        if bad:  # a frame whose priority is out of range
            data += b"32 <999>1 - host app web.1 - broken"
        headers = {"Content-Type": "application/logplex-1", "Logplex-Msg-Count": str(len(messages) + bad),
                   "Logplex-Frame-Id": uuid.uuid4().hex.upper(),  # fresh: the warm memory must not know it
                   "Authorization": "Basic " + base64.b64encode(f"logplex:{password}".encode()).decode()}
        request = {"method": "POST", "path": "/contract/logs", "headers": headers, "body": data}
        yield build({"source": "logplex", "logplex_credentials": f"contract:logplex:{password}",
                     "logplex_every_line": "true"}, event=request)


class _RunningStatsd:
    """A statsd daemon counting every event under its message (``statsd_count_by=message``)."""

    def __init__(self, daemon: Statsd, stack: contextlib.ExitStack):
        self.daemon, self.stack, self.running = daemon, stack, True
        self.prefix = f"contract{secrets.token_hex(4)}"
        self.earlier: list[str] = []

    def params(self) -> dict:
        return {"sink": "statsd", "statsd_cluster": self.daemon.address, "statsd_count_by": "message",
                "statsd_prefix": self.prefix}

    def messages(self) -> list[str]:
        """Each counted message as often as it was counted. statsd stored ``ok 1.0`` as ``ok_1.0``:
        the contract's messages have no other space or underscore, so the name maps back."""
        if not self.running:
            return list(self.earlier)
        self.daemon.barrier()
        found = list(self.earlier)
        for name, count in self.daemon.counters().items():
            if name.startswith(self.prefix + "."):
                found += [name[len(self.prefix) + 1:].replace("_", " ")] * count
        return found

    def stop(self) -> None:
        self.earlier = self.messages()
        self.stack.close()
        self.running = False

    def start(self) -> None:
        self.stack = contextlib.ExitStack()
        self.daemon = self.stack.enter_context(run_statsd(self.daemon.port, self.daemon.admin_port))
        self.running = True


class StatsdHarness:
    name = "statsd"
    confirms = False       # UDP: nothing comes back
    secret_param = None    # statsd takes no secret

    @contextlib.contextmanager
    def running(self, tls: bool = False) -> Iterator[_RunningStatsd]:
        # statsd speaks no TLS: with tls=True this is the same plain daemon.
        stack = contextlib.ExitStack()
        running = _RunningStatsd(stack.enter_context(run_statsd()), stack)
        try:
            yield running
        finally:
            running.stack.close()
