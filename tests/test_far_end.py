"""The far end of a settled backlog longer than the pages held: windows oldest first, placed by the
range's one count, with nothing lost, repeated or out of order whatever the starts look like."""

import json
import random

import pytest

from logfwd.sources.openwhisk import backlog

from test_pipeline import T0, delivered_ids, expected_ids, run, world  # noqa: F401 (world: a fixture)

SINCE = T0 + 10_000 - 3_600_000  # where the first run's lookback starts (the tests move the clock 10 s on)


def forwarded_in_order(world, **options) -> dict:
    clock, api, sink, store = world
    clock.now += 10
    summary = run(world, **options)
    assert summary["ok"] and not summary["more"]
    ids = delivered_ids(sink)
    assert len(ids) == len(set(ids)) and set(ids) == expected_ids(api)
    starts = [json.loads(p)["openwhisk"]["activation"]["start"] for p in sink.received]
    assert starts == sorted(starts)  # oldest first all the way: the checkpoint can follow
    assert run(world, **options)["records"] == 0
    return summary


def counting(api) -> list:
    calls, real = [], api.count_activations

    def count(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    api.count_activations = count
    return calls


def test_an_even_far_end_takes_one_count_and_about_a_list_a_page(world):
    clock, api, sink, store = world
    for i in range(2600):
        api.add("hello", SINCE + i * 1000, lines=1)
    counts = counting(api)
    summary = forwarded_in_order(world, held_pages=4)
    # The probe and four pages held, then 1,600 records in windows of three pages (four at most, a page
    # to spare): the count of the far end, and per window its three full pages and the short one that
    # shows its end (the last, with the 400 left, holds them all).
    assert len(counts) == 1
    assert summary["api_requests"] == 5 + 1 + 4 + 4 + 3


def test_an_empty_start_costs_nothing_the_first_window_is_as_dense_as_the_pages_above(world):
    clock, api, sink, store = world
    for i in range(2000):
        api.add("hello", SINCE + 2_000_000 + i * 500, lines=1)  # nothing in the range's first 2,000 s
    counts = counting(api)
    summary = forwarded_in_order(world, held_pages=4)
    # The probe and four pages held, the count of the far end (1,000 records), a window of three pages
    # and a short one, then the last 400 (two pages and a short one).
    assert len(counts) == 1 and summary["api_requests"] == 5 + 1 + 4 + 3


def test_an_older_part_denser_than_its_share_goes_out_before_the_window_that_found_it(world):
    clock, api, sink, store = world
    for i in range(1000):
        api.add("hello", SINCE + i * 200, lines=1)  # 1,000 records in the first 200 s
    for i in range(2000):
        api.add("hello", SINCE + 2_700_000 + i * 200, lines=1)  # and 2,000 in 400 s, 45 min later
    counts = counting(api)
    summary = forwarded_in_order(world, held_pages=4)
    # The far end's first window, as dense as the pages above it, reaches the older records: it holds
    # five pages without an end, and the part below them is counted and read before them.
    assert len(counts) == 2 and summary["api_requests"] <= 3000 / 200 + 5


@pytest.mark.parametrize("seed", range(16))
def test_far_ends_of_any_shape_go_out_whole_once_and_oldest_first(world, seed):
    """Bursts denser than a window's share, crowded milliseconds, an empty start, records that log a
    lot: what a window could not hold goes out before it, and nothing is lost."""
    clock, api, sink, store = world
    rng = random.Random(seed)
    for _ in range(rng.randint(3, 8)):
        at, spread = SINCE + rng.randint(0, 3_200_000), rng.choice([0, 50, 5_000, 500_000, 3_000_000])
        logs = ["2023-11-14T22:13:20.000000000Z stdout: " + "x" * 2000] * 5 if rng.random() < 0.2 else None
        for _ in range(rng.choice([1, 30, 250, 700])):
            api.add("hello", min(T0 - 400_000, at + rng.randint(0, spread)), lines=1, logs=logs)  # settled
    options = {"held_pages": rng.randint(1, 4)}
    if rng.random() < 0.3:
        options["held_bytes"] = 3 << 20
    forwarded_in_order(world, **options)


def test_windows_held_together_share_the_budget_of_events_held_as_built(world, monkeypatch):
    clock, api, sink, store = world
    monkeypatch.setattr(backlog, "HELD_PLAIN_BYTES", 20_000)  # a few hundred events
    for i in range(1500):
        api.add("hello", SINCE + 3_000_000 + i * 100, lines=1)  # dense at the end: windows held together
    packed = []
    real_pack = backlog.HeldPage.pack

    def pack(page):
        packed.append(page.plain is not None)
        real_pack(page)

    monkeypatch.setattr(backlog.HeldPage, "pack", pack)
    forwarded_in_order(world, held_pages=2)
    assert any(packed)  # past the budget, pages were compressed
