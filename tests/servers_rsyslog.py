"""A real rsyslog receiver for tests: Debian's ``rsyslogd`` (installed with apt-get when missing) on
127.0.0.1, in the foreground, with its own config, pid file and work directory under a temporary folder.

Its TCP input (imtcp) listens on a port the OS picks (``ListenPortFileName``) in one of three modes:
plain TCP, TLS (GnuTLS stream driver, anonymous clients) or mutual TLS (``x509/certvalid``); a UDP input
(imudp) can be added. Every message it receives is written as one JSON object per line with each RFC
5424 part (pri, timestamp, hostname, app-name, procid, msgid, structured-data, msg) to ``messages``.
Use ``run_rsyslog(...)`` as a context manager; ``stop()`` stops it early (a receiver that goes away).
"""

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

from servers import ServerSetupError, _run
from tlsutil import Pki, make_pki

START_TIMEOUT = 30.0
PACKAGES = ("rsyslog", "rsyslog-gnutls")
_GTLS = Path("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so")

_TEMPLATE = """template(name="parts" type="list") {
  constant(value="{")
  property(name="pri" format="jsonf" outname="pri") constant(value=",")
  property(name="timereported" dateFormat="rfc3339" format="jsonf" outname="timestamp") constant(value=",")
  property(name="hostname" format="jsonf" outname="hostname") constant(value=",")
  property(name="app-name" format="jsonf" outname="app_name") constant(value=",")
  property(name="procid" format="jsonf" outname="procid") constant(value=",")
  property(name="msgid" format="jsonf" outname="msgid") constant(value=",")
  property(name="structured-data" format="jsonf" outname="structured_data") constant(value=",")
  property(name="protocol-version" format="jsonf" outname="version") constant(value=",")
  property(name="msg" format="jsonf" outname="msg")
  constant(value="}\\n")
}
"""


