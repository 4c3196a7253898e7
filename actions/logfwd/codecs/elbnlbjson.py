"""NLB (TLS listener) access log lines written straight as the JSON of their documents: the JSON sinks'
fast path for them, as ``elbjson.py``'s for ALB lines (why, and why captured text needs no escaping, are
said there and in ``elbjsonparts.py``).

The ten fields from ``incoming_tls_alert`` to ``alpn_client_preference_list`` (alert, certificate,
cipher, protocol, group, domain, ALPN) are the same line after line of a listener: they are captured
as one run (loosely, checked once per distinct run: see ``elbjsonparts.LOOSE``) and turned into their
JSON once per distinct run, by the general path's own functions (the URL-decoding of the domain and the
ALPN fields included). The result is exactly
``dumps(parse_line(line))``: tests/test_elbjson.py compares them. A line the pattern does not take
(quoted or escaped fields, a single quoted ALPN item, ...), or with a value the general path refuses,
gets ``None``: the caller takes the general path.
"""

import re

from ..errors import LineFormatError
from .elbjsonparts import (CLIENT, CLOCK, COUNT, LOOSE, MINUTES, PLAIN, P, TARGETS, Memo, checked, members,
                           port_too_big, seconds_memo)
from .elblog import NLB
from .elbtokens import split_fields

__all__ = ["nlb_json"]

_ALPN_LIST = rf'(?:{P}|"[{PLAIN}]*"(?:,"[{PLAIN}]*")+)'  # as the general path's layout takes it: - or "h2","http/1.1"
_NLB = re.compile(
    rf"tls ([0-9][{PLAIN}]*) ({CLOCK})Z? ({P}) ({P}) "                # type, version, time, elb, listener
    rf"{CLIENT.format(5)} ({P}) "                                     # client:port destination:port
    rf"({P}) ({P}) ({COUNT}) ({COUNT}) "                              # connection and handshake times, bytes
    rf"({LOOSE} {LOOSE} {LOOSE} {LOOSE} {LOOSE} {LOOSE} {LOOSE} {LOOSE} {LOOSE} {LOOSE})"  # alert ... alpn list, loosely
    rf"(?: ({CLOCK})Z?(?: (.*))?)?")                                  # creation time (since 2021); fields AWS appends later

_RUN_STEPS = tuple((field.put, field.in_elb) for field in NLB[11:21])  # the general path's, for those ten fields


def _tls_run(run: str) -> tuple[str, str, str]:
    """The ten fields from ``incoming_tls_alert`` to the ALPN list -> (their ``aws.elb`` members, the
    ``destination.domain`` member, the ``tls`` member), as the general path fills them."""
    doc: dict = {"aws": {"elb": {}}, "destination": {}}
    elb = doc["aws"]["elb"]
    for (put, in_elb), value in zip(_RUN_STEPS, run.split(" ")):  # no field of the run holds a space
        put(elb if in_elb else doc, value)
    return members(elb), members(doc["destination"]), members({"tls": doc["tls"]} if "tls" in doc else {})


_CONNECTION_TIMES = seconds_memo("connection_time", "ms")
_HANDSHAKE_TIMES = seconds_memo("tls_handshake_time", "ms")
_TLS_RUNS = Memo(checked(rf"{P} {P} {P} {P} {P} {P} {P} {P} {P} {_ALPN_LIST}", _tls_run))


def nlb_json(line: str, inside_aws: str = "", after: str = "") -> str | None:
    """The JSON of ``parse_line(line)``'s document for an NLB line, with ``inside_aws`` and ``after`` as
    ``alb_json`` adds them; ``None`` for a line this path does not take."""
    match = _NLB.fullmatch(line)
    if match is None:
        return None
    (version, end, name, listener, _, client_ip, client_port, destination, connection_time, handshake_time,
     received, sent, tls_run, start, appended) = match.groups()
    if port_too_big(client_port):
        return None
    try:
        MINUTES[end[:16]]  # a time out of range is refused, as the general path refuses it
        if start is not None:
            MINUTES[start[:16]]
        backend = TARGETS[destination]
        connection_json, connection_ms = _CONNECTION_TIMES[connection_time]
        handshake_json = _HANDSHAKE_TIMES[handshake_time][0]
        tls_elb, domain, tls = _TLS_RUNS[tls_run]
    except LineFormatError:
        return None
    duration = ""
    if connection_ms is not None:  # as the general path: the connection time, in nanoseconds, rounded
        nanoseconds = round(connection_ms * 1_000_000)
        if nanoseconds >= 1 << 63:
            return None  # beyond orjson's integers: the general path's encoder writes it its own way
        duration = f',"duration":{nanoseconds}'
    start = f',"start":"{start}Z"' if start is not None else ""
    name = f',"name":"{name}"' if name != "-" else ""
    listener = f',"listener":"{listener}"' if listener != "-" else ""
    more = members({"additional_fields": split_fields(appended)}) if appended else ""
    return (f'{{"event":{{"kind":"event","module":"aws","dataset":"aws.elb","category":"network"{start},'
            f'"end":"{end}Z"{duration}}},"cloud":{{"provider":"aws"}},'
            f'"aws":{{"elb":{{"protocol":"tcp","type":"tls","version":"{version}"{name}{listener}{backend}'
            f'{connection_json}{handshake_json}{tls_elb}{more}}}{inside_aws}}},'
            f'"@timestamp":"{end}Z","source":{{"ip":"{client_ip}","port":{client_port},"bytes":{received}}},'
            f'"destination":{{"bytes":{sent}{domain}}}{tls}{after}}}')
