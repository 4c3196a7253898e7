"""The documents of a run of an object's lines, made when they are read: a unit's events.

Any sink reads them as plain dicts (``parse_line``'s document with the object's fields), each made when
read. The JSON sinks (tcp, lumberjack) ask ``payloads()`` instead (see ``json_payloads``), which writes
the JSON of an ALB or classic ELB line straight from the line (``codecs/elbjson.py``: 2-3x less CPU
than making the dict and encoding it) and encodes the dict for every other line. Both give the same bytes:
tests/test_elbjson.py compares them.
"""

from collections.abc import Sequence
from typing import NamedTuple

from ...codecs.elbjson import json_writer
from ...codecs.elblog import parse_line
from ...codecs.jsonbytes import dumps
from ...errors import LineFormatError

__all__ = ["ObjectContext", "ObjectLines"]


class ObjectContext(NamedTuple):
    """What every document of one object carries besides its line."""

    id_prefix: str          # hex: @metadata._id is "<id_prefix>-<line number>"
    path: str               # s3://bucket/key
    s3: dict                # aws.s3: bucket name and ARN, object key
    modified: str | None    # the object's LastModified: the time of a line that does not parse

    def json_parts(self) -> tuple[str, str]:
        """``aws.s3`` as JSON members, and ``log.file.path`` as a JSON string."""
        return ',"s3":' + dumps(self.s3).decode(), dumps(self.path).decode()


class ObjectLines(Sequence):
    """Lines of one object with their line numbers (1-based, in the object) and byte offsets. ``unparsed``
    holds the index of each line made into a document that says it did not parse."""

    __slots__ = ("context", "texts", "numbers", "offsets", "unparsed")

    def __init__(self, context: ObjectContext):
        self.context = context
        self.texts: list[str] = []
        self.numbers: list[int] = []
        self.offsets: list[int] = []
        self.unparsed: set[int] = set()

    def append(self, text: str, number: int, offset: int) -> None:
        self.texts.append(text)
        self.numbers.append(number)
        self.offsets.append(offset)

    def extend(self, texts: list[str], numbers, offsets: list[int]) -> None:
        """Several lines at once: ``append`` for each, in C."""
        self.texts += texts
        self.numbers += numbers
        self.offsets += offsets

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._document(index)

    def _document(self, index: int) -> dict:
        text, context = self.texts[index], self.context
        try:
            doc = parse_line(text)
        except LineFormatError as exc:
            self.unparsed.add(index if index >= 0 else index + len(self))
            doc = {"message": text, "error": {"message": str(exc)},
                   "event": {"kind": "event", "module": "aws", "dataset": "aws.elb"},
                   "cloud": {"provider": "aws"}, "aws": {}, "logfwd": {"unparsed": True}}
            if context.modified:
                doc["@timestamp"] = context.modified  # the object's time: the line's own is unknown
        doc["@metadata"] = {"_id": f"{context.id_prefix}-{self.numbers[index]}"}
        doc["log"] = {"offset": self.offsets[index], "file": {"path": context.path}}
        doc["aws"]["s3"] = context.s3
        return doc

    def payloads(self) -> list[bytes]:
        """Each document as compact JSON, as ``dumps(self[i])`` writes it."""
        if not self.texts:
            return []
        inside_aws, path = self.context.json_parts()
        prefix = self.context.id_prefix
        out: list[bytes] = []
        append = out.append
        write = json_writer(self.texts[0])  # one type per object: chosen once
        for text, number, offset in zip(self.texts, self.numbers, self.offsets):
            after = f',"@metadata":{{"_id":"{prefix}-{number}"}},"log":{{"offset":{offset},"file":{{"path":{path}}}}}'
            written = write(text, inside_aws, after)
            if written is None and json_writer(text) is not write:  # a line of another type (after a bad
                write = json_writer(text)                           # first line): its writer from now on
                written = write(text, inside_aws, after)
            append(written.encode() if written is not None else dumps(self._document(len(out))))
        return out
