"""The ``logfwd`` command as a user runs it: a subprocess of this checkout, with a clean environment."""

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from logfwd_dev.emulator.server import Emulator

ACTIONS = Path(__file__).resolve().parents[1] / "actions"


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def said(self) -> str:
        return self.out + self.err

    def summary(self) -> dict:
        return json.loads(self.out)


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without logfwd's and OpenWhisk's variables, and no ~/.wskprops."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGFWD_", "__OW_", "WSK_"))}
    env.update(PYTHONPATH=str(ACTIONS), WSK_CONFIG_FILE=os.devnull, **extra)
    return env


def logfwd(*args: str, params: dict | None = None, env: dict | None = None, timeout: float = 120) -> Outcome:
    """Run ``python -m logfwd ARGS --param k=v ...``; never raises on a non-zero exit."""
    argv = [sys.executable, "-m", "logfwd", *args, *[f"--param={k}={v}" for k, v in (params or {}).items()]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env or environment())
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_no_traceback(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.said, outcome.said


@pytest.fixture
def live_emulator():
    """The emulator on real time (the command reads the clock itself), with 3 activations of
    ``hello`` and of ``shop/cart``, 2 lines each, a minute ago."""
    with Emulator(rng=random.Random(10)) as emu:
        now_ms = int(time.time() * 1000)
        for i in range(3):
            for name in ("hello", "shop/cart"):
                emu.add_activation(name, start_ms=now_ms - 60_000 + i, lines=2)
        yield emu
