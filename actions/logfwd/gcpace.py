"""The cyclic garbage collector's pace while a pass runs.

A pass allocates containers by the million (an API page of 200 records decodes to ~3,000 dicts and
lists) and frees nearly all of them soon after: few are ever garbage only a collection could free.
At CPython's default pace (a young collection every 700 net allocations) a pass of 100,000 lines ran
~200 young, ~18 middle and 1-2 full collections, 0.5-1.0 us of CPU a line (``gc.callbacks``, see
docs/performance.md); with young collections every 50,000, none ran at all in such a pass. Cycles,
should a pass make any, are still collected: later, in larger batches.

Passes may overlap (``logfwd serve`` runs them in threads): the first to start raises the threshold,
the last to end puts back the one it found.
"""

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

__all__ = ["YOUNG_THRESHOLD", "fewer_collections"]

YOUNG_THRESHOLD = 50_000  # net container allocations between young collections while a pass runs

_lock = threading.Lock()
_passes = 0
_saved: tuple[int, ...] | None = None  # the threshold found, while it is raised


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Young collections at most every ``YOUNG_THRESHOLD`` allocations while the block runs."""
    global _passes, _saved
    with _lock:
        found = gc.get_threshold()
        if _passes == 0 and 0 < found[0] < YOUNG_THRESHOLD:  # 0: collections are off; larger: left alone
            _saved = found
            gc.set_threshold(YOUNG_THRESHOLD, *found[1:])
        _passes += 1
    try:
        yield
    finally:
        with _lock:
            _passes -= 1
            if _passes == 0 and _saved is not None:
                if gc.get_threshold()[0] == YOUNG_THRESHOLD:  # unless changed since
                    gc.set_threshold(*_saved)
                _saved = None
