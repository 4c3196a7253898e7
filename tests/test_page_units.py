"""A run of OpenWhisk records as one unit (``paging.RecordsUnit``, ``records_units``): its payloads are
the records' in order, and after a failed send it credits exactly the records whose every payload was
acknowledged, also when it straddles sends; at the source, the checkpoint moves past exactly those."""

import json
import random

from logfwd.batcher import Batcher
from logfwd.deadline import Deadline, NO_DEADLINE
from logfwd.codecs.jsonbytes import json_payloads
from logfwd.errors import DeliveryError
from logfwd.pipeline import forward
from logfwd.sources.openwhisk.events import Payloads
from logfwd.sources.openwhisk.paging import HeldPage, RecordsUnit, records_units
from logfwd.sources.openwhisk.source import OpenWhiskSource

from fakes import FakeAPI, FakeClock, FakeSink, MemoryStore
from test_batcher import FailingAt  # acknowledges the first fail_at payloads, then fails a send

T0 = 1_700_000_000_000  # ms


def entry(rng, number: int, delivered: list) -> tuple:
    """A record of 0 to 4 lines, numbered, that says when it is marked delivered."""
    heads = [b'{"n":%d,"line":%d' % (number, line) + bytes(rng.randrange(0, 20)) for line in range(rng.randrange(0, 5))]
    return Payloads(heads, b',"shared":1}' if rng.random() < 0.8 else b"}"), lambda: delivered.append(number)


def test_a_page_unit_is_its_records_payloads_in_order_and_done_marks_them_all():
    rng, delivered = random.Random(3), []
    entries = [entry(rng, n, delivered) for n in range(40)]
    unit = RecordsUnit.of(entries).unit()
    assert list(unit.payloads) == [p for events, _ in entries for p in events]
    assert unit.partly is None
    unit.done()
    assert delivered == list(range(40))
    assert list(RecordsUnit.of([]).unit().payloads) == []


def test_records_go_in_units_of_at_most_so_many_lines_or_of_one_record():
    rng, delivered = random.Random(4), []
    entries = [entry(rng, n, delivered) for n in range(60)]
    for lines in (1, 3, 4, 10, 1000):
        units = list(records_units(entries, lines))
        assert [p for unit in units for p in unit.payloads] == [p for events, _ in entries for p in events]
        delivered.clear()
        for unit in units:
            assert len(unit.payloads) <= lines or len(record_sizes(unit)) == 1  # over it: one record alone
            unit.done()
        assert delivered == list(range(60))
        for unit, after in zip(units, units[1:]):  # none could have taken the next one's first record
            assert len(unit.payloads) + record_sizes(after)[0] > lines
    assert list(records_units([], 5)) == []


def record_sizes(unit) -> list[int]:
    """The payloads of each record of a unit made by ``records_units``."""
    ends = unit.done.__self__.ends
    return [end - before for before, end in zip([0, *ends], ends)]


def test_a_failed_send_credits_exactly_the_records_of_page_units_it_acknowledged_whole():
    """Page units among single-record ones, fitting a send or straddling several: after a send fails
    at any payload, the records marked delivered are exactly those whose every payload (none, for a
    record without lines) was acknowledged, in order, each once; the totals count their payloads."""
    rng = random.Random(41)
    for trial in range(600):
        delivered: list[int] = []
        pages, number = [], 0
        for _ in range(rng.randrange(1, 7)):
            page = [entry(rng, number + i, delivered) for i in range(rng.choice((1, 1, 3, 8, 30)))]
            number += len(page)
            pages.append(page)
        records = [events for page in pages for events, _ in page]
        total = sum(map(len, records))
        fail_at = rng.randrange(0, total + 1)
        max_events = rng.choice((1, 2, 5, 16, 2048))
        max_bytes = rng.choice((40, 300, 8 << 20))
        batcher = Batcher(FailingAt(fail_at), NO_DEADLINE, max_events=max_events, max_bytes=max_bytes)
        try:
            for page in pages:
                batcher.add(*RecordsUnit.of(page).unit())
            batcher.flush()
            batcher.drain()
        except DeliveryError:
            batcher.drain()
        expected, position = [], 0
        for n, events in enumerate(records):
            if position + len(events) > fail_at and fail_at < total:
                break
            position += len(events)
            expected.append(n)
        assert delivered == expected, (trial, [len(page) for page in pages], fail_at, max_events, max_bytes)
        assert batcher.events_sent == sum(len(records[n]) for n in expected)
        assert batcher.bytes_sent == sum(len(p) for n in expected for p in records[n])


