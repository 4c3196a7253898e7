"""The events of one drain request, built only when something reads them.

Most drains go to statsd, which needs each line's metrics and none of its event: building the
dicts (time in UTC, ids, nested fields, the error's description) was most of the cost of a line
that reports an error. So the source keeps each counted frame as parsed, with its metrics, and
``DrainEvents`` reads as the list of event dicts a log sink expects (each built when read) while
``metrics()`` hands the statsd sink the metrics alone, as ``RecordEvents.payloads()`` hands the
JSON sinks their bytes.
"""

from collections.abc import Callable, Sequence

__all__ = ["DrainEvents"]

Metric = tuple[str, str, int]  # (name, "c" | "ms", value)


class DrainEvents(Sequence):
    """``frames`` as the source kept them, ``build`` turns one into its event dict, ``metrics`` are all
    their metrics in order (each event's ``metrics`` key, concatenated)."""

    __slots__ = ("_frames", "_build", "_metrics")

    def __init__(self, frames: list, build: Callable[[object], dict], metrics: list[Metric]):
        self._frames, self._build, self._metrics = frames, build, metrics

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._build(frame) for frame in self._frames[index]]
        return self._build(self._frames[index])

    def metrics(self) -> list[Metric]:
        """What the events' ``metrics`` keys hold, in the same order, without building the events."""
        return self._metrics

    def __repr__(self) -> str:
        return f"DrainEvents({list(self)!r})"
