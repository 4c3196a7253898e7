"""What a sink offers the pipeline."""

from typing import Protocol, Sequence

from ..deadline import Deadline


class Sink(Protocol):
    windows_acked: int  # windows the receiver acknowledged in full so far (for the run summary)

    def send(self, payloads: Sequence[bytes], deadline: Deadline) -> None:
        """Return only once every payload is acknowledged; else raise ``DeliveryError(acked=k)``
        where the first ``k`` payloads are known to be delivered."""

    def describe(self) -> str:
        """Where events go, without secrets."""

    def close(self) -> None:
        """Release connections."""
