"""``logfwd check`` for the OpenWhisk source: the API is there, its TLS verified, the key accepted in
the namespace, and what the monitored list selects now (with the overlap each action gets)."""

from fnmatch import fnmatchcase
from typing import Iterator
from urllib.parse import urlsplit

from ...checklist import ERROR, OK, WARNING, Item
from ...errors import AuthError, SourceError
from .api import OpenWhiskAPI
from .overlap import automatic_overlaps
from .selection import is_wildcard, no_such_action, normalize, parse, qualified_name
from .saved import CLOCK_SKEW_MS, iso

API, KEY, ACTIONS, OVERLAP, POSITIONS = "openwhisk api", "openwhisk key", "monitored actions", "overlap", "checkpoint"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def probe(settings, context, options) -> Iterator[Item]:
    values = settings.values
    api = OpenWhiskAPI(values["apihost"], values["api_key"].reveal(), values["namespace"], retry=context.retry,
                       verify=values["api_verify"], deadline=context.deadline, timeout=10.0)
    context.resources["openwhisk_api"] = api  # the activation checkpoint store reads through it
    try:
        api.info()
    except SourceError as exc:
        yield Item(API, ERROR, str(exc), "Check apihost (wsk property get --apihost) and that it is reachable.")
        return
    yield Item(API, OK, f"{api.host} answers")
    yield _transport(api.host, values["api_verify"])

    try:
        namespaces = api.list_namespaces()
        listing = api.list_actions()
    except AuthError as exc:
        yield Item(KEY, ERROR, str(exc))
        return
    except SourceError as exc:  # 404/403 on the namespace, or an unusable answer
        yield Item(KEY, ERROR, str(exc), "Check the namespace (wsk namespace list).")
        return
    yield _namespace(values["namespace"], namespaces, len(listing))
    yield from monitored(values["actions"], listing, settings.self_action, values["overlap"],
                         lambda name: no_such_action(name, lambda: listing), api.get_action,
                         values["schedule_interval"])


def _transport(host: str, verify: bool) -> Item:
    parts = urlsplit(host)
    if parts.scheme == "https":
        if verify:
            return Item(API, OK, "TLS certificate verified")
        return Item(API, WARNING, "api_verify=false: the API's certificate is not checked",
                    "Give the API a certificate from a trusted CA and set api_verify back to true.")
    if parts.hostname in _LOOPBACK:
        return Item(API, OK, "plain HTTP on this machine's loopback")
    return Item(API, WARNING, "plain HTTP: the API key crosses the network unencrypted",
                "Use https:// unless this is a test installation.")


def _namespace(namespace: str, namespaces: list, actions: int) -> Item:
    if namespace == "_":
        default = f" ({namespaces[0]})" if len(namespaces) == 1 else ""
        return Item(KEY, OK, f"the key is accepted; namespace _ is its default{default}, {actions} actions")
    return Item(KEY, OK, f"the key is accepted in namespace {namespace}, {actions} actions")


def monitored(patterns, listing: list, self_action: str | None, overlap: float | str, missing, get_action,
              interval: float) -> Iterator[Item]:
    """What each pattern matches now, which match nothing, and whether the overlap covers how late each
    action's records can appear (docs/openwhisk-timing.md)."""
    include, exclude = parse(patterns)
    if self_action:
        exclude.append(normalize(self_action))
    actions = {qualified_name(a): a for a in listing if isinstance(a, dict) and isinstance(a.get("name"), str)}
    selected: dict[str, None] = {}
    for pattern in include:
        matched = [n for n in actions if fnmatchcase(n, pattern)] if is_wildcard(pattern) else (
            [pattern] if pattern in actions else [])
        kept = [n for n in matched if not any(fnmatchcase(n, p) for p in exclude)]
        selected.update(dict.fromkeys(kept))
        if not matched:
            yield Item(ACTIONS, WARNING, missing(pattern) if not is_wildcard(pattern)
                       else f"{pattern!r} matches no action in the namespace",
                       "Correct the actions parameter, or create the action first.")
        else:
            excluded = f" ({len(matched) - len(kept)} excluded)" if len(kept) < len(matched) else ""
            yield Item(ACTIONS, OK, f"{pattern!r} matches {_names(kept)}{excluded}")
    if not selected:
        yield Item(ACTIONS, ERROR, "nothing to forward: no existing action is selected",
                   "List at least one existing action, package/* or *.")
        return
    needed = {n: ms / 1000 for n, ms in automatic_overlaps(list(selected), listing, get_action, int(interval * 1000),
                                                             lambda _: None).items()}
    if overlap == "auto":
        yield Item(OVERLAP, OK, "overlap auto: every run re-reads "
                   + ", ".join(f"{n} {s:g} s" for n, s in sorted(needed.items())))
        return
    too_short = {n: s for n, s in needed.items() if s > overlap}
    if too_short:
        yield Item(OVERLAP, WARNING,
                   f"overlap {overlap:g} s is shorter than how late records can appear (2 x time limit + 30 s + "
                   f"2 schedule intervals) for " + ", ".join(f"{n} ({s:g} s)" for n, s in sorted(too_short.items())),
                   f"Set overlap to auto, or to at least {max(too_short.values()):g}: a record appears only when "
                   "its activation ended and its logs were collected, and a run reads only that far back.")
    else:
        yield Item(OVERLAP, OK, f"every run re-reads the last {overlap:g} s of each of the {len(selected)} "
                                f"actions, enough for the latest records ({max(needed.values()):g} s)")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return f"{len(names)} action{'s' if len(names) != 1 else ''}: {shown}" if names else "nothing left"


def positions(document, now: float) -> Iterator[Item]:
    """The saved position of each action: where its next run starts reading."""
    actions = document.get("actions") if isinstance(document, dict) else None
    if not isinstance(actions, dict) or not actions:
        yield Item(POSITIONS, OK, "no saved positions: each action starts from the initial lookback")
        return
    now_ms = int(now * 1000)
    for name, entry in sorted(actions.items()):
        since = entry.get("since") if isinstance(entry, dict) else None
        if not isinstance(since, int) or isinstance(since, bool):
            yield Item(POSITIONS, WARNING, f"{name}: the saved position is unreadable ({str(entry)[:60]!r})",
                       "The next run starts this action from the initial lookback.")
        elif since > now_ms + CLOCK_SKEW_MS:
            yield Item(POSITIONS, WARNING, f"{name}: the saved position {iso(since)} lies in the future",
                       "Check the clock of the host that saved it; the next run starts this action from the "
                       "initial lookback.")
        else:
            yield Item(POSITIONS, OK, f"{name}: the next run reads from {iso(since)} "
                                      f"({(now_ms - since) / 1000:.0f} s ago)")

