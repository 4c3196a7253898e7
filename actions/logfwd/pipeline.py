"""One forwarding pass: source -> events -> sink -> checkpoint (pulled) or answer (pushed).

The source encodes each record's events with the sink's encoder; the batcher sends them and runs each
unit's ``done`` once the sink delivered it. A pulled source's checkpoint is saved every
``save_windows`` delivered batches or ``save_every`` seconds while the pass goes on (a killed run
re-sends at most that much), and at the end of every pass, also a failed one; a pushed source's
answer is built at the end: both only ever reflect units the sink delivered, as far as its
guarantee reaches. A save that fails mid-pass (another run moved the checkpoint) stops the pass. A pass stops pulling ``deadline.grace`` seconds before its deadline; the window
in flight then has until ``deadline.for_work()``, and the rest is kept for saving.
"""

import logging
import time
from datetime import datetime, timezone
from typing import Callable

from .batcher import Batcher
from .checkpoints.base import CheckpointStore
from .deadline import NO_DEADLINE, Deadline
from .errors import CheckpointError, LogfwdError
from .gcpace import fewer_collections
from .sinks.base import Sink
from .sources.base import Source

log = logging.getLogger(__name__)

FORMAT = 1
SAVE_WINDOWS = 4  # save the checkpoint after this many more delivered batches ...
SAVE_EVERY = 10.0  # ... or this many seconds, whichever comes first, while a pass goes on


def forward(source: Source, sink: Sink, store: CheckpointStore | None = None, *, deadline: Deadline = NO_DEADLINE,
            max_events: int = 2048, max_bytes: int = 8 << 20,
            progress: Callable[[dict], None] | None = None, clock: Callable[[], float] = time.time,
            save_windows: int = SAVE_WINDOWS, save_every: float = SAVE_EVERY) -> dict:
    """Run one pass and return its summary. Errors of the pass are reported in the summary, not raised:
    what was delivered is always saved; a checkpoint that cannot be read (or used) stops the pass before
    anything is sent, with the same summary. ``store`` is None for a pushed source, which has no
    checkpoint."""
    with fewer_collections():  # a pass frees nearly all it allocates: see gcpace.py
        return _forward(source, sink, store, deadline, max_events, max_bytes, progress, clock, save_windows,
                        save_every)


def _forward(source, sink, store, deadline, max_events, max_bytes, progress, clock, save_windows,
             save_every) -> dict:
    started = clock()
    batcher = Batcher(sink, deadline.for_work(), max_events=max_events, max_bytes=max_bytes,
                      on_flush=(lambda b: progress(_counts(source, b, sink))) if progress else None)
    errors: list[str] = []
    stopped_early = False
    try:
        opened = _open(source, store)
    except LogfwdError as exc:  # nothing sent, nothing to save: the checkpoint stays as it is
        errors.append(str(exc))
        batcher.drain()
    else:
        saver = _Saver(lambda: _save(store, source, clock), sink, clock, save_windows, save_every) if opened else None
        stopped_early = _pass(source, sink, batcher, deadline, errors, saver)
        if opened and not (saver and saver.failed):
            saved = _save(store, source, clock)
            if saved is not None:
                errors.append(saved)
    return _summary(source, sink, store, batcher, errors, stopped_early, round(clock() - started, 3))


def not_started(source: Source, sink: Sink, store: CheckpointStore | None, error: LogfwdError) -> dict:
    """The summary of a pass that could not start (e.g. its store's lease could not be taken): nothing
    read, nothing sent, in the shape of every other summary."""
    batcher = Batcher(sink, NO_DEADLINE)
    batcher.drain()
    return _summary(source, sink, store, batcher, [str(error)], False, 0.0)


def _summary(source: Source, sink: Sink, store: CheckpointStore | None, batcher: Batcher, errors: list[str],
             stopped_early: bool, seconds: float) -> dict:
    summary = {
        "ok": not errors and not source.errors,
        **_counts(source, batcher, sink),
        "stopped_at_deadline": stopped_early,
        "seconds": seconds,
        "sink": sink.describe(),
        "guarantee": sink.guarantee,  # of a tee: the weakest of its sinks'
    }
    if hasattr(sink, "per_sink"):  # a tee: what each sink took
        summary["sinks"] = sink.per_sink()
    if store is not None:
        summary["checkpoint"] = store.describe()
    summary["more"] = summary["more"] or stopped_early or bool(errors)
    errors = list(source.errors) + errors
    if errors:
        summary["errors"] = errors
    warnings = list(source.warnings)
    if warnings:
        summary["warnings"] = warnings
    return summary


