"""The forwarder loses nothing under each of the real platform's timing and paging behaviours.

Each test switches one behaviour of the emulator on (``logfwd_dev.emulator.platform.Platform``),
keeps invoking actions while the fake clock moves, runs the OpenWhisk source once an alarm period
(its units acknowledged as a sink would, its checkpoint carried to the next run), drains, and then
checks that every log line produced arrived, and that an id never came with two different contents.
"""

import json
import random

import pytest

from logfwd.retry import NO_WAIT
from logfwd.sources.openwhisk.api import OpenWhiskAPI
from logfwd.sources.openwhisk.source import OpenWhiskSource
from logfwd_dev.emulator import Emulator
from logfwd_dev.emulator.platform import Platform
from logfwd_dev.emulator.records import ActionSpec

from fakes import T0

CATALOG = (
    ActionSpec("hello", "python:3.11", timeout=60_000),
    ActionSpec("shop/cart", "nodejs:18", timeout=10_000),
    ActionSpec("shop/checkout", "nodejs:18", timeout=30_000),
    ActionSpec("shop/order-flow", "sequence", components=("shop/cart", "shop/checkout")),
    ActionSpec("every-minute", "trigger", rule_action="hello"),
)
EVERY = 60.0  # the alarm period, s


class Forwarder:
    """Runs of the OpenWhisk source against the emulator, acknowledging every unit like a sink."""

    def __init__(self, emulator, clock, actions=("*",), **options):
        self.emulator, self.clock, self.actions = emulator, clock, actions
        self.options = {"settle": 1.0, "initial_lookback": 3600.0, **options}
        self.document = None
        self.content: dict[str, tuple] = {}
        self.conflicts: set[str] = set()
        self.copies = 0
        self.errors: list[str] = []
        self.last = None

    def run(self) -> OpenWhiskSource:
        api = OpenWhiskAPI(self.emulator.url, self.emulator.api_key, retry=NO_WAIT)
        source = OpenWhiskSource(api, self.actions, clock=self.clock, **self.options)
        try:
            source.open(self.document)
            for unit in source.units():
                for payload in unit.payloads:
                    self._received(json.loads(payload))
                if unit.done:
                    unit.done()
            self.document = source.checkpoint()
        finally:
            api.close()
        self.errors += source.errors
        self.last = source
        return source

    def _received(self, event: dict) -> None:
        self.copies += 1
        event_id = event["@metadata"]["_id"]
        content = (event.get("message"), event.get("@timestamp"))
        if self.content.setdefault(event_id, content) != content:
            self.conflicts.add(event_id)

    def lost(self) -> set[str]:
        expected = {f"guest/{a['activationId']}:{i}" for a in self.emulator.produced()
                    if not a.get("unlisted") for i in range(a["lines"])}
        return expected - set(self.content)


def simulate(emulator, clock, forwarder, *, intervals=8, rate=0.5, actions=("hello", "shop/cart"),
             max_duration_ms=20_000, lines=3, drain_intervals=8, seed=5):
    """Invocations start through ``intervals`` alarm periods, the forwarder runs at the end of each,
    then through ``drain_intervals`` more without new invocations."""
    rng = random.Random(seed)
    for _ in range(intervals):
        for _ in range(int(rate * EVERY)):
            start = int((clock.now + rng.uniform(0, EVERY)) * 1000)
            emulator.invoke(rng.choice(actions), start, max_duration_ms, lines)
        clock.now += EVERY
        forwarder.run()
    for _ in range(drain_intervals):
        clock.now += EVERY
        forwarder.run()
    return forwarder


def emulator_with(clock, platform=Platform(), **options):
    return Emulator(clock=clock, rng=random.Random(11), catalog=CATALOG, platform=platform, **options)


