"""``overlap=auto``: how far behind "now" each monitored action's records can still appear.

From the platform's timing (docs/openwhisk-timing.md):

* a record is stored only after its activation ended and its logs were collected; on a cold start
  its ``start`` is the run's start minus the init, and init and run each get the whole time limit:
  up to 2 x the limit, plus the log collection (about 20 s for 10 MB of logs);
* a sequence's record is written after all its components ran: each may take its own delay, and
  the controller waits up to a component's limit plus a minute;
* lists read an index updated *after* each query (``stale=update_after``): a stored record can be
  missed by the next run's first look and seen only by the run after it, two schedule intervals on.

So: ``overlap = delay + 2 x schedule interval``, ``delay = 2 x timeout + log allowance`` for an
action and the sum of ``component delay + 1 min`` for a sequence.
"""

from typing import Callable

from .selection import normalize, qualified_name

__all__ = ["automatic_overlaps", "LOG_COLLECTION_MS"]

LOG_COLLECTION_MS = 30_000  # collecting 10 MB of logs takes up to ~20 s
SEQUENCE_WAIT_MS = 60_000  # the controller waits a component's limit plus a minute
UNKNOWN_TIMEOUT_MS = 300_000  # the platform's largest default time limit, for limits that cannot be read
_DEPTH = 5  # sequences of sequences, this deep at most


def automatic_overlaps(names: list[str], listing: list[dict], get_action: Callable[[str], dict],
                       interval_ms: int, warn: Callable[[str], None]) -> dict[str, int]:
    """Each name's overlap in ms. ``listing``: the actions listing; ``get_action`` reads one action
    (needed for a sequence's components, which the listing leaves out). A name the listing does not
    have gets the platform's largest time limit."""
    entries = {qualified_name(e): e for e in listing if isinstance(e, dict) and isinstance(e.get("name"), str)}

    def lookup(name: str) -> dict | None:
        # Not in the listing: no such action (reported elsewhere), or one reached through a package
        # binding; either way its limits are unknown.
        return entries.get(name)

    def delay(name: str, depth: int) -> int:
        entry = lookup(name)
        if entry is None:
            return 2 * UNKNOWN_TIMEOUT_MS + LOG_COLLECTION_MS
        if _is_sequence(entry) and depth < _DEPTH:
            components = (entry.get("exec") or {}).get("components")
            if not isinstance(components, list):
                full = lookup_full(name)
                components = (full.get("exec") or {}).get("components") if isinstance(full, dict) else None
            if isinstance(components, list) and components:
                return sum(delay(normalize(str(c)), depth + 1) + SEQUENCE_WAIT_MS for c in components)
            return 2 * UNKNOWN_TIMEOUT_MS + LOG_COLLECTION_MS
        return 2 * _timeout(entry) + LOG_COLLECTION_MS

    def lookup_full(name: str) -> dict | None:
        try:
            return get_action(name)
        except Exception as exc:  # noqa: BLE001
            warn(f"overlap=auto: cannot read the components of sequence {name!r} ({exc})")
            return None

    return {name: delay(name, 0) + 2 * interval_ms for name in names}


def _is_sequence(entry: dict) -> bool:
    if (entry.get("exec") or {}).get("kind") == "sequence":
        return True
    return any(a.get("key") == "exec" and a.get("value") == "sequence"
               for a in entry.get("annotations") or [] if isinstance(a, dict))


def _timeout(entry: dict) -> int:
    timeout = (entry.get("limits") or {}).get("timeout")
    return timeout if isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > 0 else UNKNOWN_TIMEOUT_MS
