"""The pipeline and the cursor against in-memory fakes: what is delivered, what the checkpoint keeps."""

import json
import random

import pytest

from logfwd.deadline import Deadline
from logfwd.pipeline import forward
from logfwd.codecs.jsonbytes import json_payloads as payloads
from logfwd.sources.openwhisk.events import activation_events
from logfwd.sources.openwhisk.paging import HeldPage
from logfwd.sources.openwhisk.source import OpenWhiskSource

from fakes import FakeAPI, FakeClock, FakeSink, MemoryStore

T0 = 1_700_000_000_000  # ms


@pytest.fixture
def world():
    clock = FakeClock(T0 / 1000)
    return clock, FakeAPI(clock), FakeSink(), MemoryStore()


def run(world, actions=("hello",), deadline=None, **options):
    clock, api, sink, store = world
    options.setdefault("initial_lookback", 3600)
    options.setdefault("overlap", 360.0)  # a fixed overlap: the fakes have no action limits to derive one from
    max_events = options.pop("max_events", 50)
    source = OpenWhiskSource(api, actions, clock=clock, **options)
    return forward(source, sink, store, deadline=deadline or Deadline(), max_events=max_events, clock=clock)


def delivered_ids(sink) -> list[str]:
    return [json.loads(p)["@metadata"]["_id"] for p in sink.received]


def expected_ids(api) -> set[str]:
    return {f"guest/{r['activationId']}:{i}" for r in api.records for i in range(len(r["logs"]))}


def test_backlog_over_200_is_delivered_oldest_first_and_once(world):
    clock, api, sink, store = world
    for i in range(450):
        api.add("hello", T0 - 3_000_000 + i * 1000)
    clock.now += 10
    summary = run(world)
    assert summary["ok"] and summary["records"] == 450 and summary["events"] == 900
    ids = delivered_ids(sink)
    assert len(ids) == len(set(ids)) == 900 and set(ids) == expected_ids(api)
    starts = [json.loads(p)["openwhisk"]["activation"]["start"] for p in sink.received]
    assert starts == sorted(starts)  # the settled range goes oldest first
    # the first page (the newest 200), then the older 250 in two pages: held, so no count is needed
    assert api.requests_made == 3

    again = run(world)
    assert again["records"] == 0 and len(sink.received) == 900


def test_a_small_range_takes_one_request(world):
    clock, api, sink, store = world
    for i in range(150):
        api.add("hello", T0 - 1_000_000 + i * 5000)  # settled and live records, 150 in all
    clock.now += 10
    assert run(world)["records"] == 150 and api.requests_made == 1


def test_large_live_and_settled_ranges_take_one_request_per_200(world):
    clock, api, sink, store = world
    for i in range(300):
        api.add("hello", T0 - 300_000 + i * 100)      # live
        api.add("hello", T0 - 2_000_000 + i * 1000)   # settled
    clock.now += 10
    summary = run(world)
    assert summary["records"] == 600 and set(delivered_ids(sink)) == expected_ids(api)
    # live: the first page and one more; settled: two pages
    assert api.requests_made == 4


@pytest.mark.parametrize(("settled", "held_pages", "requests"), [
    (400, 16, 3),   # a range that is a whole number of pages: one empty page shows its end
    # Longer than the pages held: the first page, the held ones, a count of the far end, then windows
    # (placed by that count, with none of their own; a page to spare) read newest first without a
    # large skip: each next page narrows `upto` to the last start seen. A window of a page and a short
    # one, then the rest in the last.
    (1050, 2, 3 + 1 + 2 + 2),
    (1000, 2, 3 + 1 + 2 + 2),
    (601, 1, 2 + 1 + 1 + 1),    # windows of half a page
])
def test_settled_backlog_past_the_held_pages_is_counted_and_read_from_its_far_end(world, settled, held_pages,
                                                                                   requests):
    check_settled_backlog(world, settled, requests, held_pages=held_pages)


def test_holding_stops_at_the_byte_budget_for_activations_that_log_a_lot(world):
    clock, api, sink, store = world
    big = ["2023-11-14T22:13:20.000000000Z stdout: " + "x" * 2000] * 10  # ~20 KB of events per activation
    # 200 records take ~4 MB: a 5 MB budget holds one page past the first, then the far end is counted
    # and read in windows of what 5 MB holds (226 records: a page and a short one each).
    check_settled_backlog(world, 1000, 2 + 1 + 2 + 2 + 1, logs=big, held_bytes=5 << 20)


def check_settled_backlog(world, settled, requests, logs=None, **options):
    clock, api, sink, store = world
    for i in range(settled):
        api.add("hello", T0 - 3_000_000 + i * 1000, lines=1, logs=logs)
    clock.now += 10
    summary = run(world, **options)
    assert summary["ok"] and summary["records"] == settled
    ids = delivered_ids(sink)
    assert len(ids) == len(set(ids)) and set(ids) == expected_ids(api)
    starts = [json.loads(p)["openwhisk"]["activation"]["start"] for p in sink.received]
    assert starts == sorted(starts)  # oldest first all the way: the checkpoint can follow
    assert api.requests_made == requests
    assert run(world, **options)["records"] == 0


