"""A settled range delivered oldest first, though the API lists it newest first.

Nothing new can appear in a settled range. Its pages are read newest first and their units held, up to
``held_pages`` of them and ``held_bytes`` of events; a range that ends there (most backlogs) needs no
more requests. Held pages stay as built up to ``HELD_PLAIN_BYTES`` and are compressed past it
(``paging.HeldPage``): memory stays bounded, and a backlog of a few thousand activations does not pay
for compressing. Holding delivers nothing until it ends, so it may take at most half of the time left
for pulling. A longer range goes out from its far end: windows of starts small enough to hold (found by
counting: a count is cheap, a large skip is not), oldest first, each read newest first and sent oldest
first, so that against a slow API a run still sends its oldest records before its deadline.
"""

import math
from collections import OrderedDict
from typing import Callable, Iterable, Iterator

from ...deadline import Deadline
from ..base import Unit
from .pager import Pager, start_of
from .paging import HeldPage

__all__ = ["oldest_first", "FAR_END_PAGES", "HELD_PLAIN_BYTES"]

FAR_END_PAGES = 2  # pages in one window of the far end of a settled range longer than the pages held
HELD_PLAIN_BYTES = 8 << 20  # held pages are kept as built up to this much, compressed past it

# The units of some records; the OrderedDict holds the ids already handed over in this run.
UnitsOf = Callable[[Iterable[dict], OrderedDict], Iterator[Unit]]


def oldest_first(settled: tuple[int, int], pager: Pager, probe: list, deadline: Deadline, units_of: UnitsOf, *,
                 held_pages: int, held_bytes: int, page_limit: Callable[[], int]) -> Iterator[Unit]:
    """The units of the settled range ``settled`` (inclusive epoch ms), oldest first; ``probe`` is the
    first page over the action's whole range. ``page_limit()``: the API's current page size."""
    since, high = settled
    queued: OrderedDict = OrderedDict()
    left = deadline.pull_remaining()
    hold_while = left / 2 if math.isfinite(left) else -math.inf  # pull time that must be left
    # The probe is this range's first page if it reached into it; if it held only live records,
    # the range starts below them.
    reached = any(start_of(record, since) <= high for record in probe)
    pages = pager.newest_first(since, high, first=probe if reached else None)
    held, size, ended = [], 0, True
    for records in pages:
        in_range = [r for r in records if start_of(r, since) <= high]
        held.append(HeldPage(list(units_of(in_range, queued)), compress=size >= HELD_PLAIN_BYTES))
        size += held[-1].size
        if len(held) > held_pages or size >= held_bytes or deadline.pull_remaining() <= hold_while:
            ended = False
            break
        yield Unit([])  # nothing to send yet: lets the pipeline check its deadline between pages
    pages.close()
    if not ended:  # the range goes on past what is held: its far end first
        edge_start, edge_ids = pager.edge
        budget = min(held_pages, FAR_END_PAGES) * page_limit()
        yield from _far_end(pager, since, edge_start, edge_ids, queued, units_of, budget)
    while held:
        yield from reversed(held.pop().units())


def _far_end(pager: Pager, since: int, top: int, skip_ids: set, queued: OrderedDict, units_of: UnitsOf,
             budget: int) -> Iterator[Unit]:
    """``[since, top]`` oldest first, in windows of starts that hold at most ``budget`` records.
    ``skip_ids``: ids at ``top`` already held. A window is two pages at most: held as built."""
    low, total = since, pager.count(since, top)
    while low <= top and total > 0:
        high, inside = top, total
        while high > low and inside > budget:
            # Narrow by the share of records to keep; usually one count settles it.
            high = low + max(0, int((high - low) * budget / inside) - 1)
            inside = pager.count(low, high)
        window = []
        for records in pager.newest_first(low, high):
            records = [r for r in records if not (start_of(r, low) == top and r.get("activationId") in skip_ids)]
            window.append(HeldPage(list(units_of(records, queued)), compress=False))
            yield Unit([])
        while window:
            yield from reversed(window.pop().units())
        low, total = high + 1, total - inside  # a settled range does not change: no new count
