"""The monitored-actions list: ``name``, ``package/action``, ``package/*``, ``*`` and ``!exclusion``.

Only patterns with a wildcard need the actions listing; plain names are taken as written. The
forwarder's own action is always excluded, so it never forwards its own logs in a loop.
"""

from difflib import get_close_matches
from fnmatch import fnmatchcase
from typing import Callable, Iterable

from ...errors import ConfigError


def normalize(pattern: str) -> str:
    """``/ns/pkg/action`` -> ``pkg/action``; the namespace is the source's, not the pattern's."""
    if pattern.startswith("/"):
        parts = pattern.strip("/").split("/")
        return "/".join(parts[1:]) or "*"
    return pattern


def qualified_name(action: dict) -> str:
    """An entry of the actions listing -> ``action`` or ``package/action``."""
    namespace = str(action.get("namespace", ""))
    package = namespace.split("/", 1)[1] if "/" in namespace else ""
    return f"{package}/{action['name']}" if package else str(action["name"])


def select_actions(patterns: Iterable[str], list_actions: Callable[[], list[dict]],
                   self_action: str | None = None, where: str = "the actions listing") -> tuple[list[str], list[str]]:
    """Expand the patterns into action names; returns (names, warnings). ``where`` names the listing."""
    include, exclude = parse(patterns)
    if self_action:
        exclude.append(normalize(self_action))
    listing = _Listing(list_actions, where)
    names: dict[str, None] = {}
    for pattern in include:
        if is_wildcard(pattern):
            matched = [n for n in listing.names() if fnmatchcase(n, pattern)]
            if not matched:
                listing.warnings.append(f"actions: {pattern!r} matches no action in the namespace")
            names.update(dict.fromkeys(matched))
        else:
            names[pattern] = None
    warnings = listing.warnings
    selected = [n for n in names if not any(fnmatchcase(n, p) for p in exclude)]
    if names and not selected:
        warnings.append("actions: every listed action is excluded; nothing to forward")
    return sorted(selected), warnings


def parse(patterns: Iterable[str]) -> tuple[list[str], list[str]]:
    """The patterns, normalized: (included, excluded)."""
    include, exclude = [], []
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = normalize(raw[1:].strip() if negated else raw)
        if not pattern or pattern.count("/") > 1:
            raise ConfigError("actions", f"bad entry {raw!r}",
                              "Use name, package/name, package/*, * or !name.")
        (exclude if negated else include).append(pattern)
    if not include:
        raise ConfigError("actions", "names no action to monitor", "List at least one name, package/* or *.")
    return include, exclude


def is_wildcard(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def no_such_action(name: str, list_actions: Callable[[], list[dict]], where: str = "the actions listing") -> str:
    """The warning for a monitored name that no action has, with the closest existing names."""
    return (f"no action {name!r} exists in the namespace, nothing to forward for it; "
            f"{_Listing(list_actions, where).closest(name)}")


class _Listing:
    """The namespace's actions, read once and only if needed."""

    def __init__(self, list_actions: Callable[[], list[dict]], where: str):
        self.list_actions, self.where = list_actions, where
        self.warnings: list[str] = []
        self._names: list[str] | None = None

    def names(self) -> list[str]:
        if self._names is None:
            self._names = []
            for entry in self.list_actions():
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    self._names.append(qualified_name(entry))
                else:
                    self.warnings.append(f"{self.where} answered an entry that is not an action, skipped: "
                                         f"{str(entry)[:80]!r}")
        return self._names

    def closest(self, pattern: str) -> str:
        """The existing names (and package wildcards) nearest to ``pattern``, as advice."""
        names = self.names()
        packages = sorted({f"{n.split('/')[0]}/*" for n in names if "/" in n})
        close = get_close_matches(pattern, names + packages, n=3, cutoff=0.5)
        close += [p for p in packages if p[:-1] == pattern.rstrip("/") + "/" and p not in close]
        if close:
            return "did you mean " + " or ".join(repr(c) for c in close) + "?"
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        return f"the namespace has: {shown}" if names else "the namespace has no actions"
