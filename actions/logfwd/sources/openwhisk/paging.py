"""Paging helpers of the OpenWhisk source: runs of a page's records as units, pages held back compressed
until the settled range's far end has gone out, and the next page fetched while this one is worked
through."""

from array import array
from bisect import bisect_right
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import accumulate, chain, repeat
from operator import attrgetter, itemgetter
from typing import Callable, Iterable, Iterator

from ...codecs import deflate
from ..base import Unit
from .events import Payloads

# One record's events and what to run once the sink acknowledged all of them.
Entry = tuple[Payloads, Callable[[], None]]
_events, _done = itemgetter(0), itemgetter(1)  # an Entry's parts, read in C
_heads, _tail = attrgetter("heads"), attrgetter("tail")


def _tails_bytes(events: Iterable[Payloads]) -> int:
    return sum(map(len, map(_tail, events)))


class RecordsUnit:
    """A run of records as one unit: their ``payloads`` in the order they are to be delivered, how many
    each record has (``counts``) and what marks each delivered (``dones``); ``of(entries)`` joins them.

    A unit a record cost about 1.4 us a record (the generators between pages and the pipeline, its
    checks between units, the batcher's bookkeeping, its completion); one a run costs that once. Its
    ``done`` marks every record delivered, in order; after a failed send, ``delivered_part`` marks
    exactly those whose every payload was acknowledged (a record with none, once all before it were).
    """

    __slots__ = ("payloads", "ends", "dones")

    def __init__(self, payloads: list[bytes], counts: Iterable[int], dones: list[Callable[[], None]]):
        self.payloads = payloads
        self.ends = list(accumulate(counts))  # a record's last payload + 1
        self.dones = dones

    @classmethod
    def of(cls, entries: list[Entry]) -> "RecordsUnit":
        """The unit of ``entries``, each record's heads joined to its tail."""
        return cls([head + events.tail for events, _ in entries for head in events.heads],
                   [len(events.heads) for events, _ in entries], [done for _, done in entries])

    def unit(self) -> Unit:
        return Unit(self.payloads, self.done, None, self.delivered_part)

    def done(self) -> None:
        for done in self.dones:
            done()

    def delivered_part(self, acknowledged: int) -> int:
        records = bisect_right(self.ends, acknowledged)
        for done in self.dones[:records]:
            done()
        return self.ends[records - 1] if records else 0


def _runs(items: Iterable, count: Callable[..., int], lines: int) -> Iterator[list]:
    """``items`` (records of ``count(item)`` payloads) in runs of at most ``lines`` payloads, or of one."""
    run: list = []
    size = 0
    for item in items:
        n = count(item)
        if run and size + n > lines:
            yield run
            run, size = [], 0
        run.append(item)
        size += n
    if run:
        yield run


def records_units(entries: Iterable[Entry], lines: int) -> Iterator[Unit]:
    """``entries`` as units of at most ``lines`` payloads, or of one record. A unit is marked delivered
    only once all of it is acknowledged, and the pipeline checks its deadline and saves between units:
    the source keeps them a fraction of a send, so that a killed run re-sends hardly more than before."""
    for run in _runs(entries, _record_lines, lines):
        yield RecordsUnit.of(run).unit()


def _record_lines(entry: Entry) -> int:
    return len(entry[0].heads)


class HeldPage:
    """The entries of one held page (newest first, as read), with their events compressed together: a
    fifth of the memory. ``units()`` gives them back oldest first.

    Without it, held pages made a run's memory grow with the backlog by ~0.7 MB a page (10 lines an
    activation) until the 16 were held; compressing and inflating them costs ~1 us a line, which the
    pages held within ``backlog.HELD_PLAIN_BYTES`` (about 7 pages) skip (``compress=False``): a backlog
    of a few thousand activations does not pay it.
    """

    __slots__ = ("blob", "offsets", "counts", "tails", "dones", "size", "plain")

    def __init__(self, entries: list[Entry], compress: bool = True):
        # ``size``: the bytes its events take uncompressed, as budgeted: each head, and each record's tail
        # once. Counted with no Python step a record (a held page's heads are out of the cache by now:
        # each one read is a miss), and by pack() as it packs (the heads read once, not twice).
        self.plain = entries
        if compress:
            self.pack()
        else:
            events = list(map(_events, entries))
            self.size = sum(map(len, chain.from_iterable(map(_heads, events)))) + _tails_bytes(events)

    def pack(self) -> None:
        """Compresses the page if it is held as built (it is to be held longer than was thought)."""
        if self.plain is None:
            return
        entries, self.plain = self.plain[::-1], None  # oldest first, as they will go out
        events = list(map(_events, entries))
        heads = list(map(_heads, events))
        lines = list(chain.from_iterable(heads))
        joined = b"".join(lines)
        self.offsets = array("I", accumulate(map(len, lines), initial=0))  # line n: [offsets[n], offsets[n + 1])
        self.size = len(joined) + _tails_bytes(events)
        self.blob = deflate.compress(joined, 3)
        self.counts, self.tails, self.dones = list(map(len, heads)), list(map(_tail, events)), list(map(_done, entries))

    def units(self, lines: int) -> Iterator[Unit]:
        """The page's records, oldest first, as units of at most ``lines`` payloads (``records_units``)."""
        if self.plain is not None:
            return records_units(self.plain[::-1], lines)
        return self._unpacked(lines)

    def _unpacked(self, lines: int) -> Iterator[Unit]:
        # Each payload cut from the inflated heads and joined to its tail at once, in one comprehension a
        # unit: no list of the page's heads, no Payloads a record, no second pass to join them (-0.1 us a
        # line held). test_page_units holds its units to those of the same page held as built.
        data, offsets, counts, tails = deflate.decompress(self.blob), self.offsets, self.counts, self.tails
        start = 0  # the run's first line
        for run in _runs(range(len(counts)), counts.__getitem__, lines):
            first, last = run[0], run[-1] + 1
            end = start + sum(counts[first:last])
            repeated = chain.from_iterable(map(repeat, tails[first:last], counts[first:last]))
            payloads = [data[s:e] + tail for s, e, tail in zip(offsets[start:end], offsets[start + 1:end + 1], repeated)]
            yield RecordsUnit(payloads, counts[first:last], self.dones[first:last]).unit()
            start = end


def held_form(encoded) -> Payloads:
    # Held pages keep each payload's own part apart from the part a record's payloads share; an
    # encoder that shares nothing (any sink but the JSON ones) gives payloads with an empty shared part.
    return encoded if isinstance(encoded, Payloads) else Payloads(list(encoded), b"")


class Prefetcher:
    """Fetches the next page on a background thread while the caller works through the current one.

    ``fetch(key)`` returns the page for ``key``, from the background if ``fetch.ahead(key)`` started it;
    errors surface there, where the page is asked for.
    """

    def __init__(self, get: Callable):
        self.get = get
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="logfwd-page")
        self.pending: tuple[object, Future] | None = None

    def __call__(self, key) -> list:
        if self.pending is not None and self.pending[0] == key:
            future, self.pending = self.pending[1], None
            return future.result()
        self.cancel()
        return self.get(key)

    def ahead(self, key) -> None:
        self.cancel()
        self.pending = (key, self.pool.submit(self.get, key))

    def cancel(self) -> None:
        if self.pending is not None:
            self.pending[1].cancel()
            self.pending = None

    def __enter__(self) -> "Prefetcher":
        return self

    def __exit__(self, *exc) -> None:
        # A page fetched for nothing (the run stopped early) is waited for, not left running.
        self.cancel()
        self.pool.shutdown(wait=True)
