"""One retry policy for transient failures: exponential backoff with jitter, bounded by the deadline."""

from dataclasses import dataclass
from typing import Callable, TypeVar

import tenacity

from .deadline import NO_DEADLINE, Deadline
from .errors import TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a ``TransientError``.

    Tests pass ``RetryPolicy(initial=0, maximum=0)`` to retry without sleeping.
    """

    attempts: int = 5
    initial: float = 0.5
    maximum: float = 20.0
    jitter: float = 0.5

    def call(self, fn: Callable[[], T], deadline: Deadline = NO_DEADLINE) -> T:
        """Run ``fn``; retry it on ``TransientError`` until attempts or the deadline run out.

        The last error is re-raised unchanged, so callers see the real cause.
        """
        # Nearly every call succeeds at once: the first attempt goes without tenacity's state and
        # wrappers (~50 us of CPU each; an API page is one call). Once it fails, tenacity takes over
        # and is handed that failure as its own first attempt, so the waits, the stop on attempts or
        # the deadline, and the error re-raised are exactly those of the general way.
        try:
            return fn()
        except TransientError as error:
            failed: list[BaseException] = [error]

        def again() -> T:
            if failed:
                raise failed.pop()
            return fn()

        return self._retrying(deadline)(again)

    def _retrying(self, deadline: Deadline) -> tenacity.Retrying:
        def out_of_time(state: tenacity.RetryCallState) -> bool:
            # Do not start a wait that would end past the point where we stop pulling.
            upcoming = state.upcoming_sleep if state.upcoming_sleep is not None else 0
            return deadline.remaining() - deadline.grace <= upcoming

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(TransientError),
            stop=tenacity.stop_after_attempt(self.attempts) | out_of_time,
            wait=(tenacity.wait_exponential(multiplier=self.initial, max=self.maximum)
                  + tenacity.wait_random(0, self.jitter)),
            reraise=True,
        )


NO_WAIT = RetryPolicy(initial=0, maximum=0, jitter=0)
