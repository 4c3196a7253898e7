"""Which collector of a statsd cluster gets a metric name: a consistent-hash ring, or crc32 mod n.

``ConsistentRing`` places every collector ``"host:port"`` at 40 points, each the first 4 bytes of
``md5("host:port-i")`` read little-endian, and gives a name to the first point at or after the same
value of ``md5(name)``, wrapping around: the ring of statsd's own cluster proxy (hashring 3.2.0 with
``replicas: 0``), so adding one collector to N moves about 1/(N+1) of the names. ``Crc32Modulo``
is ``crc32(name) mod N``, the routing of keithduncan/statsd-client; changing N moves most names.
"""

import bisect
import hashlib
import zlib
from typing import Sequence

__all__ = ["ConsistentRing", "Crc32Modulo", "ROUTINGS"]

POINTS_PER_COLLECTOR = 40
KNOWN_NAMES = 10000  # owners remembered per ring: a drain sends the same few names (app x code) every request


def _md5_point(text: bytes) -> int:
    return int.from_bytes(hashlib.md5(text).digest()[:4], "little")


class ConsistentRing:
    def __init__(self, collectors: Sequence[str]):
        if not collectors:
            raise ValueError("a ring needs at least one collector")
        points = sorted((_md5_point(f"{name}-{i}".encode()), index)
                        for index, name in enumerate(collectors) for i in range(POINTS_PER_COLLECTOR))
        self._values = [value for value, _ in points]
        self._owners = [index for _, index in points]
        self._known: dict[bytes, int] = {}

    def collector(self, name: bytes) -> int:
        """The index of the collector that owns ``name``."""
        owner = self._known.get(name)
        if owner is None:
            position = bisect.bisect_left(self._values, _md5_point(name))
            owner = self._owners[position if position < len(self._owners) else 0]
            if len(self._known) >= KNOWN_NAMES:
                self._known.clear()  # simpler than an LRU, and rare: names are few
            self._known[name] = owner
        return owner


class Crc32Modulo:
    def __init__(self, collectors: Sequence[str]):
        if not collectors:
            raise ValueError("crc32-mod-n needs at least one collector")
        self._count = len(collectors)

    def collector(self, name: bytes) -> int:
        return zlib.crc32(name) % self._count


ROUTINGS = {"consistent": ConsistentRing, "crc32-mod-n": Crc32Modulo}
