"""The batcher's sends: a unit given as a list (added whole when it fits) makes the same sends, with
the same completions, as the same unit given any other way (added payload by payload)."""

import random

from logfwd.batcher import Batcher
from logfwd.deadline import NO_DEADLINE
from logfwd.errors import DeliveryError


class Recorder:
    def __init__(self):
        self.sends = []

    def send(self, payloads, deadline):
        self.sends.append(list(payloads))


def partly(sinks):  # what a tee runs when only some of its sinks took a unit
    raise AssertionError("not called here")


def sends(units, as_list: bool, max_events: int, max_bytes: int):
    sink, done, queued = Recorder(), [], []
    batcher = Batcher(sink, NO_DEADLINE, max_events=max_events, max_bytes=max_bytes)
    for number, unit in enumerate(units):
        batcher.add(list(unit) if as_list else tuple(unit), lambda number=number: done.append(number), partly)
        queued.append([(*completion[:3], completion[4]) for completion in batcher.completions])
    batcher.flush()
    batcher.drain()
    return sink.sends, done, batcher.events_sent, batcher.bytes_sent, queued


def greedy_sends(payloads, max_events: int, max_bytes: int) -> list[list[bytes]]:
    """The sends of the plainest batcher: payload by payload, a send handed over once the next payload
    would overfill it (a payload larger than a send goes alone)."""
    sends, send, size = [], [], 0
    for payload in payloads:
        if send and (len(send) >= max_events or size + len(payload) > max_bytes):
            sends.append(send)
            send, size = [], 0
        send.append(payload)
        size += len(payload)
    return sends + [send] if send else sends


def test_units_added_whole_or_split_make_the_sends_of_payload_by_payload():
    rng = random.Random(13)
    for max_events, max_bytes in ((4, 1 << 20), (2048, 8 << 20), (10, 100), (3, 25), (40, 300), (2, 10)):
        for big in (False, True):  # units of a few payloads, or as big as several sends (a page of records)
            units = [[bytes(rng.randrange(1, 30)) for _ in range(rng.randrange(0, 120 if big else 12))]
                     for _ in range(60)]
            whole = sends(units, True, max_events, max_bytes)
            assert whole == sends(units, False, max_events, max_bytes)
            assert whole[0] == greedy_sends([p for unit in units for p in unit], max_events, max_bytes)
            assert whole[1] == list(range(60)) and whole[2] == sum(map(len, units))
            assert all(len(send) <= max_events for send in whole[0])


class FailingAt:
    """A sink that acknowledges every payload until the ``fail_at``-th payload overall, then fails its
    send with the payloads of that send before it acknowledged."""

    def __init__(self, fail_at: int):
        self.fail_at, self.sent = fail_at, 0

    def send(self, payloads, deadline):
        if self.sent + len(payloads) <= self.fail_at:
            self.sent += len(payloads)
            return
        acked = self.fail_at - self.sent
        self.sent = self.fail_at
        raise DeliveryError("the receiver went away", acked=acked)


def test_a_unit_of_several_records_takes_exactly_the_records_a_failed_send_acknowledged():
    """Units covering runs of records (ends: each record's last payload) added whole, split over sends,
    or straddling them: after a send fails at any payload, the records credited are exactly those whose
    payloads were all acknowledged, in order, and the totals count exactly their payloads."""
    rng = random.Random(29)
    for trial in range(400):
        max_events = rng.choice((3, 7, 16, 2048))
        units = [[rng.randrange(0, 4) for _ in range(rng.randrange(1, 9))] for _ in range(rng.randrange(1, 12))]
        total = sum(map(sum, units))
        fail_at = rng.randrange(0, total + 1)
        sink, delivered, credited = FailingAt(fail_at), [], []
        batcher = Batcher(sink, NO_DEADLINE, max_events=max_events, max_bytes=1 << 20)
        first = 0
        try:
            for records in units:
                ends = [sum(records[:i + 1]) for i in range(len(records))]
                ids = list(range(first, first + len(records)))
                first += len(records)

                def part(acknowledged, ends=ends, ids=ids):
                    taken = [i for i, end in zip(ids, ends) if end <= acknowledged]
                    assert 0 <= acknowledged < ends[-1]
                    credited.append(acknowledged)
                    delivered.extend(taken)
                    return ends[len(taken) - 1] if taken else 0

                batcher.add([b"x" * (n + 1) for n in range(ends[-1])], lambda ids=ids: delivered.extend(ids), None, part)
            batcher.flush()
            batcher.drain()
        except DeliveryError:
            batcher.drain()
        position, expected, payloads = 0, [], 0
        for count in (n for records in units for n in records):
            if position + count > fail_at and fail_at < total:
                break
            position += count
            expected.append(len(expected))
            payloads = position
        assert delivered == expected, (trial, units, fail_at, max_events)
        assert batcher.events_sent == payloads
        assert len(credited) <= 1
