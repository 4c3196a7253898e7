"""Progress is saved during a run: a real ``logfwd run`` SIGKILLed mid-run re-sends at most one save
interval (plus the windows in flight), not everything it had delivered; and a save that conflicts
mid-run stops the run."""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from logfwd.pipeline import SAVE_WINDOWS, forward
from logfwd.sources.openwhisk.source import OpenWhiskSource
from logfwd_dev.emulator import Emulator
from logfwd_dev.receiver.server import Receiver

from fakes import FakeAPI, FakeClock, FakeSink, MemoryStore

ACTIONS_DIR = Path(__file__).resolve().parent.parent / "actions"
BATCH = 50  # events per window (batch_size)
IN_FLIGHT = 2  # windows a send may have on the wire beyond the acknowledged ones


class KillAfter:
    """The receiver's event store, tapped: once ``windows`` windows are stored, SIGKILL ``process``
    (before the receiver sends that window's ACK)."""

    def __init__(self, inner, windows: int):
        self.inner, self.windows, self.stored, self.process = inner, windows, 0, None
        self.killed = threading.Event()

    def append(self, payloads) -> None:
        self.inner.append(payloads)
        if payloads:
            self.stored += 1
            if self.stored == self.windows and self.process is not None:
                os.kill(self.process.pid, signal.SIGKILL)
                self.killed.set()

    def __getattr__(self, name):
        return getattr(self.inner, name)


def logfwd_run(emulator, receiver, checkpoint: Path) -> subprocess.Popen:
    params = {"apihost": emulator.url, "api_key": emulator.api_key, "actions": "hello",
              "logstash_hosts": f"127.0.0.1:{receiver.address[1]}", "logstash_tls": "false",
              "checkpoint": f"file:{checkpoint}", "initial_lookback": "7200", "batch_size": str(BATCH)}
    command = [sys.executable, "-m", "logfwd", "run", "--json", "--quiet"]
    for key, value in params.items():
        command += ["--param", f"{key}={value}"]
    env = {**os.environ, "PYTHONPATH": str(ACTIONS_DIR), "WSK_CONFIG_FILE": str(checkpoint.parent / "none")}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def test_a_sigkill_mid_run_resends_at_most_one_save_interval(tmp_path):
    with Emulator(rng=random.Random(7)) as emulator, Receiver() as receiver:
        now_ms = int(time.time() * 1000)
        for i in range(1500):  # 3,000 events, oldest first: 60 windows
            emulator.add_activation("hello", start_ms=now_ms - 3_000_000 + i * 1000, lines=2)
        tap = receiver.store = KillAfter(receiver.store, windows=25)
        tap.process = first = logfwd_run(emulator, receiver, tmp_path / "checkpoint.json")
        first.communicate(timeout=120)
        assert tap.killed.is_set() and first.returncode == -signal.SIGKILL
        delivered_before_kill = tap.stored * BATCH

        second = logfwd_run(emulator, receiver, tmp_path / "checkpoint.json")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()
        ids = [event["@metadata"]["_id"] for event in receiver.events]
        expected = {f"guest/{a['activationId']}:{i}" for a in emulator.produced() for i in range(a["lines"])}
    assert set(ids) == expected  # nothing lost
    resent = len(ids) - len(set(ids))
    assert resent <= (SAVE_WINDOWS + IN_FLIGHT + 1) * BATCH, (resent, json.loads(out))
    assert resent < delivered_before_kill / 2  # saved only at the end, it would re-send all of them


def test_a_save_that_conflicts_mid_run_stops_the_run():
    clock = FakeClock()
    api, sink = FakeAPI(clock), FakeSink()
    for i in range(400):
        api.add("hello", int((clock.now - 3000) * 1000) + i * 1000, lines=1)

    class MovedUnderneath(MemoryStore):
        """After this run's first save, another run saves too."""

        def save(self, document):
            super().save(document)
            self.version += 1

    # Units of at most a quarter of a window, as the runner makes them (unit_lines = batch_size / 4).
    source = OpenWhiskSource(api, ["hello"], clock=clock, overlap=360.0, initial_lookback=3600, unit_lines=5)
    summary = forward(source, sink, MovedUnderneath(), max_events=20, clock=clock)
    assert not summary["ok"] and any("changed meanwhile" in e for e in summary["errors"])
    assert summary["records"] < 400  # it stopped instead of sending what the other run now owns
