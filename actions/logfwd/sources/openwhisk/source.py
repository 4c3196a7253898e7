"""OpenWhisk activations as a source: monitored actions -> activation records -> events.

Per action, one page over the whole range comes first; most runs find everything there. Past it, the
live range is read newest first from the top (records that turn up meanwhile are re-read, never
skipped), and the settled range is delivered oldest first, so the cursor moves forward even when the
deadline cuts a run short. See ``cursor.py`` for why the range is split, ``pager.py`` for how pages
are read without a large ``skip``, ``backlog.py`` for how a settled range goes out oldest first,
``recheck.py`` for how a range read before is read again only where it gained records, ``pending.py``
for activations whose logs are not there yet, ``handover.py`` for how actions move between shards, and
``saved.py`` for what the checkpoint keeps of them.

Requests: about one per page of activations (the server's list limit, 200 at most), plus one per
action; a backlog longer than the pages held costs a few counts more (``backlog.py``). The next
action's first page is fetched while the current one is turned into events.
"""

import threading
import time
from bisect import bisect_left
from collections import Counter, OrderedDict
from functools import partial
from itertools import chain
from typing import Callable, Iterable, Iterator, Mapping

from ...codecs.jsonbytes import json_payloads
from ...deadline import NO_DEADLINE, Deadline
from ...errors import AuthError, BadRecordError, SourceError, SourceTransientError
from ..base import Encode
from .events import Payloads, RecordEvents, activation_events
from ..base import Unit
from . import handover
from .cursor import ActionRun, fingerprint
from .overlap import automatic_overlaps
from .pager import Pager, ends_range, start_of
from .backlog import oldest_first
from .paging import Entry, Prefetcher, held_form, records_units
from .pending import logs_arrived, looks_inline, marker_events
from .recheck import changed_ranges
from .saved import checkpoint_document, iso, restore
from .selection import is_wildcard, no_such_action, parse, select_actions
from .shards import Shard


PAGE = 200  # the API's largest page (a deployment may allow fewer: see api.page_limit)
HELD_PAGES = 16  # settled pages held after the first: 3,200 records, ~11 MB of events at 10 lines each
HELD_BYTES = 32 << 20  # ... and no more than this much encoded events, however much the activations log
MAX_SEEN = 50_000  # ids remembered over all actions: ~650 KB, within the activation store's 1 MB result;
# the live range of 100 activations/s over the default 360 s overlap is 36,000
MAX_SEEN_DURABLE = 200_000  # ~2.6 MB, for the other stores (CouchDB's default document limit is 8 MB)
LATE_BY_ID = 4  # a rechecked part with up to a quarter of new records fetches them by id, else reads it whole
UNIT_SHARE = 4  # a unit holds at most a quarter of a window's lines (a record's may be more)
MAX_PENDING = 1000  # activations of one action waiting for their logs; past it, a marker at once
_PENDING = object()  # _logs: the logs are not there yet


