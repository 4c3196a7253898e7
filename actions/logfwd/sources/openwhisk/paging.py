"""Paging helpers of the OpenWhisk source: runs of a page's records as units, pages held back compressed
until the settled range's far end has gone out, and the next page fetched while this one is worked
through."""

from array import array
from bisect import bisect_right
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import accumulate, chain
from operator import attrgetter, itemgetter
from typing import Callable, Iterable, Iterator

from ...codecs import deflate
from ..base import Unit
from .events import Payloads

# One record's events and what to run once the sink acknowledged all of them.
Entry = tuple[Payloads, Callable[[], None]]
_events, _heads, _tail = itemgetter(0), attrgetter("heads"), attrgetter("tail")  # an Entry's parts, read in C


def _tails_bytes(events: Iterable[Payloads]) -> int:
    return sum(map(len, map(_tail, events)))


class RecordsUnit:
    """A run of records (``entries``, in the order they are to be delivered) as one unit.

    A unit a record cost about 1.4 us a record (the generators between pages and the pipeline, its
    checks between units, the batcher's bookkeeping, its completion); one a run costs that once. Its
    ``done`` marks every record delivered, in order; after a failed send, ``delivered_part`` marks
    exactly those whose every payload was acknowledged (a record with none, once all before it were).
    """

    __slots__ = ("payloads", "ends", "dones")

    def __init__(self, entries: list[Entry]):
        self.payloads = [head + events.tail for events, _ in entries for head in events.heads]
        self.ends = list(accumulate([len(events.heads) for events, _ in entries]))  # a record's last payload + 1
        self.dones = [done for _, done in entries]

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


def records_units(entries: Iterable[Entry], lines: int) -> Iterator[Unit]:
    """``entries`` as units of at most ``lines`` payloads, or of one record. A unit is marked delivered
    only once all of it is acknowledged, and the pipeline checks its deadline and saves between units:
    the source keeps them a fraction of a send, so that a killed run re-sends hardly more than before."""
    run: list[Entry] = []
    size = 0
    for entry in entries:
        count = len(entry[0].heads)
        if run and size + count > lines:
            yield RecordsUnit(run).unit()
            run, size = [], 0
        run.append(entry)
        size += count
    if run:
        yield RecordsUnit(run).unit()


class HeldPage:
    """The entries of one held page (newest first, as read), with their events compressed together: a
    fifth of the memory. ``units()`` gives them back oldest first.

    Without it, held pages made a run's memory grow with the backlog by ~0.7 MB a page (10 lines an
    activation) until the 16 were held; compressing and inflating them costs ~1 us a line, which the
    pages held within ``backlog.HELD_PLAIN_BYTES`` (about 7 pages) skip (``compress=False``): a backlog
    of a few thousand activations does not pay it.
    """

    __slots__ = ("blob", "lengths", "records", "size", "plain")

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
        heads = list(chain.from_iterable(map(_heads, map(_events, entries))))
        self.lengths = array("I", map(len, heads))
        joined = b"".join(heads)
        self.size = len(joined) + _tails_bytes(map(_events, entries))
        self.blob = deflate.compress(joined, 3)
        self.records = [(len(events), events.tail, done) for events, done in entries]

    def entries(self) -> list[Entry]:
        """The page's entries, oldest first."""
        if self.plain is not None:
            return self.plain[::-1]
        data, offsets = deflate.decompress(self.blob), list(accumulate(self.lengths, initial=0))
        entries, first = [], 0
        for count, tail, done in self.records:
            last = first + count
            heads = [data[start:end] for start, end in zip(offsets[first:last], offsets[first + 1:last + 1])]
            entries.append((Payloads(heads, tail), done))
            first = last
        return entries

    def units(self, lines: int) -> Iterator[Unit]:
        """The page's records, oldest first, as units of at most ``lines`` payloads (``records_units``)."""
        return records_units(self.entries(), lines)


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