def test_a_held_page_gives_back_its_records_oldest_first_byte_for_byte():
    records = [{"activationId": f"{i:032x}", "start": T0 + i, "namespace": "guest", "name": "a",
                "logs": [f"2023-11-14T22:13:20.{j:09d}Z stdout: {'é✓' * j} line {j}" for j in range(i % 4)]}
               for i in range(50)]  # records with 0 to 3 lines, non-ASCII text
    entries = [(payloads(activation_events(record)), object()) for record in records]  # newest first, as read
    for compress in (True, False):
        page = HeldPage(list(entries), compress=compress)
        assert len(page.blob) < page.size if compress else page.plain is not None
        units = list(page.units(7))
        assert [p for unit in units for p in unit.payloads] == [p for events, _ in entries[::-1] for p in events]
        assert [done for unit in units for done in unit.done.__self__.dones] == [done for _, done in entries[::-1]]
    assert list(HeldPage([]).units(7)) == [] and list(HeldPage([], compress=False).units(7)) == []


def test_late_activation_is_forwarded_by_a_later_run(world):
    clock, api, sink, store = world
    api.add("hello", T0 - 1000)
    late = api.add("hello", T0 - 2000, visible_after=200)  # started earlier, ends and shows 200 s later
    clock.now += 5
    assert run(world)["records"] == 1
    clock.now += 60
    assert run(world)["records"] == 0
    clock.now += 200
    assert run(world)["records"] == 1
    assert any(late["activationId"] in i for i in delivered_ids(sink))
    assert set(delivered_ids(sink)) == expected_ids(api)


def test_identical_start_milliseconds_across_a_cut_short_run(world):
    clock, api, sink, store = world
    for _ in range(7):
        api.add("hello", T0 - 2_000_000)  # all in the same millisecond, in the settled range
    clock.now += 10
    sink.fail_next = 5  # the window acks 5 of 14 payloads, then the receiver goes away
    first = run(world, max_events=50)
    assert not first["ok"] and first["more"]
    second = run(world)
    assert second["ok"]
    ids = delivered_ids(sink)
    assert set(ids) == expected_ids(api)
    # only the activations not wholly acknowledged are sent again: at most one partly-sent activation
    assert len(ids) - len(set(ids)) <= 1


def test_delivery_failure_keeps_the_checkpoint_behind_what_was_not_acknowledged(world):
    clock, api, sink, store = world
    for i in range(30):
        api.add("hello", T0 - 2_000_000 + i, lines=3)
    clock.now += 10
    sink.fail_next = 0
    summary = run(world, max_events=10)
    assert not summary["ok"] and "receiver went away" in summary["errors"][0]
    assert summary["records"] == 0
    run(world, max_events=10)
    assert set(delivered_ids(sink)) == expected_ids(api)


def test_deadline_cuts_the_run_and_the_next_run_continues(world):
    clock, api, sink, store = world
    for i in range(1000):
        api.add("hello", T0 - 3_000_000 + i * 100)
    clock.now += 10

    def ticking() -> float:  # every check of the deadline (about one a page) costs 5 s of wall time
        clock.now += 5
        return clock()

    summary = run(world, deadline=Deadline(at=clock.now + 120, grace=20, clock=ticking))
    assert summary["more"] and summary["stopped_at_deadline"] and 0 < summary["records"] < 1000
    assert summary["lag_seconds"] > 0
    while run(world)["more"]:
        pass
    ids = delivered_ids(sink)
    assert set(ids) == expected_ids(api) and len(ids) == len(set(ids))


def test_runs_against_a_slow_api_keep_moving_the_cursor_and_their_deadline(world):
    clock, api, sink, store = world
    for i in range(3000):
        api.add("hello", T0 - 3_000_000 + i * 500, lines=1)
    list_activations, count_activations = api.list_activations, api.count_activations

    def slow(call):  # every request takes 3 s
        def answer(*args, **kwargs):
            clock.now += 3
            return call(*args, **kwargs)
        return answer

    api.list_activations, api.count_activations = slow(list_activations), slow(count_activations)
    delivered = []
    for _ in range(20):  # one run a minute, each with a minute to run and 20 s of grace
        clock.now += 60
        deadline = Deadline(at=clock.now + 60, grace=20, clock=clock)
        summary = run(world, deadline=deadline)
        # Holding the newest pages takes at most half the pulling time: the oldest still go out.
        assert clock.now <= deadline.at and summary["records"] > 0, summary
        delivered.append(summary["records"])
        if not summary["more"]:
            break
    assert not summary["more"] and sum(delivered) == 3000
    ids = delivered_ids(sink)
    assert set(ids) == expected_ids(api) and len(ids) == len(set(ids))


