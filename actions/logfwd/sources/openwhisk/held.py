"""Pages of units held while a range is read newest first, to be sent oldest first."""

from array import array

from ...codecs import deflate
from ..base import Unit
from .events import Payloads

__all__ = ["HeldPage", "held_form"]


class HeldPage:
    """The units of one held page, with their events compressed together: a fifth of the memory.

    Without it, held pages made a run's memory grow with the backlog by ~0.7 MB a page (10 lines an
    activation) until the 16 were held; compressing and inflating them costs ~1 us a line, which the
    first two pages of an action skip (``compress=False``), so a short backlog does not pay it.
    """

    __slots__ = ("blob", "lengths", "records", "size", "plain")

    def __init__(self, units: list[Unit], compress: bool = True):
        self.size = sum(unit.payloads.held_bytes() for unit in units)  # uncompressed, as budgeted
        self.plain = None if compress else units
        if not compress:
            return
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
