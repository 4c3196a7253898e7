"""The run's deadline: when to stop pulling so the checkpoint is saved before the platform kills us."""

import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable

SAVE_RESERVE = 5.0  # seconds before the hard deadline kept for saving the checkpoint (at most half the grace)


@dataclass
class Deadline:
    """A point in wall-clock time (epoch seconds), or ``None`` for "no deadline".

    ``grace`` seconds before it, ``pull_expired`` turns true: stop fetching, finish the window in
    flight and save the checkpoint.
    """

    at: float | None = None
    grace: float = 0.0
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def remaining(self) -> float:
        """Seconds until the hard deadline (``inf`` when there is none)."""
        return math.inf if self.at is None else self.at - self.clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def pull_expired(self) -> bool:
        """True once it is time to stop pulling new work. (``remaining() <= grace`` written out: sources
        and the pipeline ask it once a record.)"""
        return self.at is not None and self.at - self.clock() <= self.grace

    def pull_remaining(self) -> float:
        """Seconds left for pulling new work (``inf`` when there is no deadline)."""
        return self.remaining() - self.grace

    def for_work(self) -> "Deadline":
        """The deadline for work in flight (API requests, the window being acknowledged): it ends
        ``SAVE_RESERVE`` seconds before the hard deadline, or half the grace if that is smaller, so
        the run always keeps time to save its checkpoint."""
        if self.at is None:
            return self
        return replace(self, at=self.at - min(SAVE_RESERVE, self.grace / 2), grace=0.0)

    def budget(self, limit: float) -> float:
        """``limit`` seconds, cut to what is left before the hard deadline (never negative)."""
        return max(0.0, min(limit, self.remaining()))


NO_DEADLINE = Deadline()