def backlog(emulator, count, *, name="hello", span_s=3000.0, same_ms_every=0, lines=2):
    """``count`` finished activations over the past ``span_s`` s; runs of ``same_ms_every`` share a start."""
    now_ms = int(T0 * 1000)
    for i in range(count):
        group = i // same_ms_every if same_ms_every else i
        start = now_ms - int(span_s * 1000) + group * (int(span_s * 1000) // max(1, count))
        emulator.add_activation(name, start_ms=start, lines=lines)


def assert_nothing_lost(forwarder):
    lost = forwarder.lost()
    assert not lost, f"{len(lost)} lines lost, e.g. {sorted(lost)[:3]}; errors: {forwarder.errors[:3]}"
    assert not forwarder.conflicts


# -- 1. stale list index ---------------------------------------------------------------------------


def test_stale_index_answers_from_the_previous_query(clock):
    with emulator_with(clock, Platform(stale_index=True), list_lag=2.0) as emulator:
        forwarder = simulate(emulator, clock, Forwarder(emulator, clock, overlap=200.0))
    assert_nothing_lost(forwarder)


# -- 2. records that appear up to 2 x the time limit after their start; sequences after components --


def test_late_records_and_sequences_with_the_automatic_overlap(clock):
    platform = Platform(late_records=True, log_collection=20.0, stale_index=True)
    with emulator_with(clock, platform, list_lag=2.0) as emulator:
        forwarder = Forwarder(emulator, clock, overlap=None, schedule_interval=EVERY)
        simulate(emulator, clock, forwarder, actions=("hello", "shop/cart", "shop/order-flow"),
                 max_duration_ms=60_000, rate=0.4)
        produced = emulator.produced()
    late = [a for a in produced if a["storedAt"] - a["start"] > 60_000]
    assert late, "the emulator produced no record later than one time limit"
    assert_nothing_lost(forwarder)


def test_the_old_rule_time_limit_plus_margin_loses_late_records(clock):
    """The emulator is unkind enough: an overlap of the longest time limit plus 30 s loses lines."""
    platform = Platform(late_records=True, log_collection=20.0, stale_index=True)
    with emulator_with(clock, platform, list_lag=2.0) as emulator:
        forwarder = simulate(emulator, clock, Forwarder(emulator, clock, overlap=90.0),
                             actions=("hello",), max_duration_ms=60_000, rate=0.4)
    assert forwarder.lost()


# -- 3. ties on start ------------------------------------------------------------------------------


@pytest.mark.parametrize("ties, drop_rate", [("id", 0.0), ("id", 0.05), ("elasticsearch", 0.0)])
def test_ties_in_any_order_across_page_ends(clock, ties, drop_rate):
    with emulator_with(clock, Platform(ties=ties, drop_rate=drop_rate), max_limit=50) as emulator:
        backlog(emulator, 600, same_ms_every=70)  # tie groups larger than a page, cut by page ends
        forwarder = Forwarder(emulator, clock, overlap=120.0)
        simulate(emulator, clock, forwarder, intervals=3, drain_intervals=4)
    assert_nothing_lost(forwarder)


# -- 4. short pages mid-range ----------------------------------------------------------------------


def test_a_short_page_does_not_end_the_range(clock):
    with emulator_with(clock, Platform(drop_rate=0.03)) as emulator:
        backlog(emulator, 1500)
        forwarder = Forwarder(emulator, clock, overlap=120.0)
        simulate(emulator, clock, forwarder, intervals=2, drain_intervals=3)
        unlisted = sum(a["unlisted"] for a in emulator.produced())
    assert unlisted > 10
    assert_nothing_lost(forwarder)


# -- 5. deployment limits --------------------------------------------------------------------------


def test_a_list_limit_below_200_is_learned_from_the_400(clock):
    with emulator_with(clock, max_limit=40) as emulator:
        backlog(emulator, 500)
        forwarder = Forwarder(emulator, clock, overlap=120.0)
        simulate(emulator, clock, forwarder, intervals=2, drain_intervals=2)
        assert forwarder.errors == []
    assert_nothing_lost(forwarder)


def test_large_skips_that_time_out_are_never_needed(clock):
    with emulator_with(clock, Platform(skip_timeout=150)) as emulator:
        backlog(emulator, 3000, span_s=3500.0)
        forwarder = Forwarder(emulator, clock, overlap=120.0)
        simulate(emulator, clock, forwarder, intervals=2, drain_intervals=3)
        assert emulator.stats()["responses"].get("504", 0) + emulator.stats()["responses"].get("500", 0) == 0
    assert_nothing_lost(forwarder)


# -- 6. external log stores ------------------------------------------------------------------------


def test_logs_filled_late_are_fetched_on_a_later_run(clock):
    with emulator_with(clock, Platform(log_store="delayed", logs_delay=100.0)) as emulator:
        forwarder = simulate(emulator, clock, Forwarder(emulator, clock, overlap=120.0, logs_wait=600.0))
        assert forwarder.last.summary()["logs_unavailable"] == 0
    assert_nothing_lost(forwarder)


def test_logs_that_never_come_end_in_a_counted_marker(clock):
    with emulator_with(clock, Platform(log_store="unavailable")) as emulator:
        emulator.add_activation("hello", start_ms=int((T0 - 30) * 1000), lines=3)
        forwarder = Forwarder(emulator, clock, overlap=120.0, logs_wait=150.0)
        for step in (1, 60, 120):  # live, then settled: from then on it waits by id, for logs_wait
            clock.now += step
            forwarder.run()
            assert forwarder.copies == 0 and forwarder.last.summary()["more"]
            assert forwarder.last.summary()["logs_pending"] == 1
        clock.now += 200
        forwarder.run()
        [(event_id, (message, _))] = forwarder.content.items()
        assert forwarder.last.summary()["logs_unavailable"] == 1
        assert event_id.endswith(":logs-unavailable") and "not available" in message
        clock.now += 60
        forwarder.run()
        assert forwarder.copies == 1 and not forwarder.last.summary()["more"], "the marker is sent once"


# -- 7. trigger records ----------------------------------------------------------------------------


def test_bare_trigger_records(clock):
    with emulator_with(clock, Platform(bare_triggers=True)) as emulator:
        forwarder = simulate(emulator, clock, Forwarder(emulator, clock, overlap=120.0),
                             actions=("every-minute", "hello"), intervals=3)
    assert forwarder.errors == []
    assert_nothing_lost(forwarder)


# -- 8. controller faults --------------------------------------------------------------------------


def test_500_and_504_among_the_faults(clock):
    with emulator_with(clock, Platform(server_errors=True), fail_rate=0.25) as emulator:
        forwarder = simulate(emulator, clock, Forwarder(emulator, clock, overlap=120.0))
        faults = emulator.stats()["faults"]
    assert faults["500"] and faults["504"]
    assert_nothing_lost(forwarder)


# -- all of them -----------------------------------------------------------------------------------


def test_the_real_platform_with_every_behaviour_on(clock):
    platform = Platform.real(logs_delay=90.0, skip_timeout=300)
    with emulator_with(clock, platform, list_lag=2.0, max_limit=60, fail_rate=0.1) as emulator:
        backlog(emulator, 400, same_ms_every=30)
        forwarder = Forwarder(emulator, clock, overlap=None, schedule_interval=EVERY, logs_wait=600.0)
        simulate(emulator, clock, forwarder, actions=("hello", "shop/cart", "shop/order-flow", "every-minute"),
                 max_duration_ms=60_000, intervals=10, drain_intervals=10)
    assert_nothing_lost(forwarder)
