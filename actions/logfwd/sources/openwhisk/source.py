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
from .cursor import ActionCursor, ActionRun, decode_seen, encode_seen
from .paging import HeldPage, Prefetcher, held_form
from .selection import is_wildcard, no_such_action, parse, select_actions


PAGE = 200  # the API's maximum page size
HELD_PAGES = 16  # settled pages held after the first: 3,200 records, ~11 MB of events at 10 lines each
HELD_BYTES = 32 << 20  # ... and no more than this much encoded events, however much the activations log
CLOCK_SKEW_MS = 60_000  # a saved position this far past now is not a clock difference between hosts


class OpenWhiskSource:
    def __init__(self, api, patterns: Iterable[str], *, namespace: str = "_", self_action: str | None = None,
                 overlap: float = 360.0, settle: float = 2.0, initial_lookback: float = 600.0,
                 fields: Mapping | None = None, max_line_bytes: int = 1_048_576, max_seen: int = 10_000,
                 held_pages: int = HELD_PAGES, held_bytes: int = HELD_BYTES, clock: Callable[[], float] = time.time):
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
        self.runs: list[ActionRun] = []
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
        cursors = self._restore(document)
        names, warnings = select_actions(self.patterns, self.api.list_actions, self.self_action,
                                         where=self.api.actions_url)
        self.warnings += warnings
        for gone in sorted(set(cursors) - set(names)):
            self.warnings.append(f"no longer monitoring {gone!r}; its position is forgotten")
        now_ms = int(self.clock() * 1000)
        self.runs = [ActionRun(name, cursors.get(name), now_ms=now_ms, overlap_ms=self.overlap_ms,
                               settle_ms=self.settle_ms, lookback_ms=self.lookback_ms) for name in names]
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
        cap = max(100, self.max_seen // max(1, len(self.runs)))
        actions = {}
        for run in self.runs:
            if run.name in self.missing:
                continue
            cursor = run.next_cursor(cap)
            # Ids over the cap are forgotten: their activations may be sent again (same _id) next run.
            self.forgotten[run.name] = len(run.next_cursor(len(run.seen) + len(run.through_ids)).seen) - len(cursor.seen)
            if self.forgotten[run.name]:
                self.warnings.append(f"{run.name}: {self.forgotten[run.name]} delivered activations did not fit the "
                                     f"checkpoint's memory of ids ({cap} an action); the next run may send their "
                                     "lines again, with the same _id")
            actions[run.name] = {"since": cursor.since, "seen": encode_seen(cursor.since, cursor.seen)}
        return {"type": "openwhisk", "namespace": self.namespace, "actions": actions}

    def _restore(self, document: dict | None) -> dict[str, ActionCursor]:
        if not document:
            return {}
        try:
            if document.get("type") != "openwhisk" or not isinstance(document.get("actions"), dict):
                raise ValueError("not an OpenWhisk checkpoint")
            if document.get("namespace") != self.namespace:
                self.warnings.append(f"checkpoint is for namespace {document.get('namespace')!r}, "
                                     f"not {self.namespace!r}; starting from the initial lookback")
                return {}
            cursors = {}
            now_ms = int(self.clock() * 1000)
            for name, entry in document["actions"].items():
                since = entry["since"]
                if not isinstance(since, int) or isinstance(since, bool):
                    raise ValueError(f"'since' of {name!r} is not an integer")
                if since > now_ms + CLOCK_SKEW_MS:
                    # Trusting it would skip everything until then; the position is unknown.
                    self.warnings.append(
                        f"checkpoint position of {name!r} lies in the future ({iso(since)}, now {iso(now_ms)}): "
                        "not trusted, starting that action from the initial lookback. Check the clock of the "
                        "host that saved it")
                    continue
                cursors[name] = ActionCursor(since, decode_seen(since, entry["seen"]))
            return cursors
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.warnings.append(f"checkpoint unreadable ({exc}); starting from the initial lookback")
            return {}

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
        live = [record for record in probe if _start(record, run.since) >= run.boundary]
        if len(live) == PAGE:
            live = chain(live, self._newest_first(run.name, run.boundary, run.upto, skip=PAGE))
        yield from self._units_of(run, live)
        yield Unit([], run.finish_live)
        if run.settled_range():
            # The probe's settled records are the settled range's newest (it cannot change any more).
            newest = [record for record in probe if _start(record, run.since) < run.boundary]
            if len(probe) < PAGE:
                yield from self._units_of(run, reversed(newest))
            else:
                yield from self._oldest_first(run, newest, deadline)
            yield Unit([], run.finish_settled)

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

    def _newest_first(self, name: str, since: int, upto: int, skip: int = 0) -> Iterator[dict]:
        with Prefetcher(lambda skip: self._list(name, since=since, upto=upto, limit=PAGE,
                                                                skip=skip)) as fetch:
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
        if isinstance(activation_id, str) and (activation_id in run.seen or activation_id in queued):
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


def _start(record, default: int) -> int:
    start = record.get("start") if isinstance(record, dict) else None
    return start if isinstance(start, int) and not isinstance(start, bool) else default
