"""The OpenWhisk source's part of the checkpoint: the document it saves and what it trusts of one read.

Saved: each action's position and the delivered ids of its live range (the newest kept when they do not
fit ``max_seen``; a forgotten id may be sent again next run, with the same ``_id``), the positions of
actions carried for another shard, and the shard. Restored: this shard's entries and those of the other
shards' checkpoints read beside it (``peers``), leaving out what cannot be read and positions past the
clock (they would skip everything until then), each with a warning.
"""

from datetime import datetime, timezone
from typing import Callable

from . import handover
from .cursor import ActionCursor, ActionRun, share
from .shards import Shard

__all__ = ["CLOCK_SKEW_MS", "checkpoint_document", "iso", "restore"]

CLOCK_SKEW_MS = 60_000  # a saved position this far past now is not a clock difference between hosts


def checkpoint_document(runs: list[ActionRun], carried: dict, namespace: str, shard: Shard | None, max_seen: int,
                        warn: Callable[[str], None]) -> tuple[dict, dict[str, int]]:
    """The checkpoint of ``runs`` and of the positions ``carried`` for other shards, and the delivered ids
    each action forgot for want of room."""
    cursors = {run.name: run.next_cursor(len(run.seen) + len(run.through_ids)) for run in runs}
    caps = share({name: len(cursor.seen) for name, cursor in cursors.items()}, max_seen)
    actions, forgotten = {}, {}
    for name, cursor in cursors.items():
        kept = _newest(cursor, caps[name])
        forgotten[name] = len(cursor.seen) - len(kept.seen)
        if forgotten[name]:
            warn(f"{name}: {forgotten[name]} delivered activations did not fit the checkpoint's memory of ids "
                 f"({caps[name]:,} for this action, {max_seen:,} in all); the next run may send their lines "
                 "again, with the same _id")
        actions[name] = handover.encode(kept)
    actions.update((name, handover.encode(cursor, carried=True)) for name, cursor in carried.items())
    document = {"type": "openwhisk", "namespace": namespace, "actions": actions}
    return ({**document, "shard": str(shard)} if shard else document), forgotten


def restore(document: dict | None, namespace: str, now_ms: int, warn: Callable[[str], None]) -> tuple[dict, list[dict]]:
    """This shard's saved entries, and those of the other shards' checkpoints (``peers``, read beside it
    by a sharded store)."""
    if not document:
        return {}, []
    peers = []
    for peer in document.get("peers") or ():
        try:
            peers.append(_not_in_future(handover.parse(peer, namespace), now_ms, warn))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            warn(f"another shard's checkpoint is unreadable ({exc}); its actions start from their own shard's "
                 "position or the initial lookback")
    if set(document) <= {"peers"}:
        return {}, peers
    try:
        if document.get("type") == "openwhisk" and document.get("namespace") != namespace:
            warn(f"checkpoint is for namespace {document.get('namespace')!r}, not {namespace!r}; starting from "
                 "the initial lookback")
        return _not_in_future(handover.parse(document, namespace), now_ms, warn), peers
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        warn(f"checkpoint unreadable ({exc}); starting from the initial lookback")
        return {}, peers


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds")


def _not_in_future(entries: dict, now_ms: int, warn: Callable[[str], None]) -> dict:
    for name, entry in list(entries.items()):
        since = entry.cursor.since
        if since > now_ms + CLOCK_SKEW_MS:
            # Trusting it would skip everything until then; the position is unknown.
            warn(f"checkpoint position of {name!r} lies in the future ({iso(since)}, now {iso(now_ms)}): not "
                 "trusted, starting that action from the initial lookback. Check the clock of the host that "
                 "saved it")
            del entries[name]
    return entries


def _newest(cursor: ActionCursor, cap: int) -> ActionCursor:
    # Over the cap, forget the oldest ids: at worst they are re-sent, with the same _id.
    if len(cursor.seen) <= cap:
        return cursor
    kept = sorted(cursor.seen.items(), key=lambda item: item[1])[len(cursor.seen) - cap:]
    # The forgotten ids no longer count as read: their part must be read again, not counted.
    return ActionCursor(cursor.since, dict(kept), None, cursor.pending)
