"""What every checkpoint store offers.

A checkpoint is one JSON-able document. ``save`` is a compare-and-swap against what ``load`` saw, so a
run never overwrites a checkpoint that another run moved in between (``ConflictError``). Stores that
can expire a key offer a lease, so overlapping alarm runs do not both forward.
"""

from typing import Protocol, runtime_checkable


@runtime_checkable
class CheckpointStore(Protocol):
    supports_lease: bool

    def load(self) -> dict | None:
        """The saved document, or ``None`` when there is none yet (start from the initial lookback)."""

    def save(self, document: dict) -> None:
        """Replace the document; ``ConflictError`` if another writer saved since ``load``."""

    def acquire_lease(self, owner: str, ttl: float) -> None:
        """Hold the lease for ``ttl`` seconds, or raise ``LeaseHeldError`` naming when it frees up.

        Stores without ``supports_lease`` accept every call and hold nothing.
        """

    def release_lease(self, owner: str) -> None:
        """Give the lease up early if ``owner`` still holds it."""

    def describe(self) -> str:
        """Where the checkpoint lives, without credentials."""

    def result_fields(self) -> dict:
        """Keys to add to the run's result: the ``activation`` store saves its document there; the
        others add nothing."""

    def close(self) -> None:
        """Release connections."""


class ElsewhereThanResult:
    """Mixin for stores that keep the checkpoint elsewhere than in the run's result."""

    def result_fields(self) -> dict:
        return {}


class NoLease(ElsewhereThanResult):
    """Mixin for stores that cannot hold a lease: overlapping runs may re-send, never lose."""

    supports_lease = False

    def acquire_lease(self, owner: str, ttl: float) -> None:
        return None

    def release_lease(self, owner: str) -> None:
        return None

    def close(self) -> None:
        return None
