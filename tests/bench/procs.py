"""The benchmark's peers as separate processes: ``logfwd receive`` and ``logfwd emulate``.

Each runs in its own interpreter so that it does not share the GIL with the process being measured
(the development machine has 2 cores). ``started`` waits for the line that says where it listens.
"""

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 300.0  # seeding 100,000 activations takes a while on a busy machine


class PeerError(RuntimeError):
    """A peer process did not start, or did not say where it listens."""


@contextlib.contextmanager
def started(name: str, argv: list[str], ready: str, log_dir: Path) -> Iterator[tuple[subprocess.Popen, re.Match]]:
    """Run ``argv``, wait for a stdout line matching ``ready``; SIGTERM it (then SIGKILL) at the end."""
    log = log_dir / f"{name}.log"
    with open(log, "wb") as errors:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL)
    try:
        yield process, _wait_for(process, re.compile(ready), name, log)
    finally:
        stop(process)


def _wait_for(process: subprocess.Popen, pattern: re.Pattern, name: str, log: Path) -> re.Match:
    give_up = time.monotonic() + START_TIMEOUT
    seen = b""
    fd = process.stdout.fileno()
    while time.monotonic() < give_up:
        readable, _, _ = select.select([fd], [], [], 0.5)
        if readable:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
            for line in seen.decode(errors="replace").splitlines():
                match = pattern.search(line)
                if match:
                    return match
        elif process.poll() is not None:
            break
    stop(process)
    raise PeerError(f"{name} did not report {pattern.pattern!r} (exit code {process.returncode}); "
                    f"stdout: {seen.decode(errors='replace')[-500:]!r}; stderr: "
                    f"{log.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    if process.stdout is not None:
        process.stdout.close()


@contextlib.contextmanager
def receiver(out: Path, log_dir: Path) -> Iterator[tuple[int, int]]:
    """``logfwd receive`` writing to ``out``; yields (port, pid)."""
    argv = [sys.executable, "-m", "logfwd", "receive", "--port", "0", "--out", str(out)]
    with started("receiver", argv, r"listening on [\d.]+:(\d+)", log_dir) as (process, match):
        yield int(match.group(1)), process.pid


@contextlib.contextmanager
def emulator(actions: list[str], activations: int, lines: int, span: float, log_dir: Path,
             seed: int = 1) -> Iterator[tuple[str, int]]:
    """``logfwd emulate`` holding a finished backlog and producing nothing new; yields (URL, pid)."""
    argv = [sys.executable, "-m", "logfwd", "emulate", "--port", "0", "--actions", ",".join(actions),
            "--seed-activations", str(activations), "--seed-span", str(span), "--lines", str(lines),
            "--rate", "0", "--list-lag", "0", "--random-seed", str(seed)]
    with started("emulator", argv, r"^apihost=(\S+)", log_dir) as (process, match):
        yield match.group(1), process.pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
