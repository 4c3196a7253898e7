"""Continuous invocations: a background thread that starts activations at a steady rate.

Each activation starts "now" and runs for a random duration, so it becomes visible only when it
ends (and in lists a lag later): exactly the late arrivals a start-time cursor loses. Optional
bursts start many activations in the same millisecond.
"""

import random
import threading
from collections.abc import Callable, Sequence

__all__ = ["Producer"]

_TICK = 0.05  # seconds between steps of the background thread
_SAME_START = 0.2  # chance that an activation shares the previous one's start millisecond

# invoke(path, start_ms, max_duration_ms, lines) creates and stores one invocation
Invoke = Callable[[str, int, int, int], None]


class Producer:
    """Starts ``rate`` activations per second of ``actions`` (plus ``burst`` every ``burst_every`` s)."""

    def __init__(self, invoke: Invoke, rng: random.Random, clock: Callable[[], float], *, rate: float,
                 actions: Sequence[str], max_duration: float, lines: int, burst: int = 0,
                 burst_every: float = 10.0):
        if rate < 0 or burst < 0 or not actions:
            raise ValueError("rate and burst must be >= 0 and actions non-empty")
        self.invoke, self.rng, self.clock = invoke, rng, clock
        self.rate, self.actions = rate, list(actions)
        self.max_duration_ms = max(1, int(max_duration * 1000))
        self.lines, self.burst, self.burst_every = lines, burst, burst_every
        self._last = clock()
        self._next_burst = self._last + burst_every
        self._carry = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """Start what is due since the previous step; returns how many invocations were started."""
        now = self.clock()
        due = self.rate * max(0.0, now - self._last) + self._carry
        count = int(due)
        self._carry = due - count
        window_ms = int((now - self._last) * 1000)
        self._last = now
        now_ms = int(now * 1000)
        start = now_ms
        for _ in range(count):
            if self.rng.random() >= _SAME_START:
                start = now_ms - self.rng.randint(0, max(0, window_ms))
            self.invoke(self.rng.choice(self.actions), start, self.max_duration_ms, self.lines)
        if self.burst and now >= self._next_burst:
            self._next_burst = now + self.burst_every
            for _ in range(self.burst):
                self.invoke(self.rng.choice(self.actions), now_ms, self.max_duration_ms, self.lines)
            count += self.burst
        return count

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="emulator-producer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(_TICK):
            self.step()
