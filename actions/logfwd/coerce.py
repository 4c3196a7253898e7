"""Coercions for parameter values, which may arrive as strings (wskdeploy makes every value one).

Each takes the parameter's name and the raw value, and returns the value or raises ``ConfigError``
naming the parameter.
"""

import json
from typing import Any, Callable

from .errors import ConfigError

DEFAULT_LOGSTASH_PORT = 5044


class Secret(str):
    """A string that shows itself only through ``reveal()``: ``repr``, ``str`` and f-strings give ``***``."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def reveal(self) -> str:
        return str.__str__(self)


def text(name: str, raw: Any) -> str:
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise ConfigError(name, f"expected a string, got {type(raw).__name__}")
    return str(raw).strip()


def secret(name: str, raw: Any) -> Secret:
    if not isinstance(raw, str):
        raise ConfigError(name, f"expected a string, got {type(raw).__name__}")
    return Secret(raw.strip())


def pem(name: str, raw: Any) -> str:
    # PEM text keeps its line breaks; a path is stripped.
    if not isinstance(raw, str):
        raise ConfigError(name, f"expected PEM text or a file path, got {type(raw).__name__}")
    return raw if "-----BEGIN" in raw else raw.strip()


def secret_pem(name: str, raw: Any) -> Secret:
    return Secret(pem(name, raw))


def listing(name: str, raw: Any) -> tuple[str, ...]:
    """A list, a JSON list in a string (``["a","b"]``), or a comma-separated string."""
    if isinstance(raw, str) and raw.lstrip().startswith("["):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(name, f"looks like a JSON list but is not valid JSON ({exc.msg} at position {exc.pos})",
                              'Write ["hello","shop/*"], or hello,shop/* without brackets.') from None
    if isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, (list, tuple)):
        items = raw
    else:
        raise ConfigError(name, f"expected a list or a comma-separated string, got {type(raw).__name__}")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(name, f"every entry must be a string, got {item!r}")
        if item.strip():
            out.append(item.strip())
    return tuple(out)


def boolean(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigError(name, f"expected true or false, got {raw!r}")


def number(kind: type, low: float, high: float) -> Callable[[str, Any], Any]:
    def coerce(name: str, raw: Any) -> Any:
        if isinstance(raw, bool):
            raise ConfigError(name, f"expected a number, got {raw!r}")
        try:
            value = kind(raw) if not isinstance(raw, str) else kind(float(raw)) if kind is float else int(raw)
        except (TypeError, ValueError):
            raise ConfigError(name, f"expected {'an integer' if kind is int else 'a number'}, got {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(name, f"{value} is out of range", f"Use a value from {low} to {high}.")
        return value

    return coerce


def auto_or(coerce: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """``auto`` (any case) stays ``"auto"``: the component works the value out itself; else ``coerce``."""
    def coerce_auto(name: str, raw: Any) -> Any:
        if isinstance(raw, str) and raw.strip().lower() == "auto":
            return "auto"
        return coerce(name, raw)

    return coerce_auto


def json_object(name: str, raw: Any) -> dict:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(name, f"not valid JSON ({exc.msg} at position {exc.pos})",
                              'Give a JSON object such as {"token": "..."}.') from None
    if not isinstance(raw, dict):
        raise ConfigError(name, f"expected a JSON object, got {type(raw).__name__}")
    return raw


def hosts(name: str, raw: Any) -> tuple[tuple[str, int], ...]:
    hosts = []
    for entry in listing(name, raw):
        host, port = entry, DEFAULT_LOGSTASH_PORT
        if entry.startswith("["):  # [IPv6]:port
            host, _, rest = entry[1:].partition("]")
            if rest:
                port = rest.lstrip(":")
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        try:
            port = int(port)
        except ValueError:
            raise ConfigError(name, f"bad port in {entry!r}",
                              "Write host:port, e.g. logstash.example.com:5044.") from None
        if not host or not 0 < port < 65536:
            raise ConfigError(name, f"bad entry {entry!r}", "Write host:port, e.g. logstash.example.com:5044.")
        hosts.append((host, port))
    return tuple(hosts)


def fraction_of(name: str, raw: Any) -> tuple[int, int] | None:
    """``i/N`` with 1 <= i <= N (one of N parts, e.g. a shard); empty means none."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    index, slash, count = str(raw).strip().partition("/")
    try:
        part = (int(index), int(count)) if slash and not isinstance(raw, bool) else None
    except ValueError:
        part = None
    if part is None or not 1 <= part[0] <= part[1]:
        raise ConfigError(name, f"{raw!r} is not i/N with 1 <= i <= N",
                          "Write e.g. 2/4 for the second of four forwarders sharing the work.")
    return part
