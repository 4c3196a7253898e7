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
from .errors import LogfwdError
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
    """Run one pass and return its summary. Errors of the pass are reported in the summary, not raised,
    once the checkpoint could be loaded: what was delivered is always saved. ``store`` is None for a
    pushed source, which has no checkpoint."""
    started = clock()
    if store is not None:
        document = store.load()
        source.open(document.get("source") if isinstance(document, dict) else None)

    batcher = Batcher(sink, deadline.for_work(), max_events=max_events, max_bytes=max_bytes,
                      on_flush=(lambda b: progress(_counts(source, b, sink))) if progress else None)
    stopped_early = False
    units = source.units(deadline, sink.encode)
    errors = []
    saved_at, saved_batches, save_failed = clock(), sink.batches_sent, False
    try:
        for unit in units:
            if deadline.pull_expired():
                stopped_early = True
                break
            batcher.add(unit.payloads, unit.done)
            sent = sink.batches_sent - saved_batches
            if store is not None and sent and (sent >= save_windows or clock() - saved_at >= save_every):
                failed = _save(store, source, clock)
                if failed is not None:  # another run moved it: stop; the next run goes on from there
                    errors.append(failed)
                    save_failed = True
                    break
                saved_at, saved_batches = clock(), sink.batches_sent
        batcher.flush()
    except Exception as exc:
        errors.append(_describe(exc))
    finally:
        units.close()
    try:
        batcher.drain()  # also after errors: what the receiver acknowledged still counts
    except Exception as exc:
        errors.append(_describe(exc))

    if store is not None and not save_failed:
        saved = _save(store, source, clock)
        if saved is not None:
            errors.append(saved)
    summary = {
        "ok": not errors and not source.errors,
        **_counts(source, batcher, sink),
        "stopped_at_deadline": stopped_early,
        "seconds": round(clock() - started, 3),
        "sink": sink.describe(),
        "guarantee": sink.guarantee,
    }
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


def _describe(exc: Exception) -> str:
    if isinstance(exc, LogfwdError):
        return str(exc)
    # A bug must not cost what the receiver already acknowledged: say it, and save.
    log.exception("unexpected error; saving what was delivered")
    return f"unexpected error ({type(exc).__name__}: {exc}); what was delivered is saved"


def _counts(source: Source, batcher: Batcher, sink: Sink) -> dict:
    return {**source.summary(), "events": batcher.events_sent, "bytes": batcher.bytes_sent,
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
