"""A settled range delivered oldest first, though the API lists it newest first.

Nothing new can appear in a settled range. Its pages are read newest first and their units held, up to
``held_pages`` of them and ``held_bytes`` of events; a range that ends there (most backlogs) needs no
more requests. Held pages stay as built up to ``HELD_PLAIN_BYTES`` and are compressed past it
(``paging.HeldPage``): memory stays bounded, and a backlog of a few thousand activations does not pay
for compressing. Holding delivers nothing until it ends, so it may take at most half of the time left
for pulling. A longer range goes out from its far end first (``_FarEnd``), in windows as large as that
holding, placed with one count of the whole far end, so that it costs about a list a page (and no
large skip: it is a linear scan), and against a slow API a run still sends its oldest records before
its deadline.
"""

import math
from collections import OrderedDict
from typing import Callable, Generator, Iterable, Iterator

from ...deadline import Deadline
from ..base import Unit
from .pager import Pager, start_of
from .paging import Entry, HeldPage

__all__ = ["oldest_first", "HELD_PLAIN_BYTES"]

# Held pages are kept as built up to this much, compressed past it. 8 MiB put the peak memory of a
# 100,000-activation backlog 21 MB above a 1,000-activation one (the target is 20); 6 MiB, 19.5 at stop
# 18 and 20.1 at stop 19 (the caches of times and actions a day's backlog fills: ~0.7 MB); 5 MiB.
HELD_PLAIN_BYTES = 5 << 20

# The entries of some records (paging.Entry); the OrderedDict holds the ids already handed over in this run.
EntriesOf = Callable[[Iterable[dict], OrderedDict], list[Entry]]


def oldest_first(settled: tuple[int, int], pager: Pager, probe: list, deadline: Deadline, entries_of: EntriesOf, *,
                 held_pages: int, held_bytes: int, page_limit: Callable[[], int], unit_lines: int) -> Iterator[Unit]:
    """The units of the settled range ``settled`` (inclusive epoch ms), oldest first, of at most
    ``unit_lines`` lines (``paging.records_units``); ``probe`` is the first page over the action's whole
    range. ``page_limit()``: the API's current page size."""
    since, high = settled
    queued: OrderedDict = OrderedDict()
    left = deadline.pull_remaining()
    hold_while = left / 2 if math.isfinite(left) else -math.inf  # pull time that must be left
    # The probe is this range's first page if it reached into it; if it held only live records,
    # the range starts below them.
    reached = any(start_of(record, since) <= high for record in probe)
    pages = pager.newest_first(since, high, first=probe if reached else None)
    held, size, read, newest, ended = [], 0, 0, since, True
    for records in pages:
        starts = [start_of(r, since) for r in records]
        in_range = [r for r, start in zip(records, starts) if start <= high]
        read, newest = read + len(in_range), max([newest, *(start for start in starts if start <= high)])
        held.append(HeldPage(entries_of(in_range, queued), compress=size >= HELD_PLAIN_BYTES))
        size += held[-1].size
        if len(held) > held_pages or size >= held_bytes or deadline.pull_remaining() <= hold_while:
            ended = False
            break
        yield Unit([])  # nothing to send yet: lets the pipeline check its deadline between pages
    pages.close()
    if not ended:  # the range goes on past what is held: its far end first
        for page in held:
            page.pack()  # held until the far end has gone out: compressed, its windows get the plain budget
        far = _FarEnd(pager, queued, entries_of, deadline, page_limit, held_pages, held_bytes, unit_lines)
        far.learn(read, size, len(held), left - deadline.pull_remaining())
        edge_start, edge_ids = pager.edge
        yield from far.oldest_first(since, edge_start, edge_ids, read / (newest - edge_start + 1))
    yield from _release(held, unit_lines)


