"""One harness per registered source, for the source contract suite (``test_source_contract.py``).

A harness builds its source over a real stand-in for the platform with a given set of records: good
ones (each with a message), one bad record among them, or none. Adding a source means adding its
harness to ``HARNESSES``; the suite fails for a registered source without one.
"""

import contextlib
import random
from typing import Iterator, Protocol

from logfwd.plugs import Context, plug
from logfwd.settings import load_settings
from logfwd_dev.emulator.server import Emulator

from fakes import T0, FakeClock
from kinesis_events import KinesisHarness
from harness_s3 import S3Harness


class Harness(Protocol):
    name: str

    def source(self, messages: list[str], bad: bool = False) -> "contextlib.AbstractContextManager":
        """A built source whose input holds one record per message (and one bad record if ``bad``)."""


def build(params: dict, **context):
    settings = load_settings({"source": params.pop("source"), "sink": "lumberjack",
                              "logstash_hosts": "127.0.0.1:1", **params}, {}, None)
    return plug("source", settings.source).build(settings, Context(**context))


class OpenWhiskHarness:
    name = "openwhisk"

    @contextlib.contextmanager
    def source(self, messages: list[str], bad: bool = False) -> Iterator:
        clock = FakeClock(T0)
        with Emulator(clock=clock, rng=random.Random(1)) as emulator:
            start = int(T0 * 1000) - 120_000
            for i, message in enumerate(messages):
                emulator.add_activation("hello", start_ms=start + i, lines=[f"2026-11-30T05:00:00.000Z stdout: {message}"])
            if bad:  # listed at its start, but its record says "start": "yesterday": reported, never fatal
                emulator.add_activation("hello", start_ms=start + len(messages), lines=[], start="yesterday")
            yield build({"source": "openwhisk", "apihost": emulator.url, "api_key": emulator.api_key,
                         "actions": "hello", "initial_lookback": "3600"}, clock=clock)


from drain_harnesses import LogplexHarness  # noqa: E402  (it builds with build() above)

HARNESSES: dict[str, Harness] = {
    "openwhisk": OpenWhiskHarness(),
    "kinesis": KinesisHarness(),
    "logplex": LogplexHarness(),
    "s3": S3Harness(),
}
