"""Heroku's platform errors in log messages, with no I/O: a message in, its error code (if any) out.

Three shapes (Heroku Error Codes; see reference/pipelines.md §4):
- router lines, ``key=value`` pairs: ``at=error code=H12 desc="Request timeout" ... connect=1ms
  service=30000ms status=503``; values may be quoted or empty, so each key is found as a whole
  word, not by position;
- runtime and logging lines (and Heroku's older router lines) that start ``Error R14 (Memory quota
  exceeded)``, ``Error L10 (output buffer overflow): ...``, ``Error H12 (Request timeout) -> ...``.
A code of the right shape (H, R or L and two or three digits) counts even when Heroku's table does
not list it yet.
"""

import re
from typing import NamedTuple

__all__ = ["PlatformError", "platform_error", "router_times"]

_ERROR_LINE = re.compile(r"Error ([HRL]\d{2,3})(?: \(([^)]*)\))?(?=[\s:]|$)")
_AT_ERROR = re.compile(r"(?:^|\s)at=error(?=\s|$)")
_ROUTER_CODE = re.compile(r"(?:^|\s)code=([HRL]\d{2,3})(?=\s|$)")
_DESC = re.compile(r'(?:^|\s)desc="((?:[^"\\]|\\.)*)"')
_CONNECT = re.compile(r"(?:^|\s)connect=(\d+)(?:ms)?(?=\s|$)")
_SERVICE = re.compile(r"(?:^|\s)service=(\d+)(?:ms)?(?=\s|$)")


class PlatformError(NamedTuple):
    code: str         # "H12"
    description: str  # "Request timeout", or "" when the line gives none


def platform_error(message: str) -> PlatformError | None:
    """The Heroku error a message reports, or ``None``."""
    if message[:6] == "Error ":
        match = _ERROR_LINE.match(message)
        return PlatformError(match[1], match[2] or "") if match else None
    if "at=error" in message and _AT_ERROR.search(message):
        code = _ROUTER_CODE.search(message)
        if code:
            desc = _DESC.search(message)
            return PlatformError(code[1], desc[1].replace('\\"', '"') if desc else "")
    return None


def router_times(message: str) -> tuple[int, int] | None:
    """``(connect, service)`` in ms from a router line that has both, else ``None``."""
    if "service=" not in message:
        return None
    connect, service = _CONNECT.search(message), _SERVICE.search(message)
    if connect is None or service is None:
        return None
    return int(connect[1]), int(service[1])
