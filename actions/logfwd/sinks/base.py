"""What a sink offers the pipeline: an encoder for events, and delivery of what it encoded."""

from typing import Protocol, Sequence

from ..deadline import Deadline


class Sink(Protocol):
    guarantee: str     # plugs.ACKNOWLEDGED | plugs.WRITTEN | plugs.BEST_EFFORT: what "delivered" means here
    batches_sent: int  # batches (Lumberjack windows, connections, datagrams) delivered in full so far

    def encode(self, events: Sequence[dict]) -> Sequence[bytes]:
        """The events of one record in this sink's wire form, one or more payloads each (pure)."""

    def send(self, payloads: Sequence[bytes], deadline: Deadline) -> None:
        """Return only once every payload is delivered as far as ``guarantee`` reaches; else raise
        ``DeliveryError(acked=k)`` where the first ``k`` payloads are known to be delivered."""

    def describe(self) -> str:
        """Where events go, without secrets."""

    def close(self) -> None:
        """Release connections."""
