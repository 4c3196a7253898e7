"""OpenWhisk activations as a source: monitored actions -> activation records -> events.

Per action, one page over the whole range comes first; most runs find everything there. Past it, the
live range is read newest first from the top, where records that turn up while paging push others
down (re-read, never skipped), and the settled range is delivered oldest first, so the cursor moves
forward even when the deadline cuts a run short. See ``cursor.py`` for why the range is split.

Requests: one per 200 activations, plus at most one per action. The settled range is read newest
first, turned into units and held (compressed), for up to ``held_pages`` pages (and ``held_bytes`` of events, and
half the time left for pulling); one that ends there (most backlogs) then needs no count. A longer one
is counted, and read oldest first from its far end up to the pages held: memory stays bounded, and a
run against a slow API still moves the cursor. The next page, and the next action's first page, are
fetched while the current one is turned into events; when holding stops at its byte or time budget,
or the run at its deadline, that page was fetched for nothing.
"""

import math
import threading
import time
from bisect import bisect_left
from collections import Counter, OrderedDict
from datetime import datetime, timezone
from functools import partial
from itertools import chain
from typing import Callable, Iterable, Iterator, Mapping

from ...codecs.jsonbytes import json_payloads
from ...deadline import NO_DEADLINE, Deadline
from ...errors import AuthError, BadRecordError, SourceError, SourceTransientError
from ..base import Encode
from .events import RecordEvents, activation_events
from ..base import Unit
from . import handover
from .cursor import ActionCursor, ActionRun, share
from .paging import HeldPage, Prefetcher, held_form
from .recheck import changed_ranges
from .selection import is_wildcard, no_such_action, parse, select_actions
from .shards import Shard


PAGE = 200  # the API's maximum page size
HELD_PAGES = 16  # settled pages held after the first: 3,200 records, ~11 MB of events at 10 lines each
HELD_BYTES = 32 << 20  # ... and no more than this much encoded events, however much the activations log
MAX_SEEN = 50_000  # ids remembered over all actions: ~650 KB, within the activation store's 1 MB result;
# the live range of 100 activations/s over the default 360 s overlap is 36,000
MAX_SEEN_DURABLE = 200_000  # ~2.6 MB, for the other stores (CouchDB's default document limit is 8 MB)
LATE_BY_ID = 4  # a rechecked part with up to a quarter of new records fetches them by id, else reads it whole
CLOCK_SKEW_MS = 60_000  # a saved position this far past now is not a clock difference between hosts


