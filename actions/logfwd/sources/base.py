"""What a source gives the pipeline: units of work whose events are delivered together or not at all.

Two kinds of source share this shape. A *pulled* source (OpenWhisk activations) reads on a schedule
and keeps its position in a checkpoint (``open``/``checkpoint``). A *pushed* source (Kinesis, S3, a
log drain) is handed its records in the invocation's input and has no checkpoint: the platform
retries what the ``answer`` does not confirm.
"""

from typing import Callable, Iterator, NamedTuple, Protocol, Sequence

from ..deadline import Deadline

Encode = Callable[[Sequence[dict]], Sequence[bytes]]  # the sink's encoder: one record's events -> payloads


class Unit(NamedTuple):
    """The events of one source record (e.g. one activation), encoded by the sink, and what to do once
    all of them are delivered.

    A unit with no events still has its ``done`` run in order, after everything queued before it is
    delivered: sources use that to mark records without log lines, and the end of a phase. A unit
    with neither is a pause: the source is working on something that yields nothing yet, and the
    pipeline may check its deadline.

    With several sinks (a tee), ``partly`` runs instead of ``done`` when the unit was not delivered
    whole but some sinks took all of their share: it gets their names, so a pushed source that cannot
    take back what those sinks got (statsd counters) can avoid sending it to them again.

    A unit may cover several records (a run of Kinesis records: one unit costs less than one a
    record). If a send fails before the sink acknowledged all of its payloads, ``delivered_part`` gets
    how many of its first ones it did (0 too), marks the records they complete as delivered, and
    returns how many payloads those records have (for the run's totals); ``done`` does not run.
    """

    payloads: Sequence[bytes]
    done: Callable[[], None] | None = None
    partly: Callable[[list[str]], None] | None = None
    delivered_part: Callable[[int], int] | None = None


class Source(Protocol):
    errors: list[str]    # problems with records or parts of the source; the rest of the run goes on
    warnings: list[str]  # things the user should know (unknown actions, a checkpoint started over)

    def units(self, deadline: Deadline, encode: Encode) -> Iterator[Unit]:
        """The work of this run, in the order the source can confirm it. ``deadline`` bounds work that
        delivers nothing until it ends (the pipeline stops pulling at its pull deadline)."""

    def summary(self) -> dict:
        """Counts for the run summary: ``records``, ``more`` (is work left?), and the source's own detail."""

    def close(self) -> None:
        """Release connections."""


class PulledSource(Source, Protocol):
    def open(self, document: dict | None) -> None:
        """Restore the position from a checkpoint document (``None``: the first run)."""

    def checkpoint(self) -> dict:
        """The document to save: it reflects only units whose ``done`` has run."""


class PushedSource(Source, Protocol):
    def answer(self) -> dict:
        """The platform's answer, built only from units whose ``done`` has run (e.g. Kinesis's
        ``batchItemFailures`` for the rest, or an HTTP status for a drain). Where that shape cannot
        express a failure (an S3 notification is retried whole or not at all), the answer carries
        ``"failed": "<why>"`` and the entry fails the invocation, so the platform retries it."""
