"""One shard's checkpoint, with the other shards' checkpoints read beside it.

Shard i of N keeps its own checkpoint: shard 1 the store's usual one (so an unsharded forwarder
grows into shard 1/N and keeps its position), shard i > 1 its own key derived from it
(``shard_location``). ``load`` also reads the other shards' checkpoints and hands their source
documents to the source under ``peers``: after the shard count changed, the source continues each
moved action from where its old shard left it (``sources/openwhisk/handover.py``). Which shards to
read: 1..N, and up to the largest count any checkpoint read was saved under, so that after shrinking,
the removed shards' checkpoints are read until every remaining shard has saved under the new count.
An unsharded forwarder reads peers only when its own checkpoint was last saved by a shard.
"""

from typing import Callable

from ..errors import CheckpointError, LogfwdError
from .base import CheckpointStore

SHARDS_KEY = "shards"  # top-level key of a saved document: the shard count it was saved under


class ShardedStore:
    def __init__(self, own: CheckpointStore, index: int, count: int, open_shard: Callable[[int], CheckpointStore],
                 sharded: bool = True):
        self.own, self.index, self.count = own, index, count
        self.open_shard = open_shard
        self.sharded = sharded  # False: an unsharded forwarder, which saves its document as it always did
        self.supports_lease = own.supports_lease

    def load(self) -> dict | None:
        document = self.own.load()
        wanted, peers, j = max(self.count, _count(document)), [], 1
        while j <= wanted:
            if j != self.index:
                peer = self._load_peer(j)
                if peer is not None:
                    wanted = max(wanted, _count(peer))
                    if isinstance(peer.get("source"), dict):
                        peers.append(peer["source"])
            j += 1
        if not peers:
            return document
        source = (document or {}).get("source")
        return {**(document or {}), "source": {**(source if isinstance(source, dict) else {}), "peers": peers}}

    def _load_peer(self, j: int) -> dict | None:
        store = self.open_shard(j)
        try:
            document = store.load()
        except LogfwdError as exc:
            raise CheckpointError(f"cannot read the checkpoint of shard {j} ({exc}); not forwarding, so that "
                                  "an action it hands over does not start over; the next run tries again") from None
        finally:
            store.close()
        return document if isinstance(document, dict) else None

    def save(self, document: dict) -> None:
        self.own.save({**document, SHARDS_KEY: self.count} if self.sharded else document)

    def acquire_lease(self, owner: str, ttl: float) -> None:
        self.own.acquire_lease(owner, ttl)

    def release_lease(self, owner: str) -> None:
        self.own.release_lease(owner)

    def describe(self) -> str:
        return self.own.describe()

    def result_fields(self) -> dict:
        return self.own.result_fields()

    def close(self) -> None:
        self.own.close()


def _count(document) -> int:
    count = document.get(SHARDS_KEY) if isinstance(document, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and 0 < count <= 10_000 else 0
