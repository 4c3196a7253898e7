"""The in-memory activation store, with OpenWhisk's visibility rules.

- A record exists only once its activation ended (``end <= now``): before that a GET by id is a 404.
- List queries read a lazily updated index: a record joins it ``list_lag`` seconds after it ended.
  Records wait in a heap ordered by that moment and are moved into the index on the next query.
- The index is kept sorted by ``start`` (ties in insertion order), one for the whole namespace and
  one per ``name`` filter value, so a page is two bisects and a slice, whatever ``skip`` is.

The clock must not go backwards: a record already listed stays listed.
"""

import bisect
import heapq
import itertools
import operator
import threading
from collections.abc import Callable, Iterable

from .records import Activation

__all__ = ["ActivationStore"]

_BULK = 64  # from this many records at once, append and re-sort instead of inserting one by one
_order = operator.attrgetter("start", "seq")


class _Index:
    """Activations sorted by (start, seq) with their starts alongside for bisecting."""

    __slots__ = ("starts", "items")

    def __init__(self):
        self.starts: list[int] = []
        self.items: list[Activation] = []

    def insert(self, act: Activation) -> None:
        at = bisect.bisect_right(self.starts, act.start)
        self.starts.insert(at, act.start)
        self.items.insert(at, act)

    def extend(self, acts: list[Activation]) -> None:
        self.items.extend(acts)
        self.items.sort(key=_order)  # timsort: cheap on an already sorted list plus a run
        self.starts = [act.start for act in self.items]

    def window(self, since: int | None, upto: int | None) -> tuple[int, int]:
        lo = 0 if since is None else bisect.bisect_left(self.starts, since)
        hi = len(self.starts) if upto is None else bisect.bisect_right(self.starts, upto)
        return lo, hi


class ActivationStore:
    """All activations of one namespace. Thread-safe."""

    def __init__(self, clock: Callable[[], float], list_lag: float = 0.0):
        self.clock = clock
        self._lag_ms = round(list_lag * 1000)
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._by_id: dict[str, Activation] = {}
        self._pending: list[tuple[int, int, Activation]] = []  # heap on the moment (ms) it gets listed
        self._all = _Index()
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
                act.visible_at = act.end + self._lag_ms
                self._by_id[act.activation_id] = act
                self.activations += 1
                self.lines += act.text_line_count()
                if act.visible_at <= now_ms:
                    ready.append(act)
                else:
                    heapq.heappush(self._pending, (act.visible_at, act.seq, act))
            self._index(ready)

    def get(self, activation_id: str) -> Activation | None:
        """The activation if it has ended, else None (unknown or still running)."""
        act = self._by_id.get(activation_id)
        if act is None or act.end > self.clock() * 1000:
            return None
        return act

    def page(self, name=None, since=None, upto=None, skip=0, limit=30) -> list[Activation]:
        """Listed activations, newest start first, ``since``/``upto`` inclusive on start (epoch ms)."""
        with self._lock:
            index = self._listed(name)
            if index is None:
                return []
            lo, hi = index.window(since, upto)
            top = hi - skip
            if top <= lo:
                return []
            return index.items[max(lo, top - limit) : top][::-1]

    def count(self, name=None, since=None, upto=None, skip=0) -> int:
        with self._lock:
            index = self._listed(name)
            if index is None:
                return 0
            lo, hi = index.window(since, upto)
            return max(0, hi - lo - skip)

    def all(self) -> list[Activation]:
        """Every activation ever added, visible or not, in insertion order."""
        with self._lock:
            return list(self._by_id.values())

    def _listed(self, name: str | None) -> _Index | None:
        """The index to query, after moving in what became visible. Caller holds the lock."""
        now_ms = self.clock() * 1000
        due = []
        while self._pending and self._pending[0][0] <= now_ms:
            due.append(heapq.heappop(self._pending)[2])
        self._index(due)
        return self._all if name is None else self._by_name.get(name)

    def _index(self, acts: list[Activation]) -> None:
        if not acts:
            return
        groups: dict[str, list[Activation]] = {}
        for act in acts:
            groups.setdefault(act.list_name, []).append(act)
        for index, members in [(self._all, acts)] + [
            (self._by_name.setdefault(name, _Index()), group) for name, group in groups.items()
        ]:
            if len(members) >= _BULK:
                index.extend(members)
            else:
                for act in members:
                    index.insert(act)