def test_action_added_later_starts_at_the_initial_lookback_and_removed_is_forgotten(world):
    clock, api, sink, store = world
    api.add("hello", T0 - 1000)
    api.add("shop/cart", T0 - 7200_000)  # older than the lookback: not forwarded
    api.add("shop/cart", T0 - 60_000)
    clock.now += 5
    run(world, actions=["hello"])
    summary = run(world, actions=["hello", "shop/cart"])
    assert summary["actions"]["shop/cart"].items() >= {"activations": 1, "events": 2, "new": True, "overlap_seconds": 360.0}.items()
    assert summary["actions"]["hello"]["activations"] == 0
    summary = run(world, actions=["shop/cart"])
    assert "no longer monitoring 'hello'" in summary["warnings"][0]
    assert set(store.document["source"]["actions"]) == {"shop/cart"}


def test_unreadable_checkpoint_starts_over_with_a_warning(world):
    clock, api, sink, store = world
    api.add("hello", T0 - 1000)
    clock.now += 5
    store.document = {"source": {"type": "openwhisk", "namespace": "_", "actions": {"hello": {"since": "x"}}}}
    summary = run(world)
    assert summary["records"] == 1 and "checkpoint unreadable" in summary["warnings"][0]


def test_bad_record_is_reported_and_the_rest_forwarded(world):
    clock, api, sink, store = world
    api.add("hello", T0 - 1000)
    bad = api.add("hello", T0 - 900)
    del bad["start"]
    bad["_visible"] = 0
    clock.now += 5
    summary = run(world)
    assert summary["records"] >= 1 and summary["errors"] and bad["activationId"] in summary["errors"][0]
    assert not summary["ok"]


@pytest.mark.parametrize("seed", range(12))
def test_nothing_is_lost_whatever_fails(world, seed):
    """Many runs over a stream of activations that show up late, share milliseconds and arrive in
    bursts above 200, with windows failing part-way and runs cut by their deadline."""
    clock, api, sink, store = world
    rng = random.Random(seed)
    for _ in range(40):
        for _ in range(rng.choice([0, 3, 30, 250])):
            start = int(clock.now * 1000) - rng.randint(0, 60_000)
            if rng.random() < 0.2:
                start = int(clock.now * 1000) - 1000  # same millisecond as others
            api.add("hello", start, lines=rng.randint(0, 4), visible_after=rng.choice([0, 1, 30, 290]))
        clock.now += rng.choice([1, 10, 60])
        if rng.random() < 0.3:
            sink.fail_next = rng.randint(0, 40)
        at = clock.now + rng.choice([1000, 40]) if rng.random() < 0.3 else None

        def ticking() -> float:  # each check of the deadline takes a while
            clock.now += 0.05
            return clock()

        run(world, deadline=Deadline(at=at, grace=20, clock=ticking), overlap=360, max_events=37)
    clock.now += 400
    for _ in range(20):
        if not run(world)["more"]:
            break
    ids = delivered_ids(sink)
    assert expected_ids(api) <= set(ids), "lost lines"


def test_an_unexpected_error_still_saves_what_was_delivered(world, monkeypatch):
    clock, api, sink, store = world
    api.page_limit = 5  # a unit a page: the pages before the one that breaks go out first
    for i in range(20):
        api.add("hello", T0 - 100_000 + i)  # in the live range: its pages go out as they are read
    clock.now += 10
    import logfwd.sources.openwhisk.source as source_module
    real, calls = source_module.activation_events, []

    def breaks_on_the_fifteenth(record, **kwargs):
        calls.append(record)
        if len(calls) == 15:
            raise RuntimeError("a bug")
        return real(record, **kwargs)

    monkeypatch.setattr(source_module, "activation_events", breaks_on_the_fifteenth)
    summary = run(world, max_events=4)
    assert not summary["ok"] and "RuntimeError: a bug" in summary["errors"][0]
    assert 0 < summary["records"] < 15 and store.document is not None  # the acknowledged part is saved
    monkeypatch.setattr(source_module, "activation_events", real)
    run(world)
    assert set(delivered_ids(sink)) == expected_ids(api)


def test_a_batcher_hands_the_gil_over_promptly_while_it_runs_and_restores_the_interval_after():
    import sys

    from logfwd.batcher import SWITCH_INTERVAL, Batcher
    from logfwd.deadline import NO_DEADLINE

    before = sys.getswitchinterval()
    assert before > SWITCH_INTERVAL  # Python's default, 5 ms
    seen = []
    sink = FakeSink()
    sink.send = lambda payloads, deadline: seen.append(sys.getswitchinterval())  # on the sender's thread
    batcher = Batcher(sink, NO_DEADLINE)
    batcher.add([b"{}"])
    batcher.flush()
    batcher.drain()
    assert seen == [SWITCH_INTERVAL] and sys.getswitchinterval() == before