def ensure_rsyslog() -> str:
    """The path of ``rsyslogd`` with its GnuTLS driver, installing Debian's packages when missing."""
    program = shutil.which("rsyslogd", path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", ""))
    if program and _gtls_driver():
        return program
    if os.geteuid() != 0:
        raise ServerSetupError("rsyslog or rsyslog-gnutls is not installed and these tests are not root: "
                               "run apt-get install -y rsyslog rsyslog-gnutls")
    with open("/tmp/logfwd-apt.lock", "w") as lock:  # two test runs must not both run apt-get
        fcntl.flock(lock, fcntl.LOCK_EX)
        argv = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", *PACKAGES]
        try:
            _run(argv, "installing rsyslog", 900)
        except ServerSetupError:  # a fresh machine has no package lists yet
            _run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update"], "updating package lists", 900)
            _run(argv, "installing rsyslog", 900)
    program = shutil.which("rsyslogd", path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", ""))
    if not program or not _gtls_driver():
        raise ServerSetupError("apt-get installed rsyslog but rsyslogd or its gtls driver is missing")
    return program


def _gtls_driver() -> bool:
    return _GTLS.exists() or any(Path("/usr/lib").glob("*/rsyslog/lmnsd_gtls.so"))


@dataclass
class Rsyslog:
    """A running rsyslogd: where it listens, and what it received."""

    host: str
    port: int
    udp_port: int | None
    folder: Path
    process: subprocess.Popen = field(repr=False)
    pki: Pki | None = field(default=None, repr=False)
    _counted: tuple[int, int] = field(default=(0, 0), repr=False)  # (bytes, lines) counted so far

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def messages(self) -> list[dict]:
        """Every message written so far, oldest first."""
        path = self.folder / "messages.jsonl"
        if not path.exists():
            return []
        data = path.read_bytes()
        complete = data[:data.rfind(b"\n") + 1]  # rsyslog may be writing the last line right now
        return [json.loads(line) for line in complete.decode("utf-8", "replace").splitlines() if line.strip()]

    def count(self) -> int:
        """How many messages are written so far (cheaper than reading them: counts only what is new)."""
        path = self.folder / "messages.jsonl"
        if not path.exists():
            return 0
        with open(path, "rb") as file:
            file.seek(self._counted[0])
            new = file.read()
        self._counted = (self._counted[0] + len(new), self._counted[1] + new.count(b"\n"))
        return self._counted[1]

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict]:
        """The messages once there are at least ``count``, or all there are after ``timeout`` (then the
        test's own assertion says what is missing)."""
        give_up = time.monotonic() + timeout
        while self.count() < count and time.monotonic() < give_up and self.process.poll() is None:
            time.sleep(0.01)
        return self.messages()

    def settle(self, quiet: float = 0.5, timeout: float = 30.0) -> list[dict]:
        """The messages once the file stopped growing for ``quiet`` seconds."""
        give_up = time.monotonic() + timeout
        size, since = -1, time.monotonic()
        path = self.folder / "messages.jsonl"
        while time.monotonic() < give_up:
            now = path.stat().st_size if path.exists() else 0
            if now != size:
                size, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.05)
        return self.messages()

    def stop(self) -> None:
        """Stop rsyslogd now (SIGTERM, then SIGKILL); it flushes what it has queued."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        path = self.folder / "rsyslogd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _config(folder: Path, mode: str, pki: Pki | None, max_message: int, udp_port: int | None, port: int) -> str:
    lines = [f'global(workDirectory="{folder / "work"}" maxMessageSize="{max_message}"']
    if mode != "tcp":
        paths = pki.write(folder / "pki")
        lines.append(f'  defaultNetstreamDriverCAFile="{paths["ca"]}" defaultNetstreamDriverCertFile='
                     f'"{paths["server_cert"]}" defaultNetstreamDriverKeyFile="{paths["server_key"]}"')
    lines.append(")")
    # On SIGTERM, write everything already received before exiting (the default gives up after 1.5 s).
    lines.append('main_queue(queue.timeoutShutdown="30000" queue.timeoutActionCompletion="30000")')
    if mode == "tcp":
        lines.append('module(load="imtcp")')
    else:
        auth = "x509/certvalid" if mode == "mtls" else "anon"
        lines.append('module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" '
                     f'streamDriver.authMode="{auth}")')
    lines.append(f'input(type="imtcp" address="127.0.0.1" port="{port}" listenPortFileName="{folder / "port"}")')
    if udp_port is not None:
        lines.append('module(load="imudp")')
        lines.append(f'input(type="imudp" address="127.0.0.1" port="{udp_port}")')
    lines.append(_TEMPLATE)
    lines.append(f'action(type="omfile" file="{folder / "messages.jsonl"}" template="parts")')
    return "\n".join(lines) + "\n"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def run_rsyslog(mode: str = "tls", *, pki: Pki | None = None, max_message: int = 256 * 1024,
                udp: bool = False, port: int = 0) -> Iterator[Rsyslog]:
    """A fresh rsyslogd; ``mode`` is ``tcp``, ``tls`` or ``mtls`` (clients need a cert signed by ``pki.ca``).
    ``port`` 0 lets the OS choose one (a restart passes the port of the one before)."""
    if mode not in ("tcp", "tls", "mtls"):
        raise ValueError(f"mode must be tcp, tls or mtls, not {mode!r}")
    program = ensure_rsyslog()
    pki = pki or (make_pki() if mode != "tcp" else None)
    udp_port = _free_udp_port() if udp else None
    with tempfile.TemporaryDirectory(prefix="rsyslog-") as name:
        folder = Path(name)
        (folder / "work").mkdir()
        conf = folder / "rsyslog.conf"
        conf.write_text(_config(folder, mode, pki, max_message, udp_port, port))
        check = subprocess.run([program, "-N1", "-f", str(conf)], capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            raise ServerSetupError(f"rsyslogd rejected its test config:\n{check.stdout}{check.stderr}")
        log = folder / "rsyslogd.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([program, "-n", "-f", str(conf), "-i", str(folder / "rsyslogd.pid")],
                                       cwd=folder, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        server = Rsyslog("127.0.0.1", 0, udp_port, folder, process, pki)
        try:
            server.port = _wait_for_port(folder / "port", process, log, port)
            yield server
        finally:
            server.stop()


def _wait_for_port(path: Path, process: subprocess.Popen, log: Path, known: int) -> int:
    """The port rsyslogd listens on, once it answers (it writes the port file only for port 0)."""
    give_up = time.monotonic() + START_TIMEOUT
    while True:
        text = str(known) if known else path.read_text().strip() if path.exists() else ""
        if text.isdigit():
            port = int(text)
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return port
        if process.poll() is not None:
            raise ServerSetupError(f"rsyslogd exited with {process.returncode} before listening:\n"
                                   f"{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > give_up:
            raise ServerSetupError(f"rsyslogd did not listen within {START_TIMEOUT:.0f} s:\n"
                                   f"{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.05)


def _serving(mode: str, **options) -> Iterator[Rsyslog]:
    try:
        with run_rsyslog(mode, **options) as server:
            yield server
    except ServerSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def rsyslog_tcp() -> Iterator[Rsyslog]:
    """Plain TCP, and UDP on ``udp_port``."""
    yield from _serving("tcp", udp=True)


@pytest.fixture
def rsyslog_tls() -> Iterator[Rsyslog]:
    yield from _serving("tls")


@pytest.fixture
def rsyslog_mtls() -> Iterator[Rsyslog]:
    """TLS that requires a client certificate signed by ``pki.ca`` (``pki.client_cert``/``client_key``)."""
    yield from _serving("mtls")


class _RunningSyslog:
    """For the sink contract suite: an rsyslogd that can be stopped and started again on its port."""

    def __init__(self, tls: bool):
        self.mode = "mtls" if tls else "tcp"
        self.pki = make_pki() if tls else None
        self.earlier: list[str] = []
        self.server: Rsyslog | None = None
        self._stack = contextlib.ExitStack()
        self.port = 0
        self.start()

    def params(self) -> dict:
        params = {"sink": "syslog", "syslog_host": f"127.0.0.1:{self.port}", "syslog_transport": "tcp"}
        if self.pki:
            params.update(syslog_transport="tls", syslog_ca=self.pki.ca, syslog_cert=self.pki.client_cert,
                          syslog_key=self.pki.client_key)
        return params

    def messages(self) -> list[str]:
        return self.earlier + [m["msg"] for m in (self.server.settle(quiet=0.3) if self.server else [])]

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.earlier = self.earlier + [m["msg"] for m in self.server.messages()]
            self.server = None
            self._stack.close()

    def start(self) -> None:
        self._stack = contextlib.ExitStack()
        self.server = self._stack.enter_context(run_rsyslog(self.mode, pki=self.pki, port=self.port))
        self.port = self.server.port


class SyslogHarness:
    name = "syslog"
    confirms = True
    secret_param = "syslog_key"

    @contextlib.contextmanager
    def running(self, tls: bool = False) -> Iterator[_RunningSyslog]:
        running = _RunningSyslog(tls)
        try:
            yield running
        finally:
            running.stop()
