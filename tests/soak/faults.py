"""Fault profiles: how the OpenWhisk API and each receiver misbehave during one phase of the soak.

A phase lasts a few runs; then a new profile is drawn from the seeded generator. Receivers read
their fault knobs afresh for every window and the emulator for every request, so a profile applies
to running servers at once.
"""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiProfile:
    kind: str = "clean"
    fail_rate: float = 0.0      # 429, 502, 503
    reset_rate: float = 0.0     # connection reset without an answer
    slow_rate: float = 0.0      # answered late
    slow_seconds: float = 0.0   # above the time a run has left: the client's timeout fires


@dataclass(frozen=True)
class ReceiverProfile:
    kind: str = "clean"
    drop_before_ack: float = 0.0
    partial_ack: float = 0.0
    ack_delay: float = 0.0           # above window_timeout: the ACK comes after the window deadline
    keepalive_interval: float = 5.0  # keepalives meanwhile, which must not stretch the deadline


@dataclass(frozen=True)
class Profile:
    api: ApiProfile
    receivers: tuple[ReceiverProfile, ...]

    def describe(self) -> str:
        return f"api {self.api.kind}, receivers " + "/".join(r.kind for r in self.receivers)


def clean(receivers: int) -> Profile:
    return Profile(ApiProfile(), tuple(ReceiverProfile() for _ in range(receivers)))


def draw(rng: random.Random, receivers: int, window_timeout: float, deadline: float) -> Profile:
    """A random profile. ``deadline``: the longest a run lives, so that "timeout" answers outlast it."""
    return Profile(_api(rng, deadline), tuple(_receiver(rng, window_timeout) for _ in range(receivers)))


def _api(rng: random.Random, deadline: float) -> ApiProfile:
    kind = rng.choices(("clean", "flaky", "resets", "slow", "timeouts", "mixed"), (2, 3, 2, 2, 1, 2))[0]
    if kind == "flaky":
        return ApiProfile(kind, fail_rate=rng.uniform(0.05, 0.2))
    if kind == "resets":
        return ApiProfile(kind, reset_rate=rng.uniform(0.03, 0.1))
    if kind == "slow":
        return ApiProfile(kind, slow_rate=rng.uniform(0.05, 0.15), slow_seconds=rng.uniform(0.2, 1.5))
    if kind == "timeouts":
        return ApiProfile(kind, slow_rate=rng.uniform(0.01, 0.04), slow_seconds=deadline + 3)
    if kind == "mixed":
        return ApiProfile(kind, fail_rate=0.08, reset_rate=0.03, slow_rate=0.05, slow_seconds=rng.uniform(0.2, 1.0))
    return ApiProfile()


def _receiver(rng: random.Random, window_timeout: float) -> ReceiverProfile:
    kind = rng.choices(("clean", "drops", "partial", "slow_ack", "held_ack", "mixed"), (2, 2, 2, 2, 1, 2))[0]
    if kind == "drops":
        return ReceiverProfile(kind, drop_before_ack=rng.uniform(0.1, 0.35))
    if kind == "partial":
        return ReceiverProfile(kind, partial_ack=rng.uniform(0.1, 0.35))
    if kind == "slow_ack":
        return ReceiverProfile(kind, ack_delay=rng.uniform(0.1, 0.6) * window_timeout, keepalive_interval=0.25)
    if kind == "held_ack":
        return ReceiverProfile(kind, ack_delay=rng.uniform(1.3, 2.0) * window_timeout, keepalive_interval=0.3)
    if kind == "mixed":
        return ReceiverProfile(kind, drop_before_ack=0.1, partial_ack=0.1, ack_delay=0.1, keepalive_interval=0.05)
    return ReceiverProfile()
