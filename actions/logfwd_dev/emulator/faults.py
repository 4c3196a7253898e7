"""Fault injection: the answers a hosted OpenWhisk front gives now and then.

Kinds: ``429`` (the controller's throttling text), ``502`` (an HTML page from the proxy), ``503``
(overload), with ``server_errors`` also ``500`` (the controller's own) and ``504`` (a gateway that
gave up waiting), ``slow`` (the answer comes late, to trip client timeouts) and ``reset`` (the connection
is closed without an answer). Every injected fault is counted by kind.
"""

import random
import threading
from collections import Counter
from dataclasses import dataclass

__all__ = ["Fault", "FaultInjector", "FAULT_KINDS"]

FAULT_KINDS = ("429", "500", "502", "503", "504", "slow", "reset")
_FAIL_KINDS = ("429", "502", "503")
_FAIL_WEIGHTS = (2, 1, 1)
_SERVER_KINDS = ("429", "500", "502", "503", "504")
_SERVER_WEIGHTS = (2, 1, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    delay: float = 0.0  # seconds to wait before answering normally ("slow")


class FaultInjector:
    """Decides, request by request, whether to misbehave. Thread-safe; one lock around the rng."""

    def __init__(self, rng: random.Random | None = None, *, fail_rate=0.0, slow_rate=0.0, slow_seconds=5.0,
                 reset_rate=0.0, server_errors=False):
        for name, rate in (("fail_rate", fail_rate), ("slow_rate", slow_rate), ("reset_rate", reset_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
        self.rng = rng or random.Random()
        self.fail_rate, self.slow_rate, self.reset_rate = fail_rate, slow_rate, reset_rate
        self.slow_seconds = slow_seconds
        self.kinds = (_SERVER_KINDS, _SERVER_WEIGHTS) if server_errors else (_FAIL_KINDS, _FAIL_WEIGHTS)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return bool(self.fail_rate or self.slow_rate or self.reset_rate)

    def draw(self) -> Fault | None:
        """The fault to inject into this request, or None. Rolls in the order reset, fail, slow."""
        if not self.active:
            return None
        with self._lock:
            roll = self.rng.random()
            if roll < self.reset_rate:
                fault = Fault("reset")
            elif roll < self.reset_rate + self.fail_rate:
                fault = Fault(self.rng.choices(*self.kinds)[0])
            elif roll < self.reset_rate + self.fail_rate + self.slow_rate:
                fault = Fault("slow", self.slow_seconds)
            else:
                return None
            self.counts[fault.kind] += 1
            return fault

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {kind: self.counts.get(kind, 0) for kind in (*self.kinds[0], "slow", "reset")}
