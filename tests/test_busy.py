"""Busy actions: the live range is re-read only where counts say it gained records, the id memory holds
the live range, and nothing is lost or sent twice (the emulator as OpenWhisk, the receiver as Logstash)."""

import random
from collections import Counter

from logfwd.retry import NO_WAIT
from logfwd.runner import run_once
from logfwd.settings import load_settings
from logfwd.sources.openwhisk.recheck import changed_ranges
from logfwd_dev.emulator.producer import Producer


class Index:
    """Starts of the records a list would count; ``counted`` keeps each question."""

    def __init__(self, starts):
        self.starts, self.counted = sorted(starts), []

    def count(self, low, high):
        self.counted.append((low, high))
        return sum(low <= s <= high for s in self.starts)


def test_a_range_that_gained_nothing_costs_one_count():
    known = list(range(0, 10_000, 10))
    index = Index(known)
    assert changed_ranges(index.count, known, 0, 9_999, page=200) == []
    assert index.counted == [(0, 9_999)]


def test_a_late_record_is_found_by_halving_down_to_a_page():
    known = list(range(0, 10_000, 10))
    index = Index(known + [5_005])
    ranges = changed_ranges(index.count, known, 0, 9_999, page=200)
    assert len(ranges) == 1 and ranges[0][0] <= 5_005 <= ranges[0][1]
    low, high, records = ranges[0]
    assert records == sum(low <= s <= high for s in index.starts)
    assert sum(low <= s <= high for s in known) <= 200
    assert len(index.counted) <= 2 * 4 + 1  # two counts a halving


def test_a_range_that_lost_a_remembered_record_is_read_even_if_it_gained_one():
    known = [1, 2, 3]
    assert changed_ranges(Index([1, 2]).count, known, 0, 10, page=200) == [(0, 10, 2)]
    assert changed_ranges(Index([1, 2, 3, 4, 5]).count, known, 0, 10, page=1) != []


def test_every_record_at_one_crowded_millisecond_is_one_range():
    known = [7] * 500
    assert [r[:2] for r in changed_ranges(Index(known + [7]).count, known, 0, 20, page=200)] in ([(0, 7)], [(7, 7)])


def test_a_busy_action_is_forwarded_whole_once_reading_little_more_than_its_new_records(
        emulator, receiver, clock, tmp_path):
    producer = Producer(emulator._invoke, random.Random(4), clock, rate=8, actions=["busy"], max_duration=120,
                        lines=1)
    params = {"apihost": emulator.url, "api_key": emulator.api_key, "actions": "busy",
              "logstash_hosts": "127.0.0.1:%d" % receiver.address[1], "logstash_tls": "false",
              "checkpoint": f"file:{tmp_path}/checkpoint.json", "overlap": "360"}
    counted = []
    for _ in range(12):
        clock.now += 60
        producer.step()
        summary = run_once(load_settings(params, {}, None), clock=clock, retry=NO_WAIT)
        assert summary["ok"], summary
        counted.append(summary["api_requests"])
    clock.now += 480
    assert run_once(load_settings(params, {}, None), clock=clock, retry=NO_WAIT)["ok"]

    produced = [a for a in emulator.produced()]
    delivered = Counter(event["@metadata"]["_id"] for event in receiver.events)
    assert set(delivered) == {f"guest/{a['activationId']}:0" for a in produced}
    assert max(delivered.values()) == 1  # the memory holds the whole live range: nothing twice
    served = emulator.stats()["served"]["records"]
    # Re-reading the whole live range (360 s of records every 60 s) would serve each record ~6 times.
    assert served < 2 * len(produced), (served, len(produced))
    print(f"served {served} records for {len(produced)} produced")
