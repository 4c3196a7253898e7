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

from .logplex import COMMON_HEADER

__all__ = ["PlatformError", "platform_error", "error_code", "usual_frame_error", "router_times"]

_ERROR_LINE = re.compile(r"Error ([HRL]\d{2,3})(?: \(([^)]*)\))?(?=[\s:]|$)")
_CODE_VALUE = re.compile(r"[HRL]\d{2,3}(?=\s|$)")
# How Heroku itself writes them: one match settles most error lines. The router's form is exact only
# because "at=" and " code=" are then the first of their keys, which error_code's general search takes.
_USUAL_FORMS = re.compile(r"Error ([HRL]\d{2,3})(?: \([^)]*\))?(?=[\s:]|$)|at=error code=([HRL]\d{2,3})(?=\s|$)")
# The same two forms at the start of a whole logplex frame (its header, then "- " or nothing), matched
# on its bytes. A match says what parse_frame and error_code would: ASCII digits and whitespace are
# digits and whitespace to both, and anything else (structured data, a BOM, Unicode digits) fails it.
_USUAL_FRAME = re.compile(COMMON_HEADER + rb"(?:- )?(?:Error ([HRL][0-9]{2,3})(?: \([^)]*\))?(?=[\s:]|$)"
                                          rb"|at=error code=([HRL][0-9]{2,3})(?=\s|$))")
_MILLISECONDS = re.compile(r"(\d+)(?:ms)?(?=\s|$)")


class PlatformError(NamedTuple):
    code: str         # "H12"
    description: str  # "Request timeout", or "" when the line gives none


def platform_error(message: str) -> PlatformError | None:
    """The Heroku error a message reports, or ``None``."""
    code = error_code(message)
    if code is None:
        return None
    if message[:6] == "Error ":
        return PlatformError(code, _ERROR_LINE.match(message)[2] or "")
    return PlatformError(code, _quoted(message, _value_at(message, "desc")))


def error_code(message: str) -> str | None:
    """Only the code of ``platform_error`` (``"H12"``), or ``None``: what a counter needs, without the
    description, which only an event needs."""
    usual = _USUAL_FORMS.match(message)
    return (usual[1] or usual[2]) if usual is not None else _any_error_code(message)


def usual_frame_error(body: bytes, start: int = 0, end: int | None = None) -> tuple[bytes, str] | None:
    """``(app, code)`` of a logplex frame's ``msg`` (``body[start:end]``) that reports an error as Heroku
    writes them, in one match and without decoding or copying; ``None`` for any other frame
    (``parse_frame`` and ``error_code`` decide)."""
    match = _USUAL_FRAME.match(body, start, len(body) if end is None else end)
    return None if match is None else (match["app"], (match[3] or match[4]).decode())


def _any_error_code(message: str) -> str | None:
    if message[:6] == "Error ":
        match = _ERROR_LINE.match(message)
        return match[1] if match else None
    if "at=error" not in message:
        return None
    at = _value_at(message, "at")
    if at < 0 or not message.startswith("error", at) or message[at + 5:at + 6] not in ("", " ", "\t"):
        return None
    code = _value_at(message, "code")
    match = _CODE_VALUE.match(message, code) if code >= 0 else None
    return match[0] if match else None


def _value_at(message: str, key: str) -> int:
    """Where the value of ``key=`` starts, the key being a whole word; -1 if it is not there. (Plain
    searches: a regex anchored on ``(^|\\s)`` costs several times more on every router line.)"""
    probe, spaced = _PROBES[key]
    if message.startswith(probe):
        return len(probe)
    found = message.find(spaced)
    return found + len(spaced) if found >= 0 else -1


def _quoted(message: str, start: int) -> str:
    """The quoted value starting at ``start`` (``\\"`` inside it kept as ``"``), or ""."""
    if start < 0 or message[start:start + 1] != '"':
        return ""
    end = message.find('"', start + 1)
    while end > 0 and message[end - 1] == "\\":
        end = message.find('"', end + 1)
    return message[start + 1:end].replace('\\"', '"') if end > 0 else ""


_PROBES = {key: (f"{key}=", f" {key}=") for key in ("at", "code", "desc", "connect", "service")}


def router_times(message: str) -> tuple[int, int] | None:
    """``(connect, service)`` in ms from a router line that has both, else ``None``."""
    connect, service = _value_at(message, "connect"), _value_at(message, "service")
    if connect < 0 or service < 0:
        return None
    connect, service = _MILLISECONDS.match(message, connect), _MILLISECONDS.match(message, service)
    if connect is None or service is None:
        return None
    return int(connect[1]), int(service[1])
