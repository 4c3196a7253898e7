"""The retry policy: its first attempt runs without tenacity (the fast path), and once that fails the
attempts, waits, the deadline and the error re-raised are tenacity's, as if tenacity had run it too."""

import pytest

from logfwd.deadline import Deadline
from logfwd.errors import SourceError, SourceTransientError
from logfwd.retry import RetryPolicy


class Clock:
    """The time tenacity sleeps on and the deadline reads: sleeping only moves it on."""

    def __init__(self, monkeypatch):
        self.now, self.sleeps = 1000.0, []
        monkeypatch.setattr("tenacity.nap.time.sleep", self.sleep)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(times: int, result="done", error=SourceTransientError):
    """A call that raises ``error`` (a new one, numbered) its first ``times`` calls, then returns."""
    calls = []

    def call():
        calls.append(len(calls) + 1)
        if len(calls) <= times:
            raise error(f"failure {len(calls)}")
        return result

    return call, calls


def test_a_first_success_is_returned_without_waiting(monkeypatch):
    clock = Clock(monkeypatch)
    call, calls = failing(0)
    assert RetryPolicy(initial=1).call(call) == "done"
    assert calls == [1] and clock.sleeps == []


def test_a_first_failure_is_retried_with_the_exponential_waits(monkeypatch):
    clock = Clock(monkeypatch)
    call, calls = failing(3)
    assert RetryPolicy(attempts=5, initial=1, maximum=20, jitter=0).call(call) == "done"
    assert calls == [1, 2, 3, 4] and clock.sleeps == [1, 2, 4]


def test_the_last_error_is_reraised_once_the_attempts_run_out(monkeypatch):
    clock = Clock(monkeypatch)
    call, calls = failing(10)
    with pytest.raises(SourceTransientError, match="^failure 4$"):
        RetryPolicy(attempts=4, initial=1, maximum=3, jitter=0).call(call)
    assert calls == [1, 2, 3, 4] and clock.sleeps == [1, 2, 3]


def test_one_attempt_raises_the_first_error_itself(monkeypatch):
    Clock(monkeypatch)
    call, calls = failing(10)
    with pytest.raises(SourceTransientError, match="^failure 1$"):
        RetryPolicy(attempts=1).call(call)
    assert calls == [1]


def test_an_error_that_is_not_transient_is_not_retried(monkeypatch):
    clock = Clock(monkeypatch)
    call, calls = failing(10, error=SourceError)
    with pytest.raises(SourceError, match="^failure 1$"):
        RetryPolicy(initial=0, maximum=0, jitter=0).call(call)
    assert calls == [1] and clock.sleeps == []


def test_no_wait_is_started_that_would_end_past_the_deadline(monkeypatch):
    clock = Clock(monkeypatch)
    deadline = Deadline(at=1003.5, clock=lambda: clock.now)  # room for the waits of 1 and 2, not for 4
    call, calls = failing(10)
    with pytest.raises(SourceTransientError, match="^failure 3$"):
        RetryPolicy(attempts=10, initial=1, maximum=20, jitter=0).call(call, deadline)
    assert calls == [1, 2, 3] and clock.sleeps == [1, 2]


def test_a_deadline_too_close_for_any_wait_leaves_the_first_error(monkeypatch):
    clock = Clock(monkeypatch)
    deadline = Deadline(at=1000.5, grace=0.2, clock=lambda: clock.now)
    call, calls = failing(10)
    with pytest.raises(SourceTransientError, match="^failure 1$"):
        RetryPolicy(attempts=10, initial=1, jitter=0).call(call, deadline)
    assert calls == [1] and clock.sleeps == []
