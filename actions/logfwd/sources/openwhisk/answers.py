"""What an answer of the OpenWhisk API that is not a page means, as an error that names the host, the
namespace and what to check: refused keys and unknown names are not retried, overload and server
errors are, and a 400 that names the server's largest list limit says so (``LimitTooLarge``)."""

import re

import requests

from ...errors import AuthError, NotFoundError, SourceError, SourceTransientError

__all__ = ["LimitTooLarge", "answer_error", "server_error", "plain_http_answer", "clip"]

_SNIPPET = 100  # characters of an unusable body shown in an error
_LIMIT_RANGE = re.compile(r"The value '\d+' is not in the range of 0 to (\d+) for")


class LimitTooLarge(SourceError):
    """A list request's ``limit`` is over the deployment's ``max-list-limit``, which is ``maximum``."""

    def __init__(self, message: str, maximum: int):
        super().__init__(message)
        self.maximum = maximum


def answer_error(status: int, reason: str, host: str, namespace: str, endpoint: str,
                 subject: str | None) -> SourceError:
    """The error for an answer with HTTP ``status`` and the server's ``reason`` (secrets masked already);
    ``subject`` names what was asked for (an action, an activation), if not the namespace."""
    where = f"OpenWhisk at {host}, namespace '{namespace}'"
    if status in (401, 403):
        return AuthError(
            f"{where} refused the API key (HTTP {status}) on {endpoint}: {reason}. Check the API key "
            "(wsk property get --auth); for the deployed action, check that it has the annotation "
            "'provide-api-key: true' or is given an api_key parameter"
        )
    if status == 404:
        what = subject or f"namespace '{namespace}'"
        return NotFoundError(
            f"{where} does not know {what} (HTTP 404) on {endpoint}: {reason}. Check the namespace "
            "and name, and that the API host is the one the action was deployed to"
        )
    if status == 429 or status >= 500:
        return SourceTransientError(f"{endpoint} answered HTTP {status}: {reason}")
    limit = _LIMIT_RANGE.search(reason) if status == 400 else None
    if limit:
        return LimitTooLarge(f"{where} rejected {endpoint} (HTTP 400): {reason}", int(limit.group(1)))
    return SourceError(f"{where} rejected {endpoint} (HTTP {status}): {reason}")


def server_error(response: requests.Response) -> str:
    """The ``error`` text OpenWhisk puts in its error bodies, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return clip(response.text) or response.reason or "no details"


def plain_http_answer(error: Exception) -> bool:
    """Did a TLS handshake fail because the server answered in plain HTTP? OpenSSL reads the start of
    "HTTP/1.1 400" as a TLS record of an unknown version (or, in 3.2+, as a record layer failure)."""
    text = str(error)
    return any(sign in text for sign in ("WRONG_VERSION_NUMBER", "record layer failure", "HTTP_REQUEST"))


def clip(text: str) -> str:
    """``text`` on one line, at most a snippet long."""
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."
