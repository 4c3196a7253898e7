"""One forwarder run: a real ``logfwd run`` process with a deadline, which the soak may kill.

The summary (``--json``) goes to a file rather than a pipe, so a run never blocks on its output and
a killed run simply leaves none.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

# Where a SIGKILL landed, as far as the harness can see from outside the process.
BEFORE_ACK = "before the receiver stored any window"
AFTER_ACK = "after a receiver sent an ACK, before the checkpoint was replaced"
AFTER_SAVE = "after the checkpoint was replaced"
OVERLAPPING = "while another run was alive (not attributed)"
KILL_PHASES = (BEFORE_ACK, AFTER_ACK, AFTER_SAVE, OVERLAPPING)


@dataclass
class KillPlan:
    strategy: str                  # "timed" or "after_ack"
    delay: float                   # seconds after the start (timed) or after a stored window (after_ack)


@dataclass
class Run:
    index: int
    process: subprocess.Popen
    started: float                 # epoch s
    deadline: float                # epoch s, as given in __OW_DEADLINE
    output: Path
    profile: str
    kill: KillPlan | None
    windows_at_start: int          # windows the receivers had stored when the run started
    checkpoint_at_start: object    # the checkpoint's signature when the run started
    solo: bool = True              # no other run was alive at any time during this one
    activation_id: str | None = None  # its __OW_ACTIVATION_ID, with the activation checkpoint store
    armed: bool = False            # an after-ACK kill is on its way
    killed: str | None = None      # the kill strategy, once killed
    kill_phase: str | None = None
    ended: float | None = None
    exit_code: int | None = None
    summary: dict | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sigkill(self, strategy: str, phase: Callable[[], str]) -> None:
        """SIGKILL the process unless it already ended; ``phase`` says where it stood. Thread-safe."""
        with self._lock:
            if self.killed or self.process.returncode is not None:
                return
            self.killed, self.kill_phase = strategy, phase()
            self.process.kill()

    def finish(self, now: float) -> None:
        """Called once the process has exited: read its summary (none if it was killed)."""
        with self._lock:
            self.ended, self.exit_code = now, self.process.returncode
            if self.killed and self.exit_code != -signal.SIGKILL:
                self.killed = self.kill_phase = None  # it had exited by itself just before the kill
        if self.killed is None:
            try:
                self.summary = json.loads(self.output.read_text() or "null")
            except json.JSONDecodeError:
                self.summary = None
        self.output.unlink(missing_ok=True)

    def record(self) -> dict:
        """What the run log keeps about this run."""
        summary = self.summary or {}
        return {
            "run": self.index, "profile": self.profile, "started": round(self.started, 3),
            "deadline": round(self.deadline, 3), "ended": round(self.ended or 0, 3), "exit": self.exit_code,
            "solo": self.solo, "killed": self.killed, "kill_phase": self.kill_phase,
            **{key: summary.get(key) for key in ("ok", "skipped", "records", "events", "more",
                                                 "stopped_at_deadline", "lag_seconds", "errors", "seconds")},
        }


def launch(index: int, params: dict[str, str], deadline: float, workdir: Path, *, profile: str,
           kill: KillPlan | None, windows: int, checkpoint: object, stderr, env: dict | None = None) -> Run:
    """Start ``logfwd run --json`` with ``params`` and ``__OW_DEADLINE`` set to ``deadline`` (``env``: more
    ``__OW_*`` variables)."""
    extra = env or {}
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LOGFWD_", "__OW_"))}
    env.update(extra)
    env["__OW_DEADLINE"] = str(int(deadline * 1000))
    env["WSK_CONFIG_FILE"] = str(workdir / "no-wskprops")  # the user's ~/.wskprops must not leak in
    argv = [sys.executable, "-m", "logfwd", "run", "--json", "--quiet"]
    for key, value in params.items():
        argv += ["--param", f"{key}={value}"]
    output = workdir / f"run-{index}.json"
    with open(output, "wb") as out:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=stderr, env=env)
    return Run(index, process, time.time(), deadline, output, profile, kill, windows, checkpoint,
               activation_id=extra.get("__OW_ACTIVATION_ID"))
