"""The servers a soak runs against, all on 127.0.0.1: one emulator (OpenWhisk), live receivers
(Logstash) that can be restarted, and one closed port named in ``logstash_hosts``.

They run in the harness process so that faults can change while they serve and be switched off
for the drain; the forwarder runs are separate processes.
"""

import logging
import random
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable

from logfwd_dev.emulator import ActionSpec, Emulator
from logfwd_dev.emulator.platform import Platform
from logfwd_dev.receiver.server import Receiver

from .config import SoakConfig
from .faults import Profile, ReceiverProfile

SEQUENCE, TRIGGER = "flow", "tick"
FORWARDER = "logfwd/forward"  # the forwarder's own action, for the `activation` checkpoint store


class ReceiverLog(logging.Handler):
    """Counts what receivers report about their connections: injected drops and partial ACKs, and
    clients gone in the middle of a window (the forwarder was killed or gave up). It also keeps
    those messages off the terminal."""

    KINDS = (("dropped before the ACK", "drop_before_ack"), ("fault injection: ACKed", "partial_ack"),
             ("in the middle of a window", "client_gone_mid_window"))

    def __init__(self):
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for text, kind in self.KINDS:
            if text in message:
                self.counts[kind] += 1


class TappedLog:
    """A receiver's event store that calls ``on_store`` after each window is written: the receiver
    sends the window's ACK right after that, so the soak can time a kill just past an ACK."""

    def __init__(self, inner, on_store: Callable[[], None]):
        self._inner = inner
        self._on_store = on_store

    def append(self, payloads) -> None:
        self._inner.append(payloads)
        if payloads:
            self._on_store()

    def __getattr__(self, name):
        return getattr(self._inner, name)


class ReceiverSlot:
    """One receiver address whose server may be stopped and started again; events go to one file."""

    def __init__(self, path: Path, rng: random.Random, on_store: Callable[[], None]):
        self.path = path
        self.rng = rng
        self.on_store = on_store
        self.profile = ReceiverProfile()
        self.port = 0
        self.receiver: Receiver | None = None
        self.restarts = 0
        self.windows: Counter[str] = Counter()  # windows received, by the profile they met
        self.keepalives = 0
        self._marked_windows = 0
        self._lock = threading.Lock()
        self._restart: threading.Thread | None = None

    def start(self) -> None:
        for attempt in range(20):
            receiver = Receiver(self.path, port=self.port, rng=random.Random(self.rng.getrandbits(64)))
            receiver.store = TappedLog(receiver.store, self.on_store)
            self._configure(receiver, self.profile)
            try:
                receiver.start()
            except OSError:
                if attempt == 19:
                    raise
                receiver.store.close()
                time.sleep(0.1)  # the port may still be in use for a moment after a stop
                continue
            self.port = receiver.address[1]
            with self._lock:
                self.receiver, self._marked_windows = receiver, 0
            return

    def apply(self, profile: ReceiverProfile) -> None:
        with self._lock:
            self._account()
            self.profile = profile
            if self.receiver is not None:
                self._configure(self.receiver, profile)

    def restart(self, after: float, downtime: float) -> bool:
        """In ``after`` seconds, stop the server, stay down ``downtime`` seconds (connections are refused)
        and start again on the same port; in the background. False if a restart is under way."""
        if self._restart is not None and self._restart.is_alive():
            return False
        self._restart = threading.Thread(target=self._stop_and_start, args=(after, downtime), daemon=True)
        self._restart.start()
        return True

    def window_counts(self) -> Counter:
        with self._lock:
            self._account()
            return Counter(self.windows)

    def stop(self) -> None:
        if self._restart is not None:
            self._restart.join()
        self._stop_server()

    def _stop_and_start(self, after: float, downtime: float) -> None:
        time.sleep(after)
        self._stop_server()
        time.sleep(downtime)
        self.restarts += 1
        self.start()

    def _stop_server(self) -> None:
        with self._lock:
            receiver, self.receiver = self.receiver, None
            if receiver is None:
                return
            self._account(receiver)
        receiver.stop()
        self.keepalives += receiver.keepalives

    def _account(self, receiver: Receiver | None = None) -> None:
        receiver = receiver or self.receiver
        if receiver is not None:
            self.windows[self.profile.kind] += receiver.windows - self._marked_windows
            self._marked_windows = receiver.windows

    @staticmethod
    def _configure(receiver: Receiver, profile: ReceiverProfile) -> None:
        faults = receiver.faults
        faults.drop_before_ack, faults.partial_ack = profile.drop_before_ack, profile.partial_ack
        faults.ack_delay, faults.keepalive_interval = profile.ack_delay, profile.keepalive_interval


