"""Action positions that survive a change of the shard count: nothing lost, nothing re-sent beyond
the overlap.

Each shard saves its own checkpoint, and its store reads the other shards' checkpoints beside it
(``checkpoints/sharded.py``). After the shard count changed, a moved action's newest position is in
its old shard's checkpoint, so a run:

* for an action it owns, continues from the furthest of every saved position of it (``latest``);
* for an action it no longer owns, keeps its last position unchanged, marked ``carried``, until the
  new owner's checkpoint holds a position at least as far: a new owner that has not run yet, or ran
  after this shard's previous save, still finds it.

Every saved position is one some run really reached: everything before its ``since`` was delivered
and so was every id in its ``seen``. So the largest ``since`` with the union of the ids is safe too;
an old owner still running the old shard count for a while only causes re-sends (same ``_id``).
Activations waiting for their logs (``pending``) go with the action: the union of every position's,
each with its earliest time found, so none is dropped and no wait grows longer. One the new owner
resolved may come back from an old owner's carried entry until that is dropped: a re-send, same ``_id``.
"""

from dataclasses import dataclass
from typing import Callable, Iterable

from .cursor import ActionCursor, decode_seen, encode_seen


@dataclass
class Entry:
    cursor: ActionCursor
    carried: bool = False  # kept for a new owner; not forwarded by this shard


def parse(document: dict, namespace: str) -> dict[str, Entry]:
    """The entries of one saved source document; ``ValueError`` names what is malformed, and a
    document of another namespace holds nothing for this one."""
    if document.get("type") != "openwhisk" or not isinstance(document.get("actions"), dict):
        raise ValueError("not an OpenWhisk checkpoint")
    if document.get("namespace") != namespace:
        return {}
    entries = {}
    for name, entry in document["actions"].items():
        since = entry["since"]
        if not isinstance(since, int) or isinstance(since, bool):
            raise ValueError(f"'since' of {name!r} is not an integer")
        covered = entry.get("covered")
        if not isinstance(covered, int) or isinstance(covered, bool):
            covered = None  # older checkpoints: nothing known to be covered, which costs reading, never loses
        pending = entry.get("pending", {})
        if not isinstance(pending, dict) or not all(
                isinstance(found, int) and not isinstance(found, bool) for found in pending.values()):
            raise ValueError(f"'pending' of {name!r} is not an object of activation ids and times")
        cursor = ActionCursor(since, decode_seen(since, entry["seen"]), covered, dict(pending))
        entries[name] = Entry(cursor, entry.get("carried") is True)
    return entries


def encode(cursor: ActionCursor, carried: bool = False) -> dict:
    entry = {"since": cursor.since, "seen": encode_seen(cursor.since, cursor.seen)}
    if cursor.covered is not None:
        entry["covered"] = cursor.covered
    if cursor.pending:
        entry["pending"] = dict(cursor.pending)
    return {**entry, "carried": True} if carried else entry


def latest(cursors: Iterable[ActionCursor]) -> ActionCursor | None:
    """The furthest of several saved positions of one action (see the module's docstring)."""
    cursors = list(cursors)
    if not cursors:
        return None
    since = max(cursor.since for cursor in cursors)
    seen: dict[str, int] = {}
    for cursor in cursors:
        seen.update((activation_id, start) for activation_id, start in cursor.seen.items() if start >= since)
    # Each ``covered`` holds for the union of the ids too; it only ever spares reading, so the lowest.
    covered = [cursor.covered for cursor in cursors]
    pending: dict[str, int] = {}
    for cursor in cursors:
        for activation_id, found in cursor.pending.items():
            pending[activation_id] = min(found, pending.get(activation_id, found))
    return ActionCursor(since, seen, None if None in covered else min(covered), pending)


def resolve(own: dict[str, Entry], peers: list[dict[str, Entry]], names: Iterable[str],
            owns: Callable[[str], bool]) -> tuple[dict[str, ActionCursor], dict[str, ActionCursor]]:
    """(positions of the monitored actions this shard owns, positions it carries for new owners)."""
    owned, carried = {}, {}
    for name in names:
        mine = own.get(name)
        if owns(name):
            cursor = latest(([mine.cursor] if mine else []) + [peer[name].cursor for peer in peers if name in peer])
            if cursor is not None:
                owned[name] = cursor
        elif mine is not None and not any(
                name in peer and not peer[name].carried and peer[name].cursor.since >= mine.cursor.since
                for peer in peers):
            carried[name] = mine.cursor
    return owned, carried
