"""An object's bytes, as they stream in, turned into lines: gzip recognised by its magic bytes (ALB and
NLB write gzip, classic ELB plain text), inflated with bounded output, and split at ``\\n``.

Pure iterators over chunks of bytes: memory stays a few MB whatever the object's size.
"""

import zlib
from typing import Iterable, Iterator

from ...errors import SourceError

try:  # ISA-L inflates 2-3x faster; zlib when its wheel is missing
    from isal.isal_zlib import decompressobj
    from isal.isal_zlib import error as InflateError
except ImportError:  # pragma: no cover - depends on the platform
    from zlib import decompressobj
    from zlib import error as InflateError

__all__ = ["inflated", "lines_of", "GZIP_MAGIC", "MAX_INFLATE", "MAX_LINE"]

GZIP_MAGIC = b"\x1f\x8b"
MAX_INFLATE = 4 << 20  # bytes of output per inflate step, so a highly compressed chunk stays bounded
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


def lines_of(blocks: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Lists of complete lines (without ``\\n``), one list per block; the last line may lack its ``\\n``."""
    tail = b""
    for block in blocks:
        if not block:
            continue
        data = tail + block if tail else block
        lines = data.split(b"\n")
        tail = lines.pop()
        while len(tail) > MAX_LINE:
            lines.append(tail[:MAX_LINE])
            tail = tail[MAX_LINE:]
        if lines:
            yield lines
    if tail:
        yield [tail]