def test_delivered_part_takes_the_records_wholly_within_what_was_acknowledged():
    rng, delivered = random.Random(5), []
    entries = [entry(rng, n, delivered) for n in range(12)]
    ends = [sum(len(events) for events, _ in entries[:n + 1]) for n in range(12)]
    for acknowledged in range(ends[-1]):
        delivered.clear()
        taken = RecordsUnit.of(entries).delivered_part(acknowledged)
        whole = [n for n in range(12) if ends[n] <= acknowledged]
        assert delivered == whole and taken == (ends[whole[-1]] if whole else 0)


def test_a_held_page_unit_is_the_page_oldest_first_packed_or_not():
    rng, delivered = random.Random(8), []
    entries = [entry(rng, n, delivered) for n in range(25)]  # as read: newest first
    for compress in (False, True):
        [unit] = HeldPage(list(entries), compress=compress).units(1000)
        assert list(unit.payloads) == [p for events, _ in reversed(entries) for p in events]
        delivered.clear()
        unit.done()
        assert delivered == list(range(24, -1, -1))


def test_a_packed_page_gives_the_units_of_the_page_held_as_built():
    """A packed page cuts its payloads from the inflated heads a unit at a time (``HeldPage._unpacked``):
    the same units as the page held as built gives through ``records_units`` (the general path), the
    same payloads, records and completions, whole or after a send acknowledged part of a unit."""
    rng = random.Random(10)
    for trial in range(200):
        delivered: list[int] = []
        entries = [entry(rng, n, delivered) for n in range(rng.randrange(0, 40))]
        lines = rng.choice((1, 2, 5, 16, 1000))
        plain = list(HeldPage(list(entries), compress=False).units(lines))
        packed = list(HeldPage(list(entries)).units(lines))
        assert [list(unit.payloads) for unit in packed] == [list(unit.payloads) for unit in plain], trial
        assert [record_sizes(unit) for unit in packed] == [record_sizes(unit) for unit in plain], trial
        for a, b in zip(packed, plain):
            acknowledged = rng.randrange(0, len(a.payloads) + 1)
            delivered.clear()
            taken = a.delivered_part(acknowledged), list(delivered)
            delivered.clear()
            assert taken == (b.delivered_part(acknowledged), delivered), trial
            delivered.clear()
            a.done()
            by_packed = list(delivered)
            delivered.clear()
            b.done()
            assert by_packed == delivered, trial


def test_a_held_page_counts_the_bytes_each_record_holds_packed_or_not():
    """The page's size (what the backlog budgets) is its records' heads and each tail once, whether it was
    counted as the page was packed, on the plain page, or before a later ``pack()``."""
    rng = random.Random(9)
    for trial in range(50):
        entries = [entry(rng, n, []) for n in range(rng.randrange(0, 30))]
        expected = sum(sum(map(len, events.heads)) + len(events.tail) for events, _ in entries)  # the tail once
        packed, plain, later = HeldPage(list(entries)), HeldPage(list(entries), compress=False), \
            HeldPage(list(entries), compress=False)
        later.pack()
        assert packed.size == plain.size == later.size == expected, trial
        assert packed.plain is None and later.plain is None and plain.plain is not None


def run(world, **options):
    clock, api, sink, store = world
    source = OpenWhiskSource(api, ["hello"], clock=clock, initial_lookback=3600, overlap=360.0,
                             held_pages=options.pop("held_pages", 16), unit_lines=options.pop("unit_lines", 512))
    return forward(source, sink, store, deadline=Deadline(), clock=clock, **options)


