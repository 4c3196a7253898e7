"""An object's bytes, as they stream in, turned into lines: gzip recognised by its magic bytes (ALB and
NLB write gzip, classic ELB plain text), inflated with bounded output, and split at ``\\n``.

Pure iterators over chunks of bytes: memory stays a few MB whatever the object's size.
"""

import zlib
from itertools import accumulate
from typing import Iterable, Iterator

from ...errors import SourceError

try:  # ISA-L inflates 2-3x faster; zlib when its wheel is missing
    from isal.isal_zlib import decompressobj
    from isal.isal_zlib import error as InflateError
except ImportError:  # pragma: no cover - depends on the platform
    from zlib import decompressobj
    from zlib import error as InflateError

__all__ = ["inflated", "line_runs", "decoded_lines", "GZIP_MAGIC", "MAX_INFLATE", "MAX_LINE"]

GZIP_MAGIC = b"\x1f\x8b"
MAX_INFLATE = 1 << 20  # bytes of output per inflate step, so a highly compressed chunk stays bounded
# (and the text made of it: a run of lines is held as bytes, as text and as lines at once)
MAX_LINE = 1 << 20     # a "line" longer than this (no newline in a MB) is passed on in pieces of this size


def inflated(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of ``chunks``, inflated if they start with the gzip magic (several members allowed,
    as ``cat a.gz b.gz`` makes). Raises ``SourceError`` for a corrupt or truncated gzip stream."""
    chunks = iter(chunks)
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= len(GZIP_MAGIC):
            break
    if not head.startswith(GZIP_MAGIC):
        if head:
            yield head
        yield from chunks
        return
    inflater, fed = decompressobj(wbits=31), False
    pending = head
    while True:
        while pending:
            try:
                out = inflater.decompress(pending, MAX_INFLATE)
            except (zlib.error, InflateError) as exc:
                raise SourceError(f"the gzip data is corrupt ({exc})") from None
            fed = True
            if out:
                yield out
            if inflater.unconsumed_tail:
                pending = inflater.unconsumed_tail
            elif inflater.eof:
                pending = inflater.unused_data
                inflater, fed = decompressobj(wbits=31), False
            else:
                pending = b""
        pending = next(chunks, None)
        if pending is None:
            break
    if fed and not inflater.eof:
        raise SourceError("the gzip data ends before its end marker (a truncated object)")


def line_runs(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Runs of whole lines, as they come: each holds one or more lines joined by ``\\n`` (without the last
    line's ``\\n``); the object's last line may have had none. A line of more than ``MAX_LINE`` bytes comes
    in pieces of that size, each a run of its own. Lines are cut a run at a time (``decoded_lines``), not
    one by one here: a Python step a line cost as much as inflating."""
    tail = b""
    for block in blocks:
        if not block:
            continue
        data = tail + block if tail else block
        del block
        end = data.rfind(b"\n")
        if end >= 0:
            run, tail = data[:end], data[end + 1:]
            del data  # not held while the run is worked on
            yield run
            del run
        else:
            tail = data
        while len(tail) > MAX_LINE:
            yield tail[:MAX_LINE]
            tail = tail[MAX_LINE:]
    if tail:
        yield tail


def decoded_lines(run: bytes, offset: int) -> tuple[list[str], list[int]]:
    """The lines of ``run`` as text (UTF-8, undecodable bytes replaced, trailing ``\\r`` dropped), and the
    byte offset of each in the object, the first at ``offset``, with one more: the offset after the run
    (each line counted with a ``\\n``). An ASCII run (the usual) is decoded and split whole, in C."""
    try:  # ASCII: then a character is a byte, and the text's lengths are the bytes'
        texts = run.decode("ascii").split("\n")
        lengths = map(len, texts)
    except UnicodeDecodeError:  # each line decoded on its own, so that the replacement stays within it
        raws = run.split(b"\n")
        texts = [raw.decode("utf-8", "replace") for raw in raws]
        lengths = map(len, raws)
    offsets = list(accumulate(map((1).__add__, lengths), initial=offset))
    if b"\r" in run:
        texts = [text.rstrip("\r") for text in texts]
    return texts, offsets
