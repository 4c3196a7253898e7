"""A Heroku router line's ``key=value`` fields as ECS fields, for a drain's lines sent to a log sink.

``at=info method=GET path="/a?b=1" host=x.herokuapp.com request_id=... fwd="1.2.3.4" dyno=web.1
connect=1ms service=18ms status=200 bytes=13 protocol=https`` (reference/pipelines.md §4): values may
be quoted or empty, so each pair is read as a whole, not by position; an empty value is left out.
Fields without an ECS home (dyno, the connect time) go under ``heroku.router``.
"""

import re

_PAIR = re.compile(r'(?:^|\s)([a-z_]+)=("(?:[^"\\]|\\.)*"|\S*)')
_MS = re.compile(r"(\d+)(?:ms)?$")


def router_fields(message: str) -> dict:
    """ECS fields of a router line (nested dicts); ``{}`` if it has no pairs we know."""
    pairs = {}
    for key, value in _PAIR.findall(message):
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"')
        if value:
            pairs[key] = value
    fields: dict = {}
    if "at" in pairs:
        _put(fields, ("log", "level"), pairs["at"])
    if "method" in pairs:
        _put(fields, ("http", "request", "method"), pairs["method"])
    if "request_id" in pairs:
        _put(fields, ("http", "request", "id"), pairs["request_id"])
    if "status" in pairs and pairs["status"].isdigit():
        _put(fields, ("http", "response", "status_code"), int(pairs["status"]))
    if "bytes" in pairs and pairs["bytes"].isdigit():
        _put(fields, ("http", "response", "bytes"), int(pairs["bytes"]))
    if "path" in pairs:
        _put(fields, ("url", "original"), pairs["path"])
    if "host" in pairs:
        _put(fields, ("url", "domain"), pairs["host"])
    if "protocol" in pairs:
        _put(fields, ("url", "scheme"), pairs["protocol"])
    if "fwd" in pairs:  # the client, then any proxies it came through
        _put(fields, ("client", "ip"), pairs["fwd"].split(",")[0].strip())
    if "dyno" in pairs:
        _put(fields, ("heroku", "router", "dyno"), pairs["dyno"])
    for key in ("connect", "service"):
        match = _MS.match(pairs.get(key, ""))
        if match:
            _put(fields, ("heroku", "router", f"{key}_ms"), int(match[1]))
            if key == "service":  # ECS durations are in nanoseconds
                _put(fields, ("event", "duration"), int(match[1]) * 1_000_000)
    if fields:
        _put(fields, ("event", "dataset"), "heroku.router")
    return fields


def _put(fields: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        fields = fields.setdefault(key, {})
    fields[path[-1]] = value