def _open(source: Source, store: CheckpointStore | None) -> bool:
    """Give a pulled source its checkpoint; True if there is a store to save to."""
    if store is None:
        return False
    document = _readable(store.load(), store)
    source.open(document.get("source") if document else None)
    return True


class _Saver:
    """Saves the checkpoint every ``windows`` more delivered batches or ``every`` seconds while a pass
    goes on, so that a killed run re-sends at most that much."""

    def __init__(self, save: Callable[[], str | None], sink: Sink, clock: Callable[[], float], windows: int,
                 every: float):
        self.save, self.sink, self.clock, self.windows, self.every = save, sink, clock, windows, every
        self.at, self.batches, self.failed = clock(), sink.batches_sent, False

    def maybe(self, errors: list[str]) -> bool:
        """Save if it is time; False if the save failed (another run moved the checkpoint: stop)."""
        sent = self.sink.batches_sent - self.batches
        if not sent or (sent < self.windows and self.clock() - self.at < self.every):
            return True
        failed = self.save()
        if failed is not None:
            errors.append(failed)
            self.failed = True
            return False
        self.at, self.batches = self.clock(), self.sink.batches_sent
        return True


def _pass(source: Source, sink: Sink, batcher: Batcher, deadline: Deadline, errors: list[str],
          saver: _Saver | None = None) -> bool:
    """Send every unit the source has until the deadline; True if the deadline cut it short."""
    stopped_early = False
    units = source.units(deadline, sink.encode)
    try:
        for unit in units:
            if deadline.pull_expired():
                stopped_early = True
                break
            batcher.add(*unit)
            if saver is not None and not saver.maybe(errors):
                break
        batcher.flush()
    except Exception as exc:
        errors.append(_describe(exc))
    finally:
        units.close()
    try:
        batcher.drain()  # also after errors: what the receiver acknowledged still counts
    except Exception as exc:
        errors.append(_describe(exc))
    return stopped_early


def _readable(document: dict | None, store: CheckpointStore) -> dict | None:
    """The checkpoint, if this version can read it; one of another format is neither trusted nor
    replaced (a newer logfwd wrote it, or something else did)."""
    if document is None:
        return None
    found = document.get("format", FORMAT) if isinstance(document, dict) else None  # none given: as written now
    if found != FORMAT:
        raise CheckpointError(
            f"the checkpoint in {store.describe()} has format {found!r}, and this logfwd reads format {FORMAT}; "
            "not forwarding, so that it is not overwritten. Run the logfwd version that wrote it, or move the "
            "checkpoint away to start again from the initial lookback")
    return document


def _describe(exc: Exception) -> str:
    if isinstance(exc, LogfwdError):
        return str(exc)
    # A bug must not cost what the receiver already acknowledged: say it, and save.
    log.exception("unexpected error; saving what was delivered")
    return f"unexpected error ({type(exc).__name__}: {exc}); what was delivered is saved"


def _counts(source: Source, batcher: Batcher, sink: Sink) -> dict:
    # "bytes": the events as encoded; "wire_bytes", for sinks that compress: what crossed the network.
    wire = {"wire_bytes": sink.wire_bytes} if hasattr(sink, "wire_bytes") else {}
    return {**source.summary(), "events": batcher.events_sent, "bytes": batcher.bytes_sent, **wire,
            "batches": sink.batches_sent}


def _save(store: CheckpointStore, source: Source, clock: Callable[[], float]) -> str | None:
    document = {
        "format": FORMAT,
        "saved_at": datetime.fromtimestamp(clock(), timezone.utc).isoformat(timespec="milliseconds"),
        "source": source.checkpoint(),
    }
    try:
        store.save(document)
    except LogfwdError as exc:
        # Nothing is lost: the next run starts from the previous checkpoint and re-sends.
        log.error("checkpoint not saved: %s", exc)
        return f"checkpoint not saved: {exc}"
    return None
