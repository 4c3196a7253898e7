"""Builds the parts named by the settings and runs one pass; shared by every entry point."""

import os
import socket
import time
import uuid
from datetime import datetime, timezone
from typing import Callable

from .checkpoints import open_store
from .deadline import Deadline
from .errors import LeaseHeldError, LogfwdError
from .pipeline import forward
from .retry import RetryPolicy
from .settings import Settings

DEFAULT_LEASE = 900.0  # seconds, when the run has no deadline of its own (CLI)
MIN_LEASE = 1.0  # a lease is never zero; it ends with the run's deadline, when the platform ends the run
PIPELINING = 2  # windows in flight, as Filebeat's Logstash output


def run_once(settings: Settings, *, progress: Callable[[dict], None] | None = None,
             retry: RetryPolicy = RetryPolicy(), clock: Callable[[], float] = time.time) -> dict:
    """One forwarding pass with the settings' source, sink and checkpoint store; returns its summary."""
    from .sinks.lumberjack import LumberjackSink
    from .sinks.tls import client_context
    from .sources.openwhisk.api import OpenWhiskAPI
    from .sources.openwhisk.source import OpenWhiskSource

    deadline = Deadline(settings.deadline, grace=settings.deadline_grace, clock=clock)
    api = OpenWhiskAPI(settings.apihost, settings.api_key.reveal(), settings.namespace, retry=retry,
                       verify=settings.api_verify, deadline=deadline.for_work())
    ssl_context = None
    if settings.logstash_tls:
        ssl_context = client_context(settings.logstash_ca, settings.logstash_cert,
                                     settings.logstash_key.reveal() if settings.logstash_key else None)
    store = open_store(settings.checkpoint, api=api, self_action=settings.self_action,
                       activation_id=settings.activation_id, username=settings.checkpoint_username,
                       password=settings.checkpoint_password.reveal() if settings.checkpoint_password else None,
                       deadline=Deadline(settings.deadline, clock=clock))
    sink = LumberjackSink(settings.logstash_hosts, ssl_context=ssl_context,
                          compression_level=settings.compression_level, window_timeout=settings.window_timeout,
                          retry=retry, window_size=settings.batch_size, pipelining=PIPELINING)
    source = OpenWhiskSource(api, settings.actions, namespace=settings.namespace, self_action=settings.self_action,
                             overlap=settings.overlap, settle=settings.settle,
                             initial_lookback=settings.initial_lookback, fields=settings.fields,
                             max_line_bytes=settings.max_line_bytes, clock=clock)
    owner = settings.activation_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    try:
        try:
            # The lease lasts as long as the run may: a killed run's lease frees up at its deadline.
            store.acquire_lease(owner, ttl=max(MIN_LEASE, min(deadline.remaining(), DEFAULT_LEASE)))
        except LeaseHeldError as exc:
            return _lease_held(exc, store)
        try:
            # Each send carries PIPELINING windows, so the next is framed while the first awaits its ACK.
            summary = forward(source, sink, store, deadline=deadline, max_events=settings.batch_size * PIPELINING,
                              progress=progress, clock=clock)
        except LogfwdError as exc:
            # Failed before anything was sent (the checkpoint or the actions list could not be read).
            summary = {"ok": False, "activations": 0, "events": 0, "bytes": 0, "more": True,
                       "errors": [str(exc)], "sink": sink.describe(), "checkpoint": store.describe()}
        finally:
            released = _release(store, owner)
        if released:
            summary.setdefault("warnings", []).append(released)
    finally:
        sink.close()
        store.close()
        api.close()
    summary["api_requests"] = api.requests_made
    if settings.warnings:
        summary["warnings"] = list(settings.warnings) + summary.get("warnings", [])
    result_fields = getattr(store, "result_fields", None)
    return {**summary, **(result_fields() if result_fields else {})}


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
            "activations": 0, "events": 0, "bytes": 0, "more": True, "checkpoint": store.describe()}
