"""Real servers for tests: installed on first use, started on 127.0.0.1 with a free port, stopped at the end.

- ``redis-server`` from Debian's packages (installed with apt-get when missing; the tests run as root).
- ``pouchdb-server`` from npm, a CouchDB-compatible HTTP server, installed once into ``.tools/pouchdb``
  from the committed lock file (``tests/tools/pouchdb``, see ``npmtools.py``) and kept in memory.

Each runs with a random password, so a test can check that no message ever shows it. An install or a
start that fails makes the fixture fail with the reason: these tests never skip.
Use the session fixtures ``redis_server`` and ``couchdb_server``, or the context managers ``run_redis``
and ``run_couchdb`` for a server of your own (e.g. one to stop halfway).
"""

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

import pytest

import npmtools

# Another apt or dpkg run (unattended upgrades on a fresh machine, a second test run) holds the lock:
# wait for it rather than fail.
APT_GET = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
START_TIMEOUT = 30.0


class ServerSetupError(Exception):
    """A server could not be installed or started; the message says why and what was tried."""


@dataclass
class Server:
    """A running server: where it listens and the credentials it accepts."""

    host: str
    port: int
    username: str | None
    password: str
    process: subprocess.Popen = field(repr=False)
    log: Path = field(repr=False)

    def url(self, scheme: str, path: str = "", *, username: str | None = None, password: str | None = None,
            credentials: bool = True) -> str:
        """``scheme://user:password@host:port/path``; the defaults are the server's own credentials."""
        if not credentials:
            return f"{scheme}://{self.host}:{self.port}{path}"
        user = quote(username if username is not None else self.username or "", safe="")
        secret = quote(password if password is not None else self.password, safe="")
        return f"{scheme}://{user}:{secret}@{self.host}:{self.port}{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_password() -> str:
    # Characters that must be escaped in a URL, so the tests see the store decode them.
    return f"pw{secrets.token_hex(8)}@/:"


def _run(argv: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerSetupError(f"{what}: {' '.join(argv)} failed: {exc}") from None
    if done.returncode != 0:
        raise ServerSetupError(f"{what}: {' '.join(argv)} exited with {done.returncode}:\n"
                               f"{(done.stdout + done.stderr)[-3000:]}")


def ensure_redis_server() -> str:
    """The path of ``redis-server``, installing Debian's package first when it is missing."""
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if found:
        return found
    if os.geteuid() != 0:
        raise ServerSetupError("redis-server is not installed and these tests are not root: "
                               "run apt-get install -y redis-server")
    try:
        _run([*APT_GET, "install", "-y", "--no-install-recommends", "redis-server"], "installing redis", 1200)
    except ServerSetupError:  # a fresh machine has no package lists yet
        _run([*APT_GET, "update"], "updating package lists", 1200)
        _run([*APT_GET, "install", "-y", "--no-install-recommends", "redis-server"], "installing redis", 1200)
    found = shutil.which("redis-server", path="/usr/bin:/usr/sbin:" + os.environ.get("PATH", ""))
    if not found:
        raise ServerSetupError("apt-get installed redis-server but no redis-server program is on the PATH")
    return found


def ensure_pouchdb_server() -> Path:
    """The ``pouchdb-server`` program in ``.tools/pouchdb``, installed with ``npm ci`` on first use."""
    try:
        program = npmtools.install("pouchdb") / "node_modules" / ".bin" / "pouchdb-server"
    except npmtools.ToolInstallError as exc:
        raise ServerSetupError(str(exc)) from None
    if not program.exists():
        raise ServerSetupError(f"npm ci installed tests/tools/pouchdb but {program} is missing")
    return program


@contextlib.contextmanager
def _process(name: str, argv: list[str], port: int, ready: Callable[[], bool], cwd: Path) -> Iterator[tuple]:
    """Start ``argv`` in its own process group, wait until ``ready()``, stop it (and its children) after."""
    log = cwd / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        give_up = time.monotonic() + START_TIMEOUT
        while not ready():
            if process.poll() is not None:
                raise ServerSetupError(f"{name} exited with {process.returncode} before answering on port "
                                       f"{port}:\n{log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > give_up:
                raise ServerSetupError(f"{name} did not answer on 127.0.0.1:{port} within {START_TIMEOUT:.0f} s:\n"
                                       f"{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _redis_answers(port: int, password: str, context: ssl.SSLContext | None) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as plain:
            sock = context.wrap_socket(plain, server_hostname="127.0.0.1") if context else plain
            sock.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n" % (len(password), password.encode()))
            return sock.recv(64).startswith(b"+OK\r\n+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def run_redis(password: str | None = None, tls: dict[str, str] | None = None) -> Iterator[Server]:
    """A fresh ``redis-server``: no persistence, a password for the ``default`` user.

    ``tls``: PEM file paths ``server_cert``, ``server_key`` and ``ca`` (as ``tlsutil.Pki.write`` gives
    them); the server then speaks only TLS, and does not ask clients for certificates.
    """
    program = ensure_redis_server()
    password = password or new_password()
    port = free_port()
    argv = [program, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", password,
            "--daemonize", "no", "--logfile", ""]
    context = None
    if tls:
        argv += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", tls["server_cert"],
                 "--tls-key-file", tls["server_key"], "--tls-ca-cert-file", tls["ca"], "--tls-auth-clients", "no"]
        context = ssl.create_default_context(cafile=tls["ca"])
        context.check_hostname = False  # readiness only: a test may give a certificate for another host
    else:
        argv += ["--port", str(port)]
    with tempfile.TemporaryDirectory(prefix="redis-") as folder:
        argv += ["--dir", folder]
        ready = lambda: _redis_answers(port, password, context)  # noqa: E731
        with _process("redis-server", argv, port, ready, Path(folder)) as (process, log):
            yield Server("127.0.0.1", port, None, password, process, log)


def _couchdb_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _couchdb_admin(port: int, username: str, password: str) -> None:
    """Create the server admin, which ends "admin party": from then on a wrong password is refused."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/_config/admins/{quote(username)}", method="PUT",
                                     data=json.dumps(password).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    check = urllib.request.Request(f"http://127.0.0.1:{port}/_session", headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(check, timeout=10) as response:
        if username not in response.read().decode():
            raise ServerSetupError(f"pouchdb-server on port {port} did not accept its new admin '{username}'")


@contextlib.contextmanager
def run_couchdb(username: str = "admin", password: str | None = None) -> Iterator[Server]:
    """A fresh in-memory ``pouchdb-server`` with one admin user."""
    program = ensure_pouchdb_server()
    password = password or new_password()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pouchdb-") as folder:  # it writes config.json and log.txt to cwd
        argv = [str(program), "--in-memory", "--no-stdout-logs", "--host", "127.0.0.1", "--port", str(port),
                "--config", str(Path(folder) / "config.json")]
        with _process("pouchdb-server", argv, port, lambda: _couchdb_answers(port), Path(folder)) as (p, log):
            _couchdb_admin(port, username, password)
            yield Server("127.0.0.1", port, username, password, p, log)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    try:
        with run_redis() as server:
            yield server
    except ServerSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def couchdb_server() -> Iterator[Server]:
    try:
        with run_couchdb() as server:
            yield server
    except ServerSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
