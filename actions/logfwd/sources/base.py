"""What a source gives the pipeline: units of work whose events are delivered together or not at all."""

from typing import Callable, Iterator, NamedTuple, Protocol, Sequence

from ..deadline import Deadline


class Unit(NamedTuple):
    """The events of one source record (e.g. one activation), encoded, and what to do once all are acknowledged.

    A unit with no events still has its ``done`` run in order, after everything queued before it is
    acknowledged: sources use that to mark records without log lines, and the end of a phase. A unit
    with neither is a pause: the source is working on something that yields nothing yet, and the
    pipeline may check its deadline.
    """

    payloads: Sequence[bytes]  # one serialized event each (see events.payloads)
    done: Callable[[], None] | None = None


class Source(Protocol):
    errors: list[str]    # problems with records or parts of the source; the rest of the run goes on
    warnings: list[str]  # things the user should know (unknown actions, a checkpoint started over)

    def open(self, document: dict | None) -> None:
        """Restore the source's position from a checkpoint document (``None``: the first run)."""

    def units(self, deadline: Deadline) -> Iterator[Unit]:
        """The work of this run, in the order the checkpoint can advance through it. ``deadline`` bounds
        work that delivers nothing until it ends (the pipeline stops pulling at its pull deadline)."""

    def checkpoint(self) -> dict:
        """The document to save: it reflects only units whose ``done`` has run."""

    def summary(self) -> dict:
        """Counts for the run summary: activations, lag_seconds, more (is work left?), per-part counts."""