def test_a_failed_send_moves_the_checkpoint_past_exactly_the_records_it_acknowledged():
    """Live pages (newest first), then a settled backlog in pages (held, or from the far end), records
    of 0 to 4 lines: a send failing at any payload delivers exactly the records whose lines were all
    acknowledged, and the next run sends again only the acknowledged lines of the one record cut."""
    rng = random.Random(17)
    for trial in range(60):
        clock = FakeClock(T0 / 1000)
        world = clock, api, sink, store = clock, FakeAPI(clock), FakeSink(), MemoryStore()
        api.page_limit = rng.choice((5, 20, 200))
        live = [api.add("hello", T0 - 100_000 + i * 1000, lines=rng.randrange(0, 5)) for i in range(rng.randrange(0, 30))]
        settled = [api.add("hello", T0 - 3_000_000 + i * 1000, lines=rng.randrange(0, 5))
                   for i in range(rng.randrange(1, 120))]
        # The newest record is read first: with log lines, it shows that this deployment keeps logs in
        # its records, so a record without any is one that logged nothing (not one whose logs are late).
        (live or settled)[-1]["logs"].append("2023-11-14T22:13:20.000000000Z stdout: the newest")
        clock.now += 10
        max_events = rng.choice((3, 10, 64))
        sink.fail_next = rng.randrange(0, max_events + 1)
        first = run(world, max_events=max_events, held_pages=rng.choice((1, 2, 16)), unit_lines=rng.choice((1, 7, 512)))
        if first["ok"]:  # no line at all: no send to fail
            assert not sink.received
            continue
        acked = len(sink.received)
        lines = [len(r["logs"]) for r in live[::-1] + settled]  # as delivered: live newest first, then settled
        expected = position = 0
        while expected < len(lines) and position + lines[expected] <= acked:
            position += lines[expected]
            expected += 1
        assert first["records"] == expected and first["events"] == position, trial
        run(world)
        ids = [json.loads(p)["@metadata"]["_id"] for p in sink.received]
        assert set(ids) == {f"guest/{r['activationId']}:{i}" for r in api.records for i in range(len(r["logs"]))}
        resent = len(ids) - len(set(ids))
        assert resent == acked - position and (resent < lines[expected] if expected < len(lines) else resent == 0)


def test_the_json_sinks_payloads_are_the_same_asked_of_the_events_directly_or_through_the_encoder():
    """For the JSON sinks' encoder (``json_payloads``) the source asks a record's events for their
    payloads itself, skipping the calls between: the same payloads, in the same order, and the same
    counts of flagged lines, as any other encoder that gives them (here one wrapping it); live pages and
    a settled backlog's held pages alike."""
    def forwarded(encode):
        clock = FakeClock(T0 / 1000)
        api, rng = FakeAPI(clock), random.Random(5)
        api.page_limit = 5  # the settled ones a backlog, read in pages and held (a page, then from the far end)
        for i in range(50):  # live and settled records, of 0 to 3 lines, some unparsed or cut
            record = api.add("hello", T0 - (3_000_000 if i % 2 else 100_000) + i * 1000, lines=rng.randrange(0, 4),
                             activation_id=f"{i:032x}")
            long_line = "2023-11-14T22:13:20.000000000Z stderr: " + "x" * 90  # cut at max_line_bytes
            record["logs"] += rng.choice([[], ["not a log line"], [long_line]])
        clock.now += 10
        source = OpenWhiskSource(api, ["hello"], clock=clock, initial_lookback=3600, overlap=360.0, max_line_bytes=64,
                                 held_pages=1, unit_lines=7)
        source.open(None)
        payloads = [bytes(payload) for unit in source.units(encode=encode) for payload in unit.payloads]
        return payloads, source.unparsed, source.truncated

    direct, general = forwarded(json_payloads), forwarded(lambda events: json_payloads(events))
    assert direct == general
    payloads, unparsed, truncated = direct
    assert len(payloads) >= 100 and unparsed > 5 and truncated > 5
