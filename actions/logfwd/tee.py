"""A run with several sinks: every event goes to each of them (``sink=statsd,lumberjack``).

``Tee`` is itself a sink, so sources, the batcher and the pipeline stay as they are: a unit is done
only once every sink delivered its share. Sources treat payloads as opaque bytes (they join the
lists of several records, compress held pages), so the sink a payload is for travels inside it: a
teed payload is one byte, the sink's position in the tee, then that sink's own payload. ``send``
gives each sink its share, one sink after the other in the order given, and goes on after a sink
fails, so one sink down never keeps the others from what they can take; the error names every sink
that failed, and says per sink how far it got (``DeliveryError.acked_by``).

The guarantee is the weakest of the sinks': "delivered" can mean no more than its weakest part does.
"""

import logging
import threading
from typing import Sequence

from .deadline import Deadline
from .errors import DeliveryError, LogfwdError
from .plugs import ACKNOWLEDGED, BEST_EFFORT, WRITTEN

log = logging.getLogger(__name__)
_STRENGTH = {ACKNOWLEDGED: 2, WRITTEN: 1, BEST_EFFORT: 0}


def weakest(guarantees: Sequence[str]) -> str:
    return min(guarantees, key=lambda guarantee: _STRENGTH.get(guarantee, -1))


class TeeEncode:
    """The tee's encoder: each sink's payloads of the events, each behind its sink's byte. ``only``
    gives an encoder for some of the sinks, the others getting nothing."""

    def __init__(self, sinks: Sequence[tuple[str, object]], chosen: Sequence[str] | None = None):
        self.names = tuple(name for name, _ in sinks)
        self._encoders = [(bytes([index]), sink.encode) for index, (name, sink) in enumerate(sinks)
                          if chosen is None or name in chosen]
        self._sinks = sinks

    def __call__(self, events: Sequence[dict]) -> list[bytes]:
        return [tag + payload for tag, encode in self._encoders for payload in encode(events)]

    def only(self, names: Sequence[str]) -> "TeeEncode":
        return TeeEncode(self._sinks, names)


class Tee:
    def __init__(self, sinks: Sequence[tuple[str, object]]):
        if not 2 <= len(sinks) <= 255:
            raise ValueError("a tee has 2 to 255 sinks")
        self.sinks = list(sinks)
        self.names = [name for name, _ in sinks]
        self.guarantee = weakest([sink.guarantee for _, sink in sinks])
        self.encode = TeeEncode(self.sinks)
        # A lumberjack sink asks for several windows per send; the tee's sends carry the most any asks.
        self.windows_per_send = max(getattr(sink, "windows_per_send", 2) for _, sink in sinks)
        self.delivered = {name: {"events": 0, "bytes": 0} for name in self.names}
        # logfwd serve sends the requests of several threads, and a sink's connection carries one send
        # at a time: one lock per sink, so a fast sink never waits for a slow one's acknowledgement.
        self._sending = [threading.Lock() for _ in sinks]
        self._lock = threading.Lock()

    @property
    def batches_sent(self) -> int:
        return sum(sink.batches_sent for _, sink in self.sinks)

    def send(self, payloads: Sequence[bytes], deadline: Deadline) -> None:
        shares: list[list[bytes]] = [[] for _ in self.sinks]
        positions: list[list[int]] = [[] for _ in self.sinks]
        for position, payload in enumerate(payloads):
            shares[payload[0]].append(payload[1:])
            positions[payload[0]].append(position)
        acked_by, failures = {}, []
        for index, (name, sink) in enumerate(self.sinks):
            share = shares[index]
            try:
                if share:
                    with self._sending[index]:
                        sink.send(share, deadline)
                taken = len(share)
            except DeliveryError as exc:
                taken = exc.acked
                failures.append(f"sink {name}: {exc}")
            except LogfwdError as exc:
                taken = 0
                failures.append(f"sink {name}: {exc}")
            except Exception as exc:  # a bug in one sink must not keep the others from their share
                log.exception("sink %s failed", name)
                taken = 0
                failures.append(f"sink {name}: unexpected error ({type(exc).__name__}: {exc})")
            # Where this sink's share stops being safe, as a position in the tee's payloads.
            acked_by[name] = positions[index][taken] if taken < len(share) else len(payloads)
            with self._lock:
                self.delivered[name]["events"] += taken
                self.delivered[name]["bytes"] += sum(map(len, share[:taken]))
        if failures:
            raise DeliveryError("; ".join(failures), acked=min(acked_by.values()), acked_by=acked_by)

    def describe(self) -> str:
        return " + ".join(f"{name}: {sink.describe()}" for name, sink in self.sinks)

    def per_sink(self) -> dict:
        """For the run's summary: per sink, where it goes, its guarantee, and what it took."""
        return {name: {"sink": sink.describe(), "guarantee": sink.guarantee, **self.delivered[name],
                       "batches": sink.batches_sent,
                       **({"wire_bytes": sink.wire_bytes} if hasattr(sink, "wire_bytes") else {})}
                for name, sink in self.sinks}

    def close(self) -> None:
        for _, sink in self.sinks:
            sink.close()


def build_sink(settings, context, names: Sequence[str] | None = None):
    """The sink the settings name, or a ``Tee`` of the sinks they name; a sink that cannot be built
    closes those built before it."""
    from .plugs import plug
    names = list(names or settings.sinks)
    if len(names) == 1:
        return plug("sink", names[0]).build(settings, context)
    built: list[tuple[str, object]] = []
    try:
        for name in names:
            built.append((name, plug("sink", name).build(settings, context)))
    except BaseException:
        for _, sink in built:
            sink.close()
        raise
    return Tee(built)


