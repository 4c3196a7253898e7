"""HTTP/1.1 for the drain's local server, with no I/O: a request's head in, its parts out; an answer
in, its bytes out.

Only what a log drain needs (RFC 9112): bodies sized by ``Content-Length`` (a chunked upload gets
411, as its end could not be found), connections kept alive as HTTP/1.1 does by default, or as
HTTP/1.0 asks with ``Connection: keep-alive``. The answer is one buffer, head and body, so it
leaves in one write.
"""

from http import HTTPStatus
from typing import NamedTuple

from ..errors import BadRequestError

__all__ = ["MAX_HEAD", "RequestHead", "parse_head", "encode_answer"]

MAX_HEAD = 32 * 1024   # bytes of request line and headers; Heroku's drain requests send a few hundred
MAX_HEADERS = 100      # as the standard library's http.client allows
_VERSIONS = {"HTTP/1.1": True, "HTTP/1.0": False}  # -> kept alive unless the request says otherwise


class RequestHead(NamedTuple):
    method: str
    target: str              # as sent: path and query
    headers: dict[str, str]  # names as sent; a repeated header keeps its last value
    length: int | None       # Content-Length, None when there is none
    keep_alive: bool
    expects_continue: bool   # "Expect: 100-continue": the client waits for a 100 before its body


def parse_head(head: bytes) -> RequestHead:
    """The request line and headers, without the blank line that ends them. ``BadRequestError``
    (with the status to answer) if they are not HTTP/1.x as RFC 9112 writes it."""
    lines = head.split(b"\r\n")
    words = lines[0].decode("latin-1").split(" ")
    if len(words) != 3 or not words[0].isalpha() or not words[1]:
        raise BadRequestError(400, f"the request line {lines[0][:80]!r} is not METHOD TARGET HTTP/1.1")
    method, target, version = words
    if version not in _VERSIONS:
        raise BadRequestError(505 if version.startswith("HTTP/") else 400, f"{version[:16]!r} is not HTTP/1.1")
    if len(lines) > MAX_HEADERS + 1:
        raise BadRequestError(431, f"more than {MAX_HEADERS} header lines")
    headers, lengths, connection, expect = {}, set(), "", ""
    for line in lines[1:]:
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or not name or name != name.strip() or " " in name:
            raise BadRequestError(400, f"the header line {line[:80]!r} is not NAME: VALUE")
        value = value.strip(" \t")
        headers[name] = value
        lower = name.lower()
        if lower == "content-length":
            lengths.add(value)
        elif lower == "transfer-encoding":
            raise BadRequestError(411, "a Content-Length is required: chunked bodies are not taken")
        elif lower == "connection":
            connection = f"{connection},{value.lower()}"
        elif lower == "expect":
            expect = value.lower()
    if len(lengths) > 1 or (lengths and not next(iter(lengths)).isdigit()):
        raise BadRequestError(400, f"Content-Length {', '.join(sorted(lengths))[:40]!r} is not one number")
    tokens = {token.strip() for token in connection.split(",")}
    keep_alive = "close" not in tokens and (_VERSIONS[version] or "keep-alive" in tokens)
    return RequestHead(method, target, headers, int(lengths.pop()) if lengths else None, keep_alive,
                       expect == "100-continue" and version == "HTTP/1.1")


def encode_answer(status: int, headers: dict[str, str], body: bytes, *, keep_alive: bool, date: str) -> bytes:
    """The answer's bytes: status line, ``headers``, ``Date``, ``Content-Length`` (and ``Connection:
    close`` when the connection ends), then ``body``. A header value with a line break raises
    ``ValueError``: it would let a value write headers of its own."""
    lines = [f"HTTP/1.1 {status} {_reason(status)}", f"Date: {date}"]
    for name, value in headers.items():
        value = str(value)
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"the answer header {name!r} holds a line break")
        lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
