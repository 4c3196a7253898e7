"""The collector's pace while a pass runs (``logfwd.gcpace``): raised for the pass, put back after."""

import gc

import pytest

from logfwd.deadline import Deadline
from logfwd.gcpace import YOUNG_THRESHOLD, fewer_collections
from logfwd.pipeline import forward
from logfwd.sources.base import Unit

from fakes import FakeSink, MemoryStore


@pytest.fixture(autouse=True)
def default_threshold():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


class _Source:
    """Two units of one event each; remembers the collector's threshold while its units are read."""

    errors: list = []
    warnings: list = []

    def __init__(self):
        self.thresholds = []

    def open(self, document):
        pass

    def units(self, deadline, encode):
        for n in range(2):
            self.thresholds.append(gc.get_threshold())
            yield Unit([b'{"n":%d}' % n], None)

    def checkpoint(self):
        return {}

    def summary(self):
        return {"records": 2, "more": False}


def test_a_pass_runs_with_fewer_young_collections_and_puts_the_threshold_back():
    source, sink = _Source(), FakeSink()
    seen = []
    send = sink.send
    sink.send = lambda payloads, deadline: (seen.append(gc.get_threshold()), send(payloads, deadline))[1]
    summary = forward(source, sink, MemoryStore(), deadline=Deadline(), max_events=1)
    assert summary["ok"], summary
    assert source.thresholds == [(YOUNG_THRESHOLD, 10, 10)] * 2
    assert seen and all(t == (YOUNG_THRESHOLD, 10, 10) for t in seen)  # also on the sender's thread
    assert gc.get_threshold() == (700, 10, 10)
    assert len(sink.received) == 2


def test_overlapping_passes_put_back_the_threshold_only_when_the_last_ends():
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # passes in threads may end in any order
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_set_by_someone_else_is_left_alone():
    gc.set_threshold(0)  # collections off: stays off
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
    gc.set_threshold(100_000, 5, 5)  # larger than ours: kept
    with fewer_collections():
        assert gc.get_threshold() == (100_000, 5, 5)
    gc.set_threshold(700, 10, 10)
    with fewer_collections():
        gc.set_threshold(1_000, 10, 10)  # changed during the pass: not overwritten at its end
    assert gc.get_threshold() == (1_000, 10, 10)


def test_the_threshold_is_put_back_when_the_pass_raises():
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("a bug")
    assert gc.get_threshold() == (700, 10, 10)
