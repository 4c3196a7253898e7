"""Builds the source, sink and checkpoint store that the settings name, and runs one pass.

Shared by every entry point (OpenWhisk action and web action, AWS Lambda, the CLI). A pulled source
runs under a lease on its checkpoint; a pushed source runs on the invocation's input, and its answer
to the platform comes back in the summary's ``answer``.
"""

import os
import socket
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from .checkpoints import open_store
from .deadline import Deadline
from .errors import ConfigError, LeaseHeldError, LogfwdError
from .pipeline import forward, not_started
from .plugs import PUSHED, Context, plug
from .retry import RetryPolicy
from .settings import Settings
from .tee import build_sink

DEFAULT_LEASE = 900.0  # seconds, when the run has no deadline of its own (CLI)
MIN_LEASE = 1.0  # a lease is never zero; it ends with the run's deadline, when the platform ends the run


def run_once(settings: Settings, *, event: Any = None, progress: Callable[[dict], None] | None = None,
             retry: RetryPolicy = RetryPolicy(), clock: Callable[[], float] = time.time) -> dict:
    """One pass with the settings' source and sink; returns its summary. ``event`` is the platform's
    input, which a pushed source reads its records from."""
    source_plug = plug("source", settings.source)
    pushed = source_plug.mode == PUSHED
    if pushed and event is None:
        raise ConfigError("source", f"'{settings.source}' is pushed by the platform and reads the invocation's input",
                          "Try it with: logfwd invoke --event FILE (see tests/events/ for examples).")
    deadline = Deadline(settings.deadline, grace=settings.deadline_grace, clock=clock)
    context = Context(deadline=deadline, retry=retry, clock=clock, event=event)
    source = sink = store = None
    try:
        source = source_plug.build(settings, context)
        sink = build_sink(settings, context)  # one sink, or a tee of several
        # Each send carries two batches' worth, so the next is framed while the first is delivered
        # (a load-balanced sink asks for that much per host).
        batch = settings.values.get("batch_size", 2048) * getattr(sink, "windows_per_send", 2)
        if pushed:
            summary = forward(source, sink, None, deadline=deadline, max_events=batch, progress=progress, clock=clock)
            summary["answer"] = source.answer()
        else:
            store = _open_store(settings, context, clock)
            summary = _under_lease(settings, source, sink, store, deadline, batch, progress, clock)
    finally:
        for part in (sink, store, source):
            if part is not None:
                part.close()
    if settings.warnings:
        summary["warnings"] = list(settings.warnings) + summary.get("warnings", [])
    return {**summary, **(store.result_fields() if store is not None else {})}


def _open_store(settings: Settings, context: Context, clock):
    password = settings.checkpoint_password
    return open_store(settings.checkpoint, api=context.resources.get("openwhisk_api"),
                      self_action=settings.self_action, activation_id=settings.activation_id,
                      username=settings.checkpoint_username, password=password.reveal() if password else None,
                      deadline=Deadline(settings.deadline, clock=clock), shard=settings.values.get("shard"),
                      start_over=settings.values.get("start_over", False))


def _under_lease(settings, source, sink, store, deadline, batch, progress, clock) -> dict:
    owner = settings.activation_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    try:
        # The lease lasts as long as the run may: a killed run's lease frees up at its deadline.
        store.acquire_lease(owner, ttl=max(MIN_LEASE, min(deadline.remaining(), DEFAULT_LEASE)))
    except LeaseHeldError as exc:
        return _lease_held(exc, store)
    except LogfwdError as exc:  # the store cannot be reached: nothing is forwarded without a lease
        return not_started(source, sink, store, exc)
    try:
        # A pass that fails before sending (its checkpoint unreadable) returns the same summary, with the error.
        summary = forward(source, sink, store, deadline=deadline, max_events=batch, progress=progress, clock=clock)
    finally:
        released = _release(store, owner)
    if released:
        summary.setdefault("warnings", []).append(released)
    return summary


def _release(store, owner: str) -> str | None:
    try:
        store.release_lease(owner)
    except LogfwdError as exc:
        # The checkpoint is saved; an unreleased lease only delays the next run until it expires.
        return f"lease not released: {exc}"
    return None


def _lease_held(exc: LeaseHeldError, store) -> dict:
    until = (datetime.fromtimestamp(exc.until, timezone.utc).isoformat(timespec="seconds")
             if exc.until else "unknown")
    return {"ok": True, "skipped": f"another run holds the lease until {until}; nothing forwarded",
            "records": 0, "events": 0, "bytes": 0, "more": True, "checkpoint": store.describe()}
