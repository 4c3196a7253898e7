"""Paging helpers of the OpenWhisk source: the next page fetched while this one is worked through, and
pages held back compressed until the settled range's far end has gone out."""

from array import array
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from ...codecs import deflate
from ..base import Unit
from .events import Payloads


class HeldPage:
    """The units of one held page, with their events compressed together: a fifth of the memory.

    Without it, held pages made a run's memory grow with the backlog by ~0.7 MB a page (10 lines an
    activation) until the 16 were held; compressing and inflating them costs ~1 us a line, which the
    pages held within ``backlog.HELD_PLAIN_BYTES`` (about 11 pages) skip (``compress=False``): a backlog
    of a few thousand activations does not pay it.
    """

    __slots__ = ("blob", "lengths", "records", "size", "plain")

    def __init__(self, units: list[Unit], compress: bool = True):
        self.size = sum(unit.payloads.held_bytes() for unit in units)  # uncompressed, as budgeted
        self.plain = units
        if compress:
            self.pack()

    def pack(self) -> None:
        """Compresses the page if it is held as built (it is to be held longer than was thought)."""
        if self.plain is None:
            return
        units, self.plain = self.plain, None
        heads = [head for unit in units for head in unit.payloads.heads]
        self.lengths = array("I", map(len, heads))
        self.blob = deflate.compress(b"".join(heads), 3)
        self.records = [(len(unit.payloads), unit.payloads.tail, unit.done) for unit in units]

    def units(self) -> list[Unit]:
        if self.plain is not None:
            return self.plain
        data, offset, lengths = memoryview(deflate.decompress(self.blob)), 0, iter(self.lengths)
        units = []
        for count, tail, done in self.records:
            heads = []
            for _ in range(count):
                length = next(lengths)
                heads.append(bytes(data[offset : offset + length]))
                offset += length
            units.append(Unit(Payloads(heads, tail), done))
        return units


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
