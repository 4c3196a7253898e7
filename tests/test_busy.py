"""Busy actions: the live range is re-read only where counts say it gained records, the id memory holds
the live range, and nothing is lost or sent twice (the emulator as OpenWhisk, the receiver as Logstash)."""

import random
from collections import Counter

import requests

from logfwd.codecs.jsonbytes import dumps
from logfwd.retry import NO_WAIT
from logfwd.runner import run_once
from logfwd.settings import load_settings
from logfwd.sources.openwhisk.recheck import changed_ranges
from logfwd_dev.emulator.producer import Producer
from logfwd_dev.emulator.records import full_record


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
        emulator, receiver, clock, tmp_path, monkeypatch):
    read = []
    get = requests.Session.get

    def counted(self, *args, **kwargs):  # the bytes of every answer the forwarder reads
        response = get(self, *args, **kwargs)
        read.append(len(response.content))
        return response

    monkeypatch.setattr(requests.Session, "get", counted)
    producer = Producer(emulator.invoke, random.Random(4), clock, rate=8, actions=["busy"], max_duration=120,
                        lines=10)
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
    assert set(delivered) == {f"guest/{a['activationId']}:{i}" for a in produced for i in range(10)}
    assert max(delivered.values()) == 1  # the memory holds the whole live range: nothing twice
    record_bytes = sum(len(dumps(full_record(a, emulator.namespace))) for a in emulator.store.all())
    # Re-reading the whole live range (360 s of records every 60 s) would read each record ~6 times.
    assert sum(read) < 1.6 * record_bytes, (sum(read), record_bytes)
    print(f"read {sum(read) / record_bytes:.2f} bytes a byte of record")


def test_a_late_record_that_cannot_be_read_by_id_is_reported_and_the_rest_goes_on(
        emulator, receiver, clock, tmp_path, monkeypatch):
    from logfwd.errors import NotFoundError
    from logfwd.sources.openwhisk.api import OpenWhiskAPI

    params = {"apihost": emulator.url, "api_key": emulator.api_key, "actions": "busy",
              "logstash_hosts": "127.0.0.1:%d" % receiver.address[1], "logstash_tls": "false",
              "checkpoint": f"file:{tmp_path}/checkpoint.json", "overlap": "360"}
    base = int(clock.now * 1000)
    for i in range(1000):  # a live range of 1,000 records, read once
        emulator.add_activation("busy", start_ms=base - 300_000 + i * 200, lines=1)
    clock.now += 5
    assert run_once(load_settings(params, {}, None), clock=clock, retry=NO_WAIT)["events"] == 1000
    late = [emulator.add_activation("busy", start_ms=base - 250_000 + i, lines=1)["activationId"] for i in range(3)]
    clock.now += 60
    get = OpenWhiskAPI.get_activation

    def broken(self, activation_id):
        if activation_id == late[0]:
            raise NotFoundError("HTTP 404: the record cannot be read")
        return get(self, activation_id)

    monkeypatch.setattr(OpenWhiskAPI, "get_activation", broken)
    summary = run_once(load_settings(params, {}, None), clock=clock, retry=NO_WAIT)
    assert summary["events"] == 2 and f"activation {late[0]} is listed but cannot be read" in summary["errors"][0]
    assert {e["@metadata"]["_id"] for e in receiver.events[-2:]} == {f"guest/{i}:0" for i in late[1:]}


def test_the_recheck_reads_at_the_servers_list_limit_with_no_large_skip(receiver, clock, tmp_path):
    """A busy action on a server whose list limit is 50 and whose skips of 150 or more time out: the
    live range's recheck (counts, summaries, records by id) learns the limit and never needs a large skip."""
    from logfwd_dev.emulator import Emulator
    from logfwd_dev.emulator.platform import Platform

    with Emulator(clock=clock, rng=random.Random(6), max_limit=50, platform=Platform(skip_timeout=150)) as emu:
        producer = Producer(emu.invoke, random.Random(4), clock, rate=4, actions=["hello"], max_duration=60, lines=2)
        params = {"apihost": emu.url, "api_key": emu.api_key, "actions": "hello",
                  "logstash_hosts": "127.0.0.1:%d" % receiver.address[1], "logstash_tls": "false",
                  "checkpoint": f"file:{tmp_path}/checkpoint.json", "overlap": "360"}
        for _ in range(8):
            clock.now += 60
            producer.step()
            assert run_once(load_settings(params, {}, None), clock=clock, retry=NO_WAIT)["ok"]
        clock.now += 480
        assert run_once(load_settings(params, {}, None), clock=clock, retry=NO_WAIT)["ok"]
        responses = emu.stats()["responses"]
        produced = emu.produced()
    assert responses.get("504", 0) + responses.get("500", 0) == 0, responses
    delivered = Counter(event["@metadata"]["_id"] for event in receiver.events)
    assert set(delivered) == {f"guest/{a['activationId']}:{i}" for a in produced for i in range(2)}
    assert max(delivered.values()) == 1
