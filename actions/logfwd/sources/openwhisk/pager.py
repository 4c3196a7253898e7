"""Reading one action's records in a range of starts, newest first, with no large ``skip``.

What the real list API does, and what this is built against (see docs/openwhisk-timing.md):

* a large ``skip`` is a linear scan for CouchDB and can time out (500/504): each next page narrows
  ``upto`` to the oldest start of the last one instead, and only the records of that millisecond
  are read again (and dropped as already seen);
* ``docs=true`` silently leaves out documents the controller cannot parse: a page a little short of
  the limit does not prove that the range ended; only one shorter than ``limit - limit // 10`` does
  (more than a tenth of a page unparseable is taken as the end);
* records with the same start may come in a new order on every request (the Elasticsearch store):
  a millisecond with more records than a page holds is read on its own, in passes until the count
  is reached, or until six passes in a row find nothing new (records that cannot be parsed are
  counted, never listed); what is still missing then is reported.
"""

from typing import Callable, Iterator

__all__ = ["Pager", "start_of", "ends_range"]

TIE_PASSES = 20  # at most this many passes over one crowded millisecond
IDLE_PASSES = 6  # ... stopping after this many in a row found nothing new


def start_of(record, default: int) -> int:
    start = record.get("start") if isinstance(record, dict) else None
    return start if isinstance(start, int) and not isinstance(start, bool) else default


def _id_of(record) -> object:
    return record.get("activationId") if isinstance(record, dict) else None


def ends_range(page: list, limit: int) -> bool:
    """Whether ``page`` (asked for with ``limit``) is the last of its range."""
    return len(page) < limit - limit // 10


class Pager:
    """Pages of one action. ``fetch(since, upto, skip)`` lists a page at the API's current limit,
    ``count(since, upto)`` counts, ``limit()`` says what the current limit is, ``warn(text)`` reports."""

    def __init__(self, fetch: Callable[[int, int, int], list], count: Callable[[int, int], int],
                 limit: Callable[[], int], warn: Callable[[str], None]):
        self.fetch, self.count, self.limit, self.warn = fetch, count, limit, warn
        self.edge: tuple[int | None, set] = (None, set())  # the oldest millisecond read, and its ids
        self.ended = False  # whether the page last given was its range's last

    def newest_first(self, since: int, upto: int, first: list | None = None) -> Iterator[list]:
        """Pages of ``[since, upto]`` (inclusive on start), newest first, each record once.

        ``first``: the range's first page, if already in hand (fetched at the current limit)."""
        edge_start, edge_ids = None, set()
        page = first if first is not None else self.fetch(since, upto, 0)
        while True:
            limit = self.limit()
            starts = [start_of(r, since) for r in page]  # once a record
            fresh = [r for r, start in zip(page, starts) if not (start == edge_start and _id_of(r) in edge_ids)]
            oldest = min(starts, default=since)
            if oldest != edge_start:
                edge_start, edge_ids = oldest, set()
            edge_ids.update(_id_of(r) for r, start in zip(page, starts) if start == oldest)
            ended = ends_range(page, limit)
            self.edge, self.ended = (edge_start, edge_ids), ended
            yield fresh
            if ended:
                return
            if starts.count(oldest) == len(starts):
                # One millisecond fills a page: read it on its own, then go below it.
                whole = self._whole_millisecond(oldest, edge_ids)
                self.ended = oldest <= since
                yield whole
                self.edge = (edge_start, edge_ids)
                if oldest <= since:
                    return
                upto, edge_start, edge_ids = oldest - 1, None, set()
            else:
                upto = oldest
            page = self.fetch(since, upto, 0)

    def _whole_millisecond(self, start: int, seen: set) -> list:
        """The records that started at ``start`` and are not in ``seen`` (which gains them)."""
        total = self.count(start, start)
        found: list = []
        idle = 0
        for _ in range(TIE_PASSES):
            new_in_pass, skip = 0, 0
            while True:
                limit = self.limit()
                page = self.fetch(start, start, skip)
                for record in page:
                    if _id_of(record) not in seen:
                        seen.add(_id_of(record))
                        found.append(record)
                        new_in_pass += 1
                if ends_range(page, limit):
                    break
                skip += limit  # rows the view walked, including any it could not parse
            idle = 0 if new_in_pass else idle + 1
            if len(seen) >= total or idle >= IDLE_PASSES:
                break
        if len(seen) < total:
            self.warn(f"{total - len(seen)} of the {total} records that started at {start} ms could not be "
                      "listed (unparseable, or in a new order on every request); the others were read")
        return found
