"""Which shard forwards which action: rendezvous (highest random weight) hashing of the action name.

Each shard works the answer out alone, with no coordination: an action belongs to the shard whose
weight ``hash(shard, action)`` is the highest. Going from N to N+1 shards moves exactly the actions
whose highest weight is now the new shard's, about 1/(N+1) of them, and going back moves them back;
every other action stays where it was.
"""

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    index: int  # 1..count
    count: int

    def owns(self, action: str) -> bool:
        return owner(action, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def owner(action: str, count: int) -> int:
    """The shard (1..count) that forwards ``action``."""
    return max(range(1, count + 1), key=lambda index: _weight(index, action))


def _weight(index: int, action: str) -> int:
    digest = hashlib.blake2b(f"{index}\0{action}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
