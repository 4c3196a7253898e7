"""The batcher's sends: a unit given as a list (added whole when it fits) makes the same sends, with
the same completions, as the same unit given any other way (added payload by payload)."""

import random

from logfwd.batcher import Batcher
from logfwd.deadline import NO_DEADLINE


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


def test_units_added_whole_make_the_same_sends_as_payload_by_payload():
    rng = random.Random(13)
    for max_events, max_bytes in ((4, 1 << 20), (2048, 8 << 20), (10, 100), (3, 25)):
        units = [[bytes(rng.randrange(1, 30)) for _ in range(rng.randrange(0, 12))] for _ in range(60)]
        whole = sends(units, True, max_events, max_bytes)
        assert whole == sends(units, False, max_events, max_bytes)
        assert whole[1] == list(range(60)) and whole[2] == sum(map(len, units))
        assert all(len(send) <= max_events for send in whole[0])
