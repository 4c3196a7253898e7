"""zlib streams (RFC 1950) for Lumberjack's ``C`` frames: ISA-L for the fast levels, zlib for the rest.

Compression is most of what sending costs. On windows of 2048 events of ~600 bytes (measured with
``python -m tests.bench.compression``), zlib's levels 1 and 3 both take ~2.3 us an event for ~60 bytes
on the wire; ISA-L (the optional ``isal`` wheel) takes ~0.4 us for ~55 bytes. So levels 1-3 go to
ISA-L's levels 0-2 (its default is 2), and 4-9, which trade CPU for fewer bytes, stay with zlib. Both
write standard zlib streams: every receiver inflates them the same way. Without the wheel, zlib does
every level: correct, only slower.
"""

import zlib

try:
    from isal import isal_zlib
except ImportError:  # a platform without its wheel
    isal_zlib = None

__all__ = ["compress", "decompress", "ENGINE"]

_ISAL_LEVELS = {1: 0, 2: 1, 3: 2}  # our level (zlib's scale) -> ISA-L's
ENGINE = "isal" if isal_zlib is not None else "zlib"
"""What compresses the default level 3 here: ``isal`` or ``zlib``."""


def compress(data: bytes, level: int) -> bytes:
    """``data`` as one zlib stream at ``level`` 1..9 (zlib's scale: 1 fastest, 9 smallest)."""
    if isal_zlib is not None and level in _ISAL_LEVELS:
        return isal_zlib.compress(data, _ISAL_LEVELS[level])
    return zlib.compress(data, level)


def decompress(data: bytes) -> bytes:
    """The bytes of one whole zlib stream (for data we compressed ourselves; receivers stream-inflate)."""
    return isal_zlib.decompress(data) if isal_zlib is not None else zlib.decompress(data)
