"""Heroku's platform errors in log messages, with no I/O: a message in, its error code (if any) out.

Three shapes (Heroku Error Codes; see reference/pipelines.md §4):
- router lines, ``key=value`` pairs: ``at=error code=H12 desc="Request timeout" ... connect=1ms
  service=30000ms status=503``; values may be quoted or empty, so they are parsed as pairs;
- runtime and logging lines (and Heroku's older router lines) that start ``Error R14 (Memory quota
  exceeded)``, ``Error L10 (output buffer overflow): ...``, ``Error H12 (Request timeout) -> ...``.
A code of the right shape (H, R or L and two or three digits) counts even when Heroku's table does
not list it yet.
"""

import re
from typing import NamedTuple

__all__ = ["PlatformError", "platform_error", "router_times", "key_values"]

_CODE = re.compile(r"[HRL]\d{2,3}")
_ERROR_LINE = re.compile(r"Error ([HRL]\d{2,3})(?: \(([^)]*)\))?(?=[\s:]|$)")
_PAIR = re.compile(r'([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_MILLISECONDS = re.compile(r"(\d+)(?:ms)?")


class PlatformError(NamedTuple):
    code: str         # "H12"
    description: str  # "Request timeout", or "" when the line gives none


def key_values(message: str) -> dict[str, str]:
    """``key=value`` pairs of a router line; quoted values lose their quotes."""
    pairs = {}
    for key, value in _PAIR.findall(message):
        if value[:1] == '"':
            value = value[1:-1].replace('\\"', '"')
        pairs[key] = value
    return pairs


def platform_error(message: str) -> PlatformError | None:
    """The Heroku error a message reports, or ``None``."""
    if message[:6] == "Error ":
        match = _ERROR_LINE.match(message)
        return PlatformError(match[1], match[2] or "") if match else None
    if "at=error" in message and "code=" in message:
        pairs = key_values(message)
        code = pairs.get("code", "")
        if pairs.get("at") == "error" and _CODE.fullmatch(code):
            return PlatformError(code, pairs.get("desc", ""))
    return None


def router_times(message: str) -> tuple[int, int] | None:
    """``(connect, service)`` in ms from a router line that has both, else ``None``."""
    if "service=" not in message or "connect=" not in message:
        return None
    pairs = key_values(message)
    connect = _MILLISECONDS.fullmatch(pairs.get("connect", ""))
    service = _MILLISECONDS.fullmatch(pairs.get("service", ""))
    if connect is None or service is None:
        return None
    return int(connect[1]), int(service[1])
