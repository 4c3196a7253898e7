"""Etsy's statsd daemon from npm for tests: installed once into ``.tools/statsd``, started on 127.0.0.1
with a free UDP port and a free management (admin) port, read through the admin interface.

``statsd_cluster`` (session) is two daemons; ``run_statsd()`` starts one of your own (e.g. to stop
it). Daemons flush once an hour with no backend, so counters only grow during a test session: tests
use metric names of their own and read them with ``counters()`` after a ``barrier()``.
"""

import contextlib
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

import npmtools
from servers import ServerSetupError, _process, free_port

_INSPECT_PAIR = re.compile(r"(?:'((?:[^'\\]|\\.)*)'|([A-Za-z_$][\w$]*)): (\[[^\]]*\]|[^,\s}]+)")


def ensure_statsd() -> Path:
    """The folder holding ``node_modules/statsd``, installed with ``npm ci`` from the committed lock file
    (``tests/tools/statsd``; its .npmrc omits statsd's optional modern-syslog, which needs a native build)."""
    try:
        folder = npmtools.install("statsd")
    except npmtools.ToolInstallError as exc:
        raise ServerSetupError(str(exc)) from None
    for needed in ("statsd/stats.js", "hashring"):
        if not (folder / "node_modules" / needed).exists():
            raise ServerSetupError(f"npm ci installed tests/tools/statsd but node_modules/{needed} is missing")
    return folder


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin(port: int, command: str, timeout: float = 5.0) -> str:
    """One admin command's reply (up to ``END``, or the one ``health`` line)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(command.encode() + b"\n")
        reply = b""
        while not (reply.endswith(b"END\n\n") or (command.startswith("health") and reply.endswith(b"\n"))):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    return reply.decode()


def parse_inspect(reply: str) -> dict[str, str]:
    """``name -> value text`` from Node's ``util.inspect`` of a flat object (values: numbers or arrays)."""
    return {(quoted or bare).replace("\\'", "'"): value for quoted, bare, value in _INSPECT_PAIR.findall(reply)}


@dataclass
class Statsd:
    port: int       # UDP, for metrics
    admin_port: int  # TCP, management
    process: object = field(repr=False)
    log: Path = field(repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def counters(self) -> dict[str, int]:
        return {name: int(float(value)) for name, value in parse_inspect(admin(self.admin_port, "counters")).items()}

    def timers(self) -> dict[str, list[int]]:
        return {name: [int(v) for v in re.findall(r"-?\d+", value)]
                for name, value in parse_inspect(admin(self.admin_port, "timers")).items()}

    def barrier(self, timeout: float = 10.0) -> None:
        """Return once a marker sent now over UDP was counted: what was sent before it was read too."""
        marker = f"barrier.{time.monotonic_ns()}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(f"{marker}:1|c".encode(), ("127.0.0.1", self.port))
        give_up = time.monotonic() + timeout
        while marker not in self.counters():
            if time.monotonic() > give_up:
                raise AssertionError(f"statsd on UDP {self.port} did not count {marker} within {timeout} s")
            time.sleep(0.02)


@contextlib.contextmanager
def run_statsd(port: int | None = None, admin_port: int | None = None) -> Iterator[Statsd]:
    """A fresh daemon; give the ports of a stopped one to restart it where it was."""
    folder = ensure_statsd()
    port, admin_port = port or free_udp_port(), admin_port or free_port()
    with tempfile.TemporaryDirectory(prefix="statsd-") as work:
        config = Path(work) / "config.js"
        config.write_text(f'{{ port: {port}, address: "127.0.0.1", mgmt_port: {admin_port}, '
                          f'mgmt_address: "127.0.0.1", flushInterval: 3600000, backends: [] }}\n')
        argv = [shutil.which("node") or "node", str(folder / "node_modules" / "statsd" / "stats.js"), str(config)]

        def ready() -> bool:
            try:
                return "health: up" in admin(admin_port, "health", timeout=1)
            except OSError:
                return False

        with _process("statsd", argv, admin_port, ready, Path(work)) as (process, log):
            yield Statsd(port, admin_port, process, log)


@pytest.fixture(scope="session")
def statsd_cluster() -> Iterator[list[Statsd]]:
    try:
        with run_statsd() as first, run_statsd() as second:
            yield [first, second]
    except ServerSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