class World:
    def __init__(self, config: SoakConfig, rng: random.Random, workdir: Path, on_store: Callable[[], None]):
        self.config = config
        timeout = int(config.action_timeout * 1000)
        catalog = tuple(ActionSpec(name, timeout=timeout) for name in config.actions) + (
            # Not monitored (their records carry ids, not lines), but their components' records are.
            ActionSpec(SEQUENCE, "sequence", components=config.actions[:2]),
            ActionSpec(TRIGGER, "trigger", rule_action=config.actions[0]),
            ActionSpec(FORWARDER, timeout=timeout),  # its own activations keep the `activation` checkpoint
        )
        platform = Platform.real(log_collection=config.log_collection, logs_delay=config.logs_delay,
                                 ties=config.ties) if config.platform else Platform()
        self.emulator = Emulator(list_lag=config.list_lag, rng=random.Random(rng.getrandbits(64)), catalog=catalog,
                                 platform=platform, max_limit=config.max_limit if config.platform else 200)
        self.slots = [ReceiverSlot(workdir / f"received-{i + 1}.jsonl", random.Random(rng.getrandbits(64)), on_store)
                      for i in range(config.receivers)]
        self.closed_port = _unused_port()
        self.log = ReceiverLog()
        self.production_stopped_at: float | None = None

    def start(self) -> "World":
        logger = logging.getLogger("logfwd_dev.receiver")
        logger.setLevel(logging.INFO)
        logger.addHandler(self.log)
        logger.propagate = False
        for slot in self.slots:
            slot.start()
        config = self.config
        self.emulator.start()
        self.emulator.seed(config.actions, config.seed_activations, config.seed_span, config.lines,
                           max_duration=config.max_duration)
        self.emulator.produce(config.rate, actions=config.actions + (SEQUENCE, TRIGGER),
                              max_duration=config.max_duration,
                              lines=config.lines, burst=config.burst, burst_every=config.burst_every)
        return self

    def logstash_hosts(self) -> str:
        """The live receivers with the closed port between them: some runs start at the closed one."""
        ports = [slot.port for slot in self.slots]
        ports.insert(1, self.closed_port)
        return ",".join(f"127.0.0.1:{port}" for port in ports)

    def apply(self, profile: Profile) -> None:
        faults = self.emulator.faults
        api = profile.api
        faults.fail_rate, faults.reset_rate = api.fail_rate, api.reset_rate
        faults.slow_rate, faults.slow_seconds = api.slow_rate, api.slow_seconds
        for slot, receiver_profile in zip(self.slots, profile.receivers):
            slot.apply(receiver_profile)

    def record_run(self, activation_id: str, started: float, ended: float, result: dict | None) -> None:
        """The forwarder's own activation, as the platform would store it: its result (with the
        checkpoint), or, for a killed run, the developer error the platform records."""
        if result is None:
            status, result = "action developer error", {
                "error": "The action did not produce a valid response and exited unexpectedly."}
        else:
            status = "success" if "error" not in result else "application error"
        duration_ms = max(1, int((ended - started) * 1000))
        self.emulator.add_activation(FORWARDER, start_ms=int(started * 1000), duration_ms=duration_ms, lines=[],
                                     status=status, result=result, activation_id=activation_id)

    def stop_production(self) -> None:
        self.emulator.stop_producing()
        self.production_stopped_at = time.time()

    def received_files(self) -> list[Path]:
        return [slot.path for slot in self.slots if slot.path.exists()]

    def fault_counts(self) -> dict:
        windows: Counter[str] = Counter()
        for slot in self.slots:
            windows.update(slot.window_counts())
        return {
            "api": self.emulator.stats()["faults"],
            "receivers": {
                "drop_before_ack": self.log.counts["drop_before_ack"],
                "partial_ack": self.log.counts["partial_ack"],
                "windows_with_slow_ack": windows["slow_ack"] + windows["mixed"],
                "windows_with_ack_held_past_window_timeout": windows["held_ack"],
                "keepalives": sum(slot.keepalives + (slot.receiver.keepalives if slot.receiver else 0)
                                  for slot in self.slots),
                "restarts": sum(slot.restarts for slot in self.slots),
                "closed_hosts_in_logstash_hosts": 1,
                "client_gone_mid_window": self.log.counts["client_gone_mid_window"],
            },
        }

    def stop(self) -> None:
        self.emulator.stop()
        for slot in self.slots:
            slot.stop()
        logging.getLogger("logfwd_dev.receiver").removeHandler(self.log)


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