class _FarEnd:
    """The far end of a settled range, oldest first, in windows of at most ``held_pages`` pages and
    ``held_bytes``, fewer if the time left for pulling would not read them: each read newest first,
    held (compressed past ``HELD_PLAIN_BYTES``) and sent oldest first.

    A range is counted once: what is left of it is that count less what its windows read (a settled
    range does not change), and each window ends where the starts left hold a page less than a window,
    with no count of its own: the first as if the range were as dense as the pages above it (a first
    run's lookback starts long before the oldest record), the next at the average density of what is
    left; past a window less than half full, the next spans twice as long. A window denser than its
    share goes on past its pages or bytes without ending: its pages are kept and the part below them
    goes out first, the same way; below two such windows, each window is checked by a count. Events
    are held as built up to ``HELD_PLAIN_BYTES`` over all the windows held, compressed past it.
    """

    def __init__(self, pager: Pager, queued: OrderedDict, entries_of: EntriesOf, deadline: Deadline,
                 page_limit: Callable[[], int], held_pages: int, held_bytes: int, unit_lines: int):
        self.pager, self.queued, self.entries_of, self.deadline = pager, queued, entries_of, deadline
        self.unit_lines = unit_lines
        self.page_limit, self.held_pages, self.held_bytes = page_limit, held_pages, held_bytes
        self.bytes_per_record = 0.0
        self.seconds_per_page = 0.0
        self.plain = 0  # bytes of events held as built, in all the windows held

    def learn(self, records: int, size: int, pages: int, seconds: float) -> None:
        """What reading ``pages`` pages of ``records`` records and ``size`` bytes of events took."""
        if records:
            self.bytes_per_record = max(self.bytes_per_record, size / records)
        if pages and math.isfinite(seconds):
            self.seconds_per_page = max(0.0, seconds / pages)

    def window_pages(self) -> int:
        """Pages the next window may hold: those that half the time left for pulling can read."""
        left = self.deadline.pull_remaining()
        if not math.isfinite(left) or self.seconds_per_page <= 0:
            return self.held_pages
        return max(1, min(self.held_pages, int(left / 2 / self.seconds_per_page)))

    def oldest_first(self, low: int, top: int, skip_ids: set, density: float,
                     depth: int = 0) -> Generator[Unit, None, int]:
        """``[low, top]`` oldest first; ``skip_ids``: ids at ``top`` already read; ``density``: records a
        millisecond in the pages just above; ``depth``: the windows held, denser than their share, while
        this part goes out. Returns the count of ``[low, top]``."""
        pager, limit = self.pager, self.page_limit
        total = left = pager.count(low, top)
        stretch = 1  # doubled after each window found less than half full: a sparse part, gone over fast
        first = True
        while low <= top:
            pages_max = self.window_pages()
            records_max = pages_max * limit()
            if self.bytes_per_record:
                records_max = max(1, min(records_max, int(self.held_bytes / self.bytes_per_record)))
            target = max(1, records_max - records_max // max(2, pages_max))  # a page to spare
            if left <= records_max:
                high = top  # the rest fits: no count (and a count short of what is there loses nothing)
            else:
                if first and density > 0:  # as dense as above it: the range may start empty (a lookback)
                    high = max(low, top - math.ceil((left - target) / density))
                else:
                    high = min(top, low + max(0, (top - low + 1) * target * stretch // left - 1))
                inside = pager.count(low, high) if depth > 1 else 0
                while high > low and inside > records_max:  # narrow by the share of records to keep
                    high = low + max(0, (high - low) * target // inside - 1)
                    inside = pager.count(low, high)
            started = self.deadline.pull_remaining()
            window, size, read, plain, newest, first = [], 0, 0, 0, low, False
            for records in pager.newest_first(low, high):
                if high == top:
                    records = [r for r in records if not (start_of(r, low) == top and r.get("activationId") in skip_ids)]
                newest = max([newest, *(start_of(r, low) for r in records)])
                window.append(HeldPage(self.entries_of(records, self.queued),
                                       compress=self.plain >= HELD_PLAIN_BYTES))
                size, read = size + window[-1].size, read + len(records)
                if window[-1].plain is not None:
                    plain, self.plain = plain + window[-1].size, self.plain + window[-1].size
                if not pager.ended and (len(window) > pages_max or size >= self.held_bytes):
                    self.learn(read, size, len(window), started - self.deadline.pull_remaining())
                    edge, ids = pager.edge  # denser than its share: what is below the pages held goes first
                    read += yield from self.oldest_first(low, edge, ids | skip_ids if edge == top else ids,
                                                         read / (newest - edge + 1), depth + 1)
                    break
                yield Unit([])  # lets the pipeline check its deadline between pages
            else:
                self.learn(read, size, len(window), started - self.deadline.pull_remaining())
            self.plain -= plain
            yield from _release(window, self.unit_lines)
            low, left = high + 1, left - read
            stretch = stretch * 2 if read < target // 2 else 1
        return total


def _release(held: list[HeldPage], unit_lines: int) -> Iterator[Unit]:
    """The units of the pages held (read newest first), oldest first; each page freed as it goes out."""
    while held:
        yield from held.pop().units(unit_lines)
