"""The monitored-actions list: ``name``, ``package/action``, ``package/*``, ``*`` and ``!exclusion``.

Only patterns with a wildcard need the actions listing; plain names are taken as written. The
forwarder's own action is always excluded, so it never forwards its own logs in a loop.
"""

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
    if self_action:
        exclude.append(normalize(self_action))

    wildcards = [p for p in include if any(ch in p for ch in "*?[")]
    warnings = []
    available = []
    for entry in list_actions() if wildcards else ():
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            available.append(qualified_name(entry))
        else:
            warnings.append(f"{where} answered an entry that is not an action, skipped: {str(entry)[:80]!r}")
    names: dict[str, None] = {}
    for pattern in include:
        if pattern in wildcards:
            matched = [n for n in available if fnmatchcase(n, pattern)]
            if not matched:
                warnings.append(f"actions: {pattern!r} matches no action in the namespace")
            names.update(dict.fromkeys(matched))
        else:
            names[pattern] = None
    selected = [n for n in names if not any(fnmatchcase(n, p) for p in exclude)]
    if names and not selected:
        warnings.append("actions: every listed action is excluded; nothing to forward")
    return sorted(selected), warnings