class OpenWhiskSource:
    def __init__(self, api, patterns: Iterable[str], *, namespace: str = "_", self_action: str | None = None,
                 overlap: float = 360.0, settle: float = 2.0, initial_lookback: float = 600.0,
                 fields: Mapping | None = None, max_line_bytes: int = 1_048_576, max_seen: int = MAX_SEEN,
                 held_pages: int = HELD_PAGES, held_bytes: int = HELD_BYTES, shard: Shard | None = None,
                 clock: Callable[[], float] = time.time):
        self.api = api
        self.patterns = tuple(patterns)
        self.namespace = namespace
        self.self_action = self_action
        self.overlap_ms, self.settle_ms = int(overlap * 1000), int(settle * 1000)
        self.lookback_ms = int(initial_lookback * 1000)
        self.fields = dict(fields or {})
        self.max_line_bytes = max_line_bytes
        self.max_seen = max_seen
        self.held_pages = max(1, held_pages)
        self.held_bytes = held_bytes
        self.clock = clock
        self.shard = shard  # forwards only the actions that hash to it; None: all of them
        self.runs: list[ActionRun] = []
        self.carried: dict = {}  # positions of actions moved to another shard, kept for their new owner
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.unparsed = self.truncated = self.log_requests = 0
        self._encode: Encode = json_payloads
        self.missing: set[str] = set()  # monitored names that no action has
        self.requests: Counter[str] = Counter()  # list and count requests per action
        self._requests_lock = threading.Lock()  # pages are fetched on background threads
        self.forgotten: dict[str, int] = {}  # delivered ids per action the checkpoint had no room for
        self._unverified: set[str] = set()

    # --- checkpoint --------------------------------------------------------------------------

    def open(self, document: dict | None) -> None:
        own, peers = self._restore(document)
        names, warnings = select_actions(self.patterns, self.api.list_actions, self.self_action,
                                         where=self.api.actions_url)
        self.warnings += warnings
        for gone in sorted(set(own) - set(names)):
            self.warnings.append(f"no longer monitoring {gone!r}; its position is forgotten")
        owns = self.shard.owns if self.shard else (lambda name: True)
        cursors, self.carried = handover.resolve(own, peers, names, owns)
        now_ms = int(self.clock() * 1000)
        self.runs = [ActionRun(name, cursors.get(name), now_ms=now_ms, overlap_ms=self.overlap_ms,
                               settle_ms=self.settle_ms, lookback_ms=self.lookback_ms)
                     for name in names if owns(name)]
        # Names given as written and never seen before: if they show no activation, is there such an action?
        self._unverified = {p for p in parse(self.patterns)[0] if not is_wildcard(p)} - set(cursors)

    def _list(self, name: str, **filters) -> list:
        with self._requests_lock:
            self.requests[name] += 1
        return self.api.list_activations(name, **filters)

    def _count(self, name: str, **filters) -> int:
        with self._requests_lock:
            self.requests[name] += 1
        return self.api.count_activations(name, **filters)

    def _action_exists(self, name: str) -> bool:
        """False (with a warning naming the closest actions) for a name no action has: it is left out
        of the checkpoint, so the next run asks again, and finds it once it is created."""
        try:
            # "pkg/" names no action (and GET /actions/pkg/ would list the package): no need to ask.
            if not name.endswith("/") and self.api.action_exists(name):
                return True
            self.warnings.append("actions: " + no_such_action(name, self.api.list_actions, self.api.actions_url))
        except AuthError:
            raise
        except SourceError as exc:  # cannot tell: keep monitoring it, its activations will say
            self.warnings.append(f"could not look up action {name!r}: {exc}")
            return True
        self.missing.add(name)
        return False

    def checkpoint(self) -> dict:
        runs = [run for run in self.runs if run.name not in self.missing]
        cursors = {run.name: run.next_cursor(len(run.seen) + len(run.through_ids)) for run in runs}
        caps = share({name: len(cursor.seen) for name, cursor in cursors.items()}, self.max_seen)
        actions = {}
        for name, cursor in cursors.items():
            kept = _newest(cursor, caps[name])
            # Ids over the cap are forgotten: their activations may be sent again (same _id) next run.
            self.forgotten[name] = len(cursor.seen) - len(kept.seen)
            if self.forgotten[name]:
                self.warnings.append(f"{name}: {self.forgotten[name]} delivered activations did not fit the "
                                     f"checkpoint's memory of ids ({caps[name]:,} for this action, {self.max_seen:,} "
                                     "in all); the next run may send their lines again, with the same _id")
            actions[name] = handover.encode(kept)
        actions.update((name, handover.encode(cursor, carried=True)) for name, cursor in self.carried.items())
        document = {"type": "openwhisk", "namespace": self.namespace, "actions": actions}
        return {**document, "shard": str(self.shard)} if self.shard else document

    def _restore(self, document: dict | None) -> tuple[dict, list[dict]]:
        """This shard's saved entries, and those of the other shards' checkpoints (``peers``, read
        beside it by a sharded store)."""
        if not document:
            return {}, []
        peers = []
        for peer in document.get("peers") or ():
            try:
                peers.append(self._not_in_future(handover.parse(peer, self.namespace)))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                self.warnings.append(f"another shard's checkpoint is unreadable ({exc}); its actions start "
                                     "from their own shard's position or the initial lookback")
        if set(document) <= {"peers"}:
            return {}, peers
        try:
            if document.get("type") == "openwhisk" and document.get("namespace") != self.namespace:
                self.warnings.append(f"checkpoint is for namespace {document.get('namespace')!r}, "
                                     f"not {self.namespace!r}; starting from the initial lookback")
            return self._not_in_future(handover.parse(document, self.namespace)), peers
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.warnings.append(f"checkpoint unreadable ({exc}); starting from the initial lookback")
            return {}, peers

    def _not_in_future(self, entries: dict) -> dict:
        now_ms = int(self.clock() * 1000)
        for name, entry in list(entries.items()):
            since = entry.cursor.since
            if since > now_ms + CLOCK_SKEW_MS:
                # Trusting it would skip everything until then; the position is unknown.
                self.warnings.append(
                    f"checkpoint position of {name!r} lies in the future ({iso(since)}, now {iso(now_ms)}): "
                    "not trusted, starting that action from the initial lookback. Check the clock of the "
                    "host that saved it")
                del entries[name]
        return entries

    # --- work --------------------------------------------------------------------------------

    def units(self, deadline: Deadline = NO_DEADLINE, encode: Encode = json_payloads) -> Iterator[Unit]:
        self._encode = encode
        runs = [run for run in self.runs if run.since <= run.upto]
        # One page over each action's whole range first: most runs find everything in it. The next
        # action's is fetched while this one's is worked through.
        with Prefetcher(lambda i: self._list(runs[i].name, since=runs[i].since,
                                                             upto=runs[i].upto, limit=PAGE)) as probes:
            for i, run in enumerate(runs):
                try:
                    probe = probes(i)
                    if i + 1 < len(runs):
                        probes.ahead(i + 1)
                    if not probe and run.name in self._unverified and not self._action_exists(run.name):
                        continue
                    yield from self._action_units(run, probe, deadline)
                except AuthError:
                    raise  # every other action would fail the same way
                except SourceError as exc:
                    self.errors.append(f"action {run.name!r}: {exc}")

    def _action_units(self, run: ActionRun, probe: list, deadline: Deadline) -> Iterator[Unit]:
        # If the first page is full, it is the live range's first page (the live range is the newest
        # part). Live before settled is safe: delivered live ids are kept in `seen` whatever happens
        # to the settled range.
        # The starts remembered before this run delivers anything (delivering adds to them).
        known = sorted(run.seen.values())
        live = [record for record in probe if _start(record, run.since) >= run.boundary]
        if len(live) == PAGE:
            live = chain(live, self._rest_of_live(run, _start(probe[-1], run.boundary),
                                                  known[bisect_left(known, run.boundary):]))
        yield from self._units_of(run, live)
        yield Unit([], run.finish_live)
        if run.settled_range():
            # The probe's settled records are the settled range's newest (it cannot change any more).
            newest = [record for record in probe if _start(record, run.since) < run.boundary]
            if len(probe) < PAGE:
                yield from self._units_of(run, reversed(newest))
            else:
                yield from self._settled(run, newest, known[:bisect_left(known, run.boundary)], deadline)
            yield Unit([], run.finish_settled)

    def _rest_of_live(self, run: ActionRun, probed: int, starts: list[int]) -> Iterator[dict]:
        """The live range's records past its first page, which reached down to start ``probed``;
        ``starts``: those of the ids remembered in the live range, sorted.

        Records newer than every remembered one have not been read before: read them whole. Below, earlier
        runs read everything but what turned up late: only the parts whose count changed are read again
        (``recheck.py``), so a busy action costs its new records, not its whole live range, every run.
        """
        if not starts:
            yield from self._newest_first(run.name, run.boundary, run.upto, skip=PAGE)
            return
        if probed > starts[-1]:  # the first page held only new records: the rest of the new ones
            yield from self._newest_first(run.name, starts[-1] + 1, run.upto, skip=PAGE)
        for low, high, _ in reversed(self._changed(run, starts, run.boundary, min(probed, starts[-1]))):
            yield from self._late_records(run, low, high)

    def _late_records(self, run: ActionRun, low: int, high: int) -> Iterator[dict]:
        """The records of ``[low, high]`` not delivered yet: its summaries (a fifth of the bytes of full
        records), then each new one by id (no index delay), or the part whole if most of it is new."""
        summaries = list(self._newest_first(run.name, low, high, docs=False))
        ids = [s.get("activationId") if isinstance(s, dict) else None for s in summaries]
        new = [i for i in ids if isinstance(i, str) and not run.has_seen(i)]
        if len(new) * LATE_BY_ID > len(summaries) or not all(isinstance(i, str) for i in ids):
            yield from self._newest_first(run.name, low, high)  # (a record without an id is reported there)
            return
        for activation_id in new:
            try:
                yield self.api.get_activation(activation_id)
            except (SourceTransientError, AuthError):
                raise
            except SourceError as exc:  # e.g. a record the store cannot parse: the list leaves it out too
                self.errors.append(f"action {run.name!r}: activation {activation_id} is listed but cannot be "
                                   f"read, not forwarded: {exc}")

    def _settled(self, run: ActionRun, newest: list[dict], starts: list[int], deadline: Deadline) -> Iterator[Unit]:
        """The settled range, oldest first. When it was live at a run that read its live range through
        (``starts``: the ids remembered in it), only what turned up late is read, found by counting; a
        backlog is read whole."""
        since, high = run.settled_range()
        changed = self._changed(run, starts, since, high) if run.settled_was_live() else None
        if changed is None or any(records > 2 * PAGE for *_, records in changed):
            yield from self._oldest_first(run, newest, deadline)  # a backlog: held compressed, far end first
            return
        for low, high, _ in changed:  # each part held whole (two pages at most), sent oldest first
            yield from self._units_of(run, reversed(list(self._newest_first(run.name, low, high))))

    def _changed(self, run: ActionRun, starts: list[int], low: int, high: int) -> list[tuple[int, int, int]]:
        count = lambda low, high: self._count(run.name, since=low, upto=high)  # noqa: E731
        return changed_ranges(count, starts, low, high, PAGE)

    def _oldest_first(self, run: ActionRun, newest: list[dict], deadline: Deadline) -> Iterator[Unit]:
        """The settled range's units oldest first, ending with those of ``newest`` (its newest records,
        newest first, in hand).

        Nothing new can appear in a settled range, so skip offsets stay valid from either end. The
        pages after ``newest`` are turned into units as they arrive (while the next one is fetched)
        and held compressed, up to ``held_pages`` of them and ``held_bytes`` of events; a range that
        ends there needs no count. Holding delivers nothing until it ends, so it may take at most half
        of the time left for pulling: against a slow API the far end (the oldest records) still goes out.
        """
        (since, upto), queued = run.settled_range(), OrderedDict()
        left = deadline.pull_remaining()
        hold_while = left / 2 if math.isfinite(left) else -math.inf  # pull time that must be left
        skip, full = len(newest), True
        with Prefetcher(lambda skip: self._list(run.name, since=since, upto=upto, limit=PAGE,
                                                                skip=skip)) as fetch:
            fetch.ahead(skip)
            held = [HeldPage(list(self._units_of(run, newest, queued)), compress=False)]
            size = held[0].size
            while (full and len(held) <= self.held_pages and size < self.held_bytes
                   and deadline.pull_remaining() > hold_while):
                records = fetch(skip)
                skip += len(records)
                full = len(records) == PAGE
                if full and len(held) < self.held_pages:  # needed unless this page fills the byte budget
                    fetch.ahead(skip)
                # Built while the next page is fetched; compressed unless the backlog is short.
                held.append(HeldPage(list(self._units_of(run, records, queued)), compress=len(held) > 1))
                size += held[-1].size
                yield Unit([])  # nothing to send yet: lets the pipeline check its deadline between pages
        if full:  # the range goes on past what is held: its far end first
            yield from self._units_of(run, self._far_end(run.name, since, upto, skip), queued)
        while held:
            yield from reversed(held.pop().units())

    def _far_end(self, name: str, since: int, upto: int, held: int) -> Iterator[dict]:
        """The settled range's records past its newest ``held``, oldest first: a count, then pages."""
        remaining = self._count(name, since=since, upto=upto)
        pages = []
        while remaining > held:
            skip = max(held, remaining - PAGE)
            pages.append({"limit": remaining - skip, "skip": skip})
            remaining = skip
        with Prefetcher(lambda i: self._list(name, since=since, upto=upto, **pages[i])) as fetch:
            for i in range(len(pages)):
                records = fetch(i)
                if i + 1 < len(pages):
                    fetch.ahead(i + 1)
                yield from reversed(records)

    def _newest_first(self, name: str, since: int, upto: int, skip: int = 0, docs: bool = True) -> Iterator[dict]:
        with Prefetcher(lambda skip: self._list(name, since=since, upto=upto, limit=PAGE, skip=skip,
                                                docs=docs)) as fetch:
            records = None
            while records is None or len(records) == PAGE:
                records = fetch(skip)
                skip += len(records)
                if len(records) == PAGE:
                    fetch.ahead(skip)  # only after a full page is another one certain to be needed
                yield from records

    def _units_of(self, run: ActionRun, records: Iterable[dict],
                  queued: OrderedDict | None = None) -> Iterator[Unit]:
        # Records already handed over in this run: a record turning up mid-paging pushes others down a
        # page, so the next page may repeat the end of the last one. Two pages' worth is enough.
        queued = OrderedDict() if queued is None else queued
        for record in records:
            unit = self._unit(run, record, queued)
            if unit is not None:
                yield unit

    def _unit(self, run: ActionRun, record: dict, queued: OrderedDict) -> Unit | None:
        """The unit of one record; None for a record already handed over, one that is not an object, or
        one without an id (both reported)."""
        if not isinstance(record, dict):
            self.errors.append(f"action {run.name!r}: skipped a record that is not an object: {str(record)[:80]!r}")
            return None
        activation_id = record.get("activationId")
        if isinstance(activation_id, str) and (run.has_seen(activation_id) or activation_id in queued):
            return None
        start = record.get("start")
        if not isinstance(start, int) or isinstance(start, bool):
            start = run.since
        try:
            events = activation_events(record, fields=self.fields, logs=self._logs(record, run),
                                       max_line_bytes=self.max_line_bytes)
        except BadRecordError as exc:
            self.errors.append(f"action {run.name!r}: {exc}")
            if not isinstance(activation_id, str):
                return None  # nothing to remember it by; it is reported
            events = RecordEvents([], {})
        queued[activation_id] = None
        if len(queued) > 2 * PAGE:
            queued.popitem(last=False)
        self._count_flags(events)
        return Unit(held_form(self._encode(events)), partial(run.delivered, activation_id, start, len(events)))

    def _logs(self, record: dict, run: ActionRun) -> list | None:
        """Deployments with an external log store return records with empty ``logs``: ask ``/logs``.

        If that fails for good (404, a body of the wrong shape), the activation is reported and passed
        over, so that it does not hold back every later activation of the action, run after run.
        """
        if record.get("logs") != [] or not isinstance(record.get("activationId"), str):
            return None
        self.log_requests += 1
        try:
            return self.api.activation_logs(record["activationId"])
        except (SourceTransientError, AuthError):
            raise
        except SourceError as exc:
            self.errors.append(f"action {run.name!r}: the logs of activation {record['activationId']} "
                               f"are unavailable, not forwarded: {exc}")
            return []

    def _count_flags(self, events: RecordEvents) -> None:
        for line in events.lines:  # the flags are a line's own keys
            flags = line.get("logfwd")
            if flags:
                self.unparsed += bool(flags.get("unparsed"))
                self.truncated += "truncated_bytes" in flags

    def close(self) -> None:
        self.api.close()

    def summary(self) -> dict:
        runs = [run for run in self.runs if run.name not in self.missing]
        return {
            "records": sum(run.activations for run in runs),
            "lag_seconds": round(max((run.lag_seconds() for run in runs), default=0.0), 3),
            "more": not all(run.complete for run in runs),
            "api_requests": self.api.requests_made,
            "lines_unparsed": self.unparsed,
            "lines_truncated": self.truncated,
            "actions": {run.name: {"activations": run.activations, "events": run.events,
                                   **({"new": True} if run.new else {}), "read": self._read(run)} for run in runs},
        }

    def _read(self, run: ActionRun) -> dict:
        """What the run read of one action: its range, the requests it took, the ids it forgot."""
        read = {"from": iso(run.since), "to": iso(run.upto), "requests": self.requests[run.name]}
        if self.forgotten.get(run.name):
            read["ids_forgotten"] = self.forgotten[run.name]
        return read


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds")


def _newest(cursor: ActionCursor, cap: int) -> ActionCursor:
    # Over the cap, forget the oldest ids: at worst they are re-sent, with the same _id.
    if len(cursor.seen) <= cap:
        return cursor
    kept = sorted(cursor.seen.items(), key=lambda item: item[1])[len(cursor.seen) - cap:]
    # The forgotten ids no longer count as read: their part must be read again, not counted.
    return ActionCursor(cursor.since, dict(kept), None)


def _start(record, default: int) -> int:
    start = record.get("start") if isinstance(record, dict) else None
    return start if isinstance(start, int) and not isinstance(start, bool) else default