class OpenWhiskSource:
    def __init__(self, api, patterns: Iterable[str], *, namespace: str = "_", self_action: str | None = None,
                 overlap: float | None = None, schedule_interval: float = 60.0, settle: float = 2.0,
                 initial_lookback: float = 600.0,
                 fields: Mapping | None = None, max_line_bytes: int = 1_048_576, max_seen: int = MAX_SEEN,
                 held_pages: int = HELD_PAGES, held_bytes: int = HELD_BYTES, logs_wait: float = 300.0,
                 shard: Shard | None = None, unit_lines: int = 2048 // UNIT_SHARE, clock: Callable[[], float] = time.time):
        self.api = api
        self.patterns = tuple(patterns)
        self.namespace = namespace
        self.self_action = self_action
        # None: each action's own, from its limits (overlap.py); a number: the same for all.
        self.overlap_ms = None if overlap is None else int(overlap * 1000)
        self.interval_ms, self.settle_ms = int(schedule_interval * 1000), int(settle * 1000)
        self.overlaps: dict[str, int] = {}
        self.lookback_ms = int(initial_lookback * 1000)
        self.fields = dict(fields or {})
        self.max_line_bytes = max_line_bytes
        self.max_seen = max_seen
        self.held_pages = max(1, held_pages)
        self.held_bytes = held_bytes
        self.logs_wait_ms = int(logs_wait * 1000)
        self.unit_lines = max(1, unit_lines)  # a run of records a unit: see paging.records_units
        self.inline_logs = False  # a record with log text was seen: this deployment keeps logs in records
        self.logs_waiting = 0  # live activations whose logs are not there yet, left for the next run
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
        own, peers = restore(document, self.namespace, int(self.clock() * 1000), self.warnings.append)
        listing: list = []

        def list_actions() -> list:  # read once, for the wildcards and the automatic overlap alike
            if not listing:
                listing.extend(self.api.list_actions())
            return listing

        names, warnings = select_actions(self.patterns, list_actions, self.self_action, where=self.api.actions_url)
        self.warnings += warnings
        for gone in sorted(set(own) - set(names)):
            self.warnings.append(f"no longer monitoring {gone!r}; its position is forgotten")
        owns = self.shard.owns if self.shard else (lambda name: True)
        cursors, self.carried = handover.resolve(own, peers, names, owns)
        names = [name for name in names if owns(name)]
        if self.overlap_ms is None:
            self.overlaps = automatic_overlaps(names, list_actions() if names else [],
                                               lambda name: self.api.get_action(name), self.interval_ms,
                                               self.warnings.append)
        else:
            self.overlaps = dict.fromkeys(names, self.overlap_ms)
        now_ms = int(self.clock() * 1000)
        self.runs = [ActionRun(name, cursors.get(name), now_ms=now_ms, overlap_ms=self.overlaps[name],
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
        runs = [run for run in self.runs if run.name not in self.missing]
        document, self.forgotten = checkpoint_document(runs, self.carried, self.namespace, self.shard,
                                                       self.max_seen, self.warnings.append)
        return document

    # --- work --------------------------------------------------------------------------------

    def units(self, deadline: Deadline = NO_DEADLINE, encode: Encode = json_payloads) -> Iterator[Unit]:
        self._encode = encode
        for run in self.runs:  # the oldest first: activations that waited for their logs
            if run.pending:
                yield from self._guarded(run, self._pending_units(run))
        runs = [run for run in self.runs if run.since <= run.upto]
        # One page over each action's whole range first: most runs find everything in it. The next
        # action's is fetched while this one's is worked through.
        with Prefetcher(lambda i: self._list(runs[i].name, since=runs[i].since, upto=runs[i].upto,
                                             limit=self.api.page_limit)) as probes:
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

    def _guarded(self, run: ActionRun, units: Iterator[Unit]) -> Iterator[Unit]:
        try:
            yield from units
        except AuthError:
            raise
        except SourceError as exc:
            self.errors.append(f"action {run.name!r}: {exc}")

    def _pending_units(self, run: ActionRun) -> Iterator[Unit]:
        """The activations of ``run`` that waited for their logs: those whose logs came, and a marker
        for each whose wait is over."""
        now_ms = int(self.clock() * 1000)
        for activation_id, found_ms in list(run.pending.items()):
            self.log_requests += 1
            logs = self.api.activation_logs(activation_id)
            gave_up = not logs_arrived(logs)
            if gave_up and now_ms - found_ms < self.logs_wait_ms:
                continue
            record = self.api.get_activation(activation_id)
            if gave_up:
                events = marker_events(record, fields=self.fields, wait_seconds=self.logs_wait_ms / 1000)
            else:
                events = activation_events(record, fields=self.fields, logs=logs, max_line_bytes=self.max_line_bytes)
                self._count_flags(events)
            yield Unit(held_form(self._encode(events)), partial(run.resolved, activation_id, len(events), gave_up))

    def _action_units(self, run: ActionRun, probe: list, deadline: Deadline) -> Iterator[Unit]:
        # If the first page does not end the range, it is the live range's first page (the live range
        # is the newest part). Live before settled is safe: delivered live ids are kept in `seen`
        # whatever happens to the settled range.
        # The starts remembered before this run delivers anything (delivering adds to them).
        known = sorted(run.seen.values())
        full = not ends_range(probe, self.api.page_limit)
        live = [record for record in probe if start_of(record, run.since) >= run.boundary]
        if full and len(live) == len(probe):
            yield from self._units_of(run, self._live(run, probe, known[bisect_left(known, run.boundary):]))
        else:
            yield from self._units_of(run, [live])
        yield Unit([], run.finish_live)
        if run.settled_range():
            # The probe's settled records are the settled range's newest (it cannot change any more).
            if not full:
                newest = [record for record in probe if start_of(record, run.since) < run.boundary]
                yield from self._units_of(run, [newest[::-1]])
            else:
                yield from self._settled(run, probe, known[:bisect_left(known, run.boundary)], deadline)
            yield Unit([], run.finish_settled)

    def _pager(self, name: str, docs: bool = True) -> Pager:
        fetch = lambda since, upto, skip: self._list(  # noqa: E731
            name, since=since, upto=upto, limit=self.api.page_limit, skip=skip, docs=docs)
        count = lambda since, upto: self._count(name, since=since, upto=upto)  # noqa: E731
        return Pager(fetch, count, lambda: self.api.page_limit,
                     lambda text: self.warnings.append(f"action {name!r}: {text}"))

    def _pages(self, name: str, since: int, upto: int, first: list | None = None,
               docs: bool = True) -> Iterator[list]:
        """The pages of ``[since, upto]``, newest first, through the Pager (the server's limit, no large skip)."""
        return self._pager(name, docs).newest_first(since, upto, first=first)

    def _records(self, name: str, since: int, upto: int, docs: bool = True) -> Iterator[dict]:
        return chain.from_iterable(self._pages(name, since, upto, docs=docs))

    def _live(self, run: ActionRun, probe: list, starts: list[int]) -> Iterator[list]:
        """The live range's pages of records, its first page ``probe`` (full, all live) included; ``starts``:
        those of the ids remembered in the live range, sorted.

        Records newer than every remembered one have not been read before: read them whole. Below, earlier
        runs read everything but what turned up late: only the parts whose count changed are read again
        (``recheck.py``), so a busy action costs its new records, not its whole live range, every run.
        """
        if not starts:
            yield from self._pages(run.name, run.boundary, run.upto, first=probe)
            return
        probed = min(start_of(record, run.boundary) for record in probe)
        if probed > starts[-1]:  # the first page held only new records: it, and the rest of the new ones
            yield from self._pages(run.name, starts[-1] + 1, run.upto, first=probe)
        else:
            yield probe
        for low, high, _ in reversed(self._changed(run, starts, run.boundary, min(probed, starts[-1]))):
            yield from self._late_pages(run, low, high)

    def _late_pages(self, run: ActionRun, low: int, high: int) -> Iterator[list]:
        """The records of ``[low, high]`` not delivered yet: its summaries (a fifth of the bytes of full
        records), then each new one by id (no index delay, a page of one), or the part whole if most of
        it is new."""
        summaries = list(self._records(run.name, low, high, docs=False))
        ids = [s.get("activationId") if isinstance(s, dict) else None for s in summaries]
        new = [i for i in ids if isinstance(i, str) and not run.has_seen(i) and i not in run.pending]
        if len(new) * LATE_BY_ID > len(summaries) or not all(isinstance(i, str) for i in ids):
            yield from self._pages(run.name, low, high)  # (a record without an id is reported there)
            return
        for activation_id in new:
            try:
                yield [self.api.get_activation(activation_id)]
            except (SourceTransientError, AuthError):
                raise
            except SourceError as exc:  # e.g. a record the store cannot parse: the list leaves it out too
                self.errors.append(f"action {run.name!r}: activation {activation_id} is listed but cannot be "
                                   f"read, not forwarded: {exc}")

    def _settled(self, run: ActionRun, probe: list, starts: list[int], deadline: Deadline) -> Iterator[Unit]:
        """The settled range, oldest first. When it was live at a run that read its live range through
        (``starts``: the ids remembered in it), only what turned up late is read, found by counting; a
        backlog is read whole."""
        since, high = run.settled_range()
        changed = self._changed(run, starts, since, high) if run.settled_was_live() else None
        if changed is None or any(records > 2 * self.api.page_limit for *_, records in changed):
            yield from oldest_first(run.settled_range(), self._pager(run.name), probe, deadline,  # a backlog
                                    partial(self._entries, run), held_pages=self.held_pages,
                                    held_bytes=self.held_bytes, page_limit=lambda: self.api.page_limit,
                                    unit_lines=self.unit_lines)
            return
        for low, high, _ in changed:  # each part held whole (two pages at most), sent oldest first
            yield from self._units_of(run, [list(self._records(run.name, low, high))[::-1]])

    def _changed(self, run: ActionRun, starts: list[int], low: int, high: int) -> list[tuple[int, int, int]]:
        count = lambda low, high: self._count(run.name, since=low, upto=high)  # noqa: E731
        return changed_ranges(count, starts, low, high, self.api.page_limit)

    def _units_of(self, run: ActionRun, pages: Iterable[list]) -> Iterator[Unit]:
        """The units of each page of records, in the order given (``paging.records_units``)."""
        # Records already handed over in this run: a record turning up mid-paging pushes others down a
        # page, so the next page may repeat the end of the last one. Two pages' worth is enough.
        queued: OrderedDict = OrderedDict()
        for page in pages:
            yield from records_units(self._each_entry(run, page, queued), self.unit_lines)

    def _entries(self, run: ActionRun, records: Iterable[dict], queued: OrderedDict) -> list[Entry]:
        """The entries of ``records`` (events, and what marks each delivered), in the order given."""
        return list(self._each_entry(run, records, queued))

    def _each_entry(self, run: ActionRun, records: Iterable[dict], queued: OrderedDict) -> Iterator[Entry]:
        """The same, one at a time: a record is built (and its logs asked of an external log store) only
        once the units before it have gone to the pipeline, which checks its deadline between units."""
        for record in records:
            entry = self._entry(run, record, queued)
            if entry is not None:
                yield entry

    def _entry(self, run: ActionRun, record: dict, queued: OrderedDict) -> Entry | None:
        """The entry of one record; None for a record already handed over, one that is not an object, or
        one without an id (both reported)."""
        if not isinstance(record, dict):
            self.errors.append(f"action {run.name!r}: skipped a record that is not an object: {str(record)[:80]!r}")
            return None
        activation_id = record.get("activationId")
        key = fingerprint(activation_id) if isinstance(activation_id, str) else None  # once: it walks the id
        if key is not None and (key in run.seen or activation_id in queued or activation_id in run.pending):
            return None
        start = record.get("start")
        if not isinstance(start, int) or isinstance(start, bool):
            start = run.since
        try:
            # Once a record showed log text, one with lines of its own needs no look at the log store.
            logs = None if self.inline_logs and record.get("logs") != [] else self._logs(record, run)
            if logs is _PENDING and start >= run.boundary:
                self.logs_waiting += 1  # in the live range: the next run lists it again
                return None
            if logs is _PENDING:  # the cursor moves past it: it waits by id
                queued[activation_id] = None
                return Payloads([], b""), partial(run.postponed, activation_id, start, int(self.clock() * 1000))
            events = activation_events(record, fields=self.fields, logs=logs, max_line_bytes=self.max_line_bytes)
        except BadRecordError as exc:
            self.errors.append(f"action {run.name!r}: {exc}")
            if not isinstance(activation_id, str):
                return None  # nothing to remember it by; it is reported
            events = RecordEvents([], {})
        queued[activation_id] = None
        if len(queued) > 2 * PAGE:
            queued.popitem(last=False)
        self.unparsed += events.unparsed
        self.truncated += events.truncated
        # The JSON sinks' encoder (json_payloads) asks the events for their payloads: asked here directly,
        # as it would, a record skips two calls (test_page_units: the same payloads either way).
        payloads = events.payloads() if self._encode is json_payloads else held_form(self._encode(events))
        return payloads, partial(run.delivered, key, start, len(events.heads))  # (its len, without a call)

    def _logs(self, record: dict, run: ActionRun) -> list | None:
        """Deployments with an external log store return records with empty ``logs``: ask ``/logs``.

        If that fails for good (404, a body of the wrong shape), the activation is reported and passed
        over, so that it does not hold back every later activation of the action, run after run.
        """
        if record.get("logs") != [] or not isinstance(record.get("activationId"), str):
            self.inline_logs = self.inline_logs or looks_inline(record)
            return None
        self.log_requests += 1
        try:
            logs = self.api.activation_logs(record["activationId"])
            if logs_arrived(logs) or (self.inline_logs and logs == []) or len(run.pending) >= MAX_PENDING:
                return logs if logs_arrived(logs) else []
            return _PENDING  # not in the log store yet: asked again on later runs
        except (SourceTransientError, AuthError):
            raise
        except SourceError as exc:
            self.errors.append(f"action {run.name!r}: the logs of activation {record['activationId']} "
                               f"are unavailable, not forwarded: {exc}")
            return []

    def _count_flags(self, events: RecordEvents) -> None:
        self.unparsed += events.unparsed
        self.truncated += events.truncated

    def close(self) -> None:
        self.api.close()

    def summary(self) -> dict:
        runs = [run for run in self.runs if run.name not in self.missing]
        return {
            "records": sum(run.activations for run in runs),
            "lag_seconds": round(max((run.lag_seconds() for run in runs), default=0.0), 3),
            "more": self.logs_waiting > 0 or not all(run.complete and not run.pending for run in runs),
            "api_requests": self.api.requests_made,
            "logs_pending": sum(len(run.pending) for run in runs) + self.logs_waiting,
            "logs_unavailable": sum(run.logs_unavailable for run in runs),
            "lines_unparsed": self.unparsed,
            "lines_truncated": self.truncated,
            "actions": {run.name: {"activations": run.activations, "events": run.events,
                                   "overlap_seconds": self.overlaps[run.name] / 1000,
                                   **({"new": True} if run.new else {}), "read": self._read(run)} for run in runs},
        }

    def _read(self, run: ActionRun) -> dict:
        """What the run read of one action: its range, the requests it took, the ids it forgot."""
        read = {"from": iso(run.since), "to": iso(run.upto), "requests": self.requests[run.name]}
        if self.forgotten.get(run.name):
            read["ids_forgotten"] = self.forgotten[run.name]
        return read
