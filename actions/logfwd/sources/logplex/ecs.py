"""A Heroku router line's ``key=value`` fields as ECS fields, for a drain's lines sent to a log sink.

``at=info method=GET path="/a?b=1" host=x.herokuapp.com request_id=... fwd="1.2.3.4" dyno=web.1
connect=1ms service=18ms status=200 bytes=13 protocol=https`` (reference/pipelines.md §4): values may
be quoted or empty, so each pair is read as a whole, not by position; an empty value is left out.
Fields without an ECS home (dyno, the connect time) go under ``heroku.router``. One pass over the
pairs and a table, no helper call per field: it runs on every router line a log sink gets.
"""

import re

_PAIR = re.compile(r'(?:^|\s)([a-z_]+)=("(?:[^"\\]|\\.)*"|\S*)')
_MS = re.compile(r"(\d+)(?:ms)?$")


def _number(value: str):
    return int(value) if value.isdigit() else None


def _milliseconds(value: str):
    match = _MS.match(value)
    return int(match[1]) if match else None


def _first_address(value: str) -> str:  # the client, then any proxies it came through
    return value.split(",", 1)[0].strip()


# router key -> (ECS section, sub-section or None, field, conversion or None)
_FIELDS = {
    "at": ("log", None, "level", None),
    "method": ("http", "request", "method", None),
    "request_id": ("http", "request", "id", None),
    "status": ("http", "response", "status_code", _number),
    "bytes": ("http", "response", "bytes", _number),
    "path": ("url", None, "original", None),
    "host": ("url", None, "domain", None),
    "protocol": ("url", None, "scheme", None),
    "fwd": ("client", None, "ip", _first_address),
    "dyno": ("heroku", "router", "dyno", None),
    "connect": ("heroku", "router", "connect_ms", _milliseconds),
    "service": ("heroku", "router", "service_ms", _milliseconds),
}


def router_fields(message: str) -> dict:
    """ECS fields of a router line (nested dicts); ``{}`` if it has no pairs we know."""
    fields: dict = {}
    for key, value in _PAIR.findall(message):
        spec = _FIELDS.get(key)
        if spec is None:
            continue
        if value[:1] == '"':
            value = value[1:-1].replace('\\"', '"')
        section, sub, name, convert = spec
        if convert is not None and value:
            value = convert(value)
        if value is None or value == "":
            continue
        place = fields.setdefault(section, {})
        if sub is not None:
            place = place.setdefault(sub, {})
        place[name] = value
    if not fields:
        return fields
    event = fields["event"] = {"dataset": "heroku.router"}
    service = fields.get("heroku", {}).get("router", {}).get("service_ms")
    if service is not None:
        event["duration"] = service * 1_000_000  # ECS durations are in nanoseconds
    return fields
