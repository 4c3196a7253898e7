"""The events of one activation record as senders need them: each line's JSON apart from the JSON its
lines share, joined only when an event is read. Pure: no I/O."""

from collections.abc import Sequence
from itertools import repeat
from operator import add

from ...codecs.jsonbytes import dumps, loads

__all__ = ["Payloads", "RecordEvents"]


class RecordEvents(Sequence):
    """The events of one record: each line's own keys and the keys they all share (``shared``).

    The lines are kept as their JSON (``heads``: each line's object without its closing brace), as
    senders need them; an event read as a dict (a sink that does not send JSON, a test) is decoded
    from its line's JSON and merged with ``shared`` when it is read (a fresh dict each time: changing
    it changes nothing here). The two parts never share a key (see ``RESERVED_FIELDS``), so an event's
    JSON is its line's JSON joined to the shared one. ``shared`` may be given as its JSON already
    (``sharedpart.shared_json``); read as a dict, it is then decoded once. ``unparsed`` and
    ``truncated`` count the lines with those flags.
    """

    __slots__ = ("heads", "_shared", "_shared_json", "unparsed", "truncated")

    def __init__(self, lines: list[dict], shared: dict | bytes):
        self.heads = [dumps(line)[:-1] for line in lines]
        self._shared, self._shared_json = (None, shared) if type(shared) is bytes else (shared, None)
        flags = [line["logfwd"] for line in lines if line.get("logfwd")]
        self.unparsed = sum(bool(f.get("unparsed")) for f in flags)
        self.truncated = sum("truncated_bytes" in f for f in flags)

    @classmethod
    def encoded(cls, heads: list[bytes], shared: dict | bytes, unparsed: int = 0, truncated: int = 0) -> "RecordEvents":
        """From the lines' JSON as ``RecordEvents`` keeps it (``heads``)."""
        events = cls.__new__(cls)
        events.heads, events.unparsed, events.truncated = heads, unparsed, truncated
        events._shared, events._shared_json = (None, shared) if type(shared) is bytes else (shared, None)
        return events

    @property
    def shared(self) -> dict:
        """The keys every line shares."""
        if self._shared is None:
            self._shared = loads(self._shared_json)
        return self._shared

    @property
    def lines(self) -> list[dict]:
        """Each line's own keys, as dicts."""
        return [loads(head + b"}") for head in self.heads]

    def __len__(self) -> int:
        return len(self.heads)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [{**loads(head + b"}"), **self.shared} for head in self.heads[index]]
        return {**loads(self.heads[index] + b"}"), **self.shared}

    def __repr__(self) -> str:
        return f"RecordEvents({list(self)!r})"

    def payloads(self) -> "Payloads":
        """Each event as compact JSON: ``{line keys,shared keys}``, the shared part encoded once."""
        if not self.heads:
            return Payloads([], b"")
        shared = self._shared_json if self._shared_json is not None else dumps(self._shared)
        return Payloads(self.heads, b"}" if shared == b"{}" else b"," + shared[1:])


class Payloads(Sequence):
    """The JSON of a record's events, each ``head + tail``: the lines' own parts and the part they share.

    The two are joined only when an event is read, so a record waiting to be sent holds its shared
    part once instead of once per line (about half of a typical event).
    """

    __slots__ = ("heads", "tail")

    def __init__(self, heads: list[bytes], tail: bytes):
        self.heads = heads
        self.tail = tail

    def __len__(self) -> int:
        return len(self.heads)

    # Joined by map in C, not a generator: the batcher reads every event of a record this way.
    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(map(add, self.heads[index], repeat(self.tail)))
        return self.heads[index] + self.tail

    def __iter__(self):
        return map(add, self.heads, repeat(self.tail))
