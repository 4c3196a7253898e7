"""The in-memory activation store, with OpenWhisk's visibility rules.

- A record exists only once it is stored (``stored_at``: its end, or later when its logs take time
  to collect): before that a GET by id is a 404.
- List queries read a lazily updated index: a record joins it ``list_lag`` seconds after it is stored.
  Records wait in a heap ordered by that moment and are moved into the index on the next query, or
  with ``stale_index``, *after* the next query has been answered (CouchDB's ``stale=update_after``).
- The index is kept sorted by ``start``, one for the whole namespace and one per ``name`` filter
  value, so a page is two bisects and a slice, whatever ``skip`` is. Ties come in insertion order,
  by id as CouchDB orders them (descending in the newest-first list), or, as from Elasticsearch, in
  a new order on every request.

The clock must not go backwards: a record already listed stays listed.
"""

import bisect
import heapq
import itertools
import operator
import random
import threading
from collections.abc import Callable, Iterable

from .records import Activation

__all__ = ["ActivationStore"]

_BULK = 64  # from this many records at once, append and re-sort instead of inserting one by one
_ORDERS = {"insertion": operator.attrgetter("start", "seq"), "id": operator.attrgetter("start", "activation_id"),
           "elasticsearch": operator.attrgetter("start", "seq")}


class _Index:
    """Activations sorted by ``order`` (start first) with their starts alongside for bisecting."""

    __slots__ = ("starts", "items", "order")

    def __init__(self, order):
        self.starts: list[int] = []
        self.items: list[Activation] = []
        self.order = order

    def insert(self, act: Activation) -> None:
        key = self.order(act)
        lo, hi = bisect.bisect_left(self.starts, act.start), bisect.bisect_right(self.starts, act.start)
        at = bisect.bisect_right(self.items, key, lo, hi, key=self.order)
        self.starts.insert(at, act.start)
        self.items.insert(at, act)

    def extend(self, acts: list[Activation]) -> None:
        self.items.extend(acts)
        self.items.sort(key=self.order)  # timsort: cheap on an already sorted list plus a run
        self.starts = [act.start for act in self.items]

    def window(self, since: int | None, upto: int | None) -> tuple[int, int]:
        lo = 0 if since is None else bisect.bisect_left(self.starts, since)
        hi = len(self.starts) if upto is None else bisect.bisect_right(self.starts, upto)
        return lo, hi


class ActivationStore:
    """All activations of one namespace. Thread-safe."""

    def __init__(self, clock: Callable[[], float], list_lag: float = 0.0, *, stale_index: bool = False,
                 ties: str = "insertion", rng: random.Random | None = None):
        self.clock = clock
        self._lag_ms = round(list_lag * 1000)
        self.stale_index = stale_index
        self._order = _ORDERS[ties]
        self._shuffle_ties = ties == "elasticsearch"
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._by_id: dict[str, Activation] = {}
        self._pending: list[tuple[int, int, Activation]] = []  # heap on the moment (ms) it gets listed
        self._all = _Index(self._order)
        self._by_name: dict[str, _Index] = {}
        self.activations = 0
        self.lines = 0

    def add(self, acts: Iterable[Activation]) -> None:
        """Store finished or still running activations; each shows up when the rules above say."""
        now_ms = self.clock() * 1000
        ready = []
        with self._lock:
            for act in acts:
                act.seq = next(self._seq)
                act.stored_at = max(act.stored_at, act.end)
                act.visible_at = act.stored_at + self._lag_ms
                self._by_id[act.activation_id] = act
                self.activations += 1
                self.lines += act.text_line_count()
                if act.visible_at <= now_ms:
                    ready.append(act)
                else:
                    heapq.heappush(self._pending, (act.visible_at, act.seq, act))
            self._index(ready)

    def get(self, activation_id: str) -> Activation | None:
        """The activation if it is stored, else None (unknown, still running or its logs being collected)."""
        act = self._by_id.get(activation_id)
        if act is None or act.stored_at > self.clock() * 1000:
            return None
        return act

    def page(self, name=None, since=None, upto=None, skip=0, limit=30) -> list[Activation]:
        """Listed activations, newest start first, ``since``/``upto`` inclusive on start (epoch ms)."""
        with self._lock:
            index = self._listed(name)
            rows = [] if index is None else self._slice(index, since, upto, skip, limit)
        self._catch_up_after()
        return rows

    def count(self, name=None, since=None, upto=None, skip=0) -> int:
        with self._lock:
            index = self._listed(name)
            lo, hi = (0, 0) if index is None else index.window(since, upto)
        self._catch_up_after()
        return max(0, hi - lo - skip)

    def _slice(self, index: _Index, since, upto, skip: int, limit: int) -> list[Activation]:
        lo, hi = index.window(since, upto)
        top = hi - skip
        if top <= lo:
            return []
        bottom = max(lo, top - limit)
        if self._shuffle_ties:
            return self._unstable_slice(index, lo, hi, bottom, top)[::-1]
        return index.items[bottom:top][::-1]

    def all(self) -> list[Activation]:
        """Every activation ever added, visible or not, in insertion order."""
        with self._lock:
            return list(self._by_id.values())

    def _listed(self, name: str | None) -> _Index | None:
        """The index to query, after moving in what became visible (unless the index is stale: then
        that happens after the answer). Caller holds the lock."""
        if not self.stale_index:
            self._catch_up()
        return self._all if name is None else self._by_name.get(name)

    def _catch_up_after(self) -> None:
        if self.stale_index:
            with self._lock:
                self._catch_up()

    def _catch_up(self) -> None:
        now_ms = self.clock() * 1000
        due = []
        while self._pending and self._pending[0][0] <= now_ms:
            due.append(heapq.heappop(self._pending)[2])
        self._index(due)

    def _unstable_slice(self, index: _Index, lo: int, hi: int, bottom: int, top: int) -> list[Activation]:
        """``index.items[bottom:top]`` with the ties cut by either end in a new order: the rows of a
        tie group that fall inside the slice change from one request to the next."""
        starts = index.starts
        low = max(lo, bisect.bisect_left(starts, starts[bottom]))
        high = min(hi, bisect.bisect_right(starts, starts[top - 1]))
        rows = index.items[low:high]
        i = 0
        while i < len(rows):
            j = bisect.bisect_right(starts, rows[i].start, low + i, high) - low
            if j - i > 1:
                group = rows[i:j]
                self._rng.shuffle(group)
                rows[i:j] = group
            i = j
        return rows[bottom - low : top - low]

    def _index(self, acts: list[Activation]) -> None:
        if not acts:
            return
        groups: dict[str, list[Activation]] = {}
        for act in acts:
            groups.setdefault(act.list_name, []).append(act)
        for index, members in [(self._all, acts)] + [
            (self._by_name.setdefault(name, _Index(self._order)), group) for name, group in groups.items()
        ]:
            if len(members) >= _BULK:
                index.extend(members)
            else:
                for act in members:
                    index.insert(act)
