"""Classic ELB access log lines written straight as the JSON of their documents: the JSON sinks' fast
path for them, as ``elbjson.py``'s for ALB lines (why, and why captured text needs no escaping, are
said there and in ``elbjsonparts.py``).

One pattern takes both kinds of listener: HTTP/HTTPS lines (status codes, request, user agent) and
TCP/SSL lines (``- -`` for the status codes, ``"- - - " "-"`` for request and user agent, as AWS
writes them). The result is exactly ``dumps(parse_line(line))``: tests/test_elbjson.py compares them.
Any line the pattern does not take, or with a value the general path refuses (a month out of 1..12,
a port above 65535), gets ``None``: the caller takes the general path.
"""

import re

from ..errors import LineFormatError
from .elbjsonparts import (BACKENDS, CLIENT, COUNT, LOOSE, MINUTES, P, QC, REQUEST, STATUSES, TARGETS, TIME, TLS_RUNS,
                           members, port_too_big, seconds_memo, url_json)
from .elbtokens import split_fields

__all__ = ["classic_json"]

_CLASSIC = re.compile(
    rf"({TIME}) ({P}) {CLIENT.format(3)} ({P}) ({P}) ({P}) ({P}) "  # time elb client:port backend:port, the times
    rf"(?:{STATUSES} ({COUNT}) ({COUNT}) {REQUEST} {QC}"  # HTTP: status codes, bytes, request, agent
    rf'|- - ({COUNT}) ({COUNT}) "- - - " "-")'                      # TCP: bytes
    rf" ({LOOSE} {LOOSE})"                                          # cipher protocol (checked in TLS_RUNS)
    rf"(?: (.*))?")                                                 # fields beyond the documented ones

_REQUEST_TIMES = seconds_memo("request_processing_time")
_BACKEND_TIMES = seconds_memo("backend_processing_time")
_RESPONSE_TIMES = seconds_memo("response_processing_time")


def classic_json(line: str, inside_aws: str = "", after: str = "") -> str | None:
    """The JSON of ``parse_line(line)``'s document for a classic ELB line, with ``inside_aws`` and
    ``after`` as ``alb_json`` adds them; ``None`` for a line this path does not take."""
    match = _CLASSIC.fullmatch(line)
    if match is None:
        return None
    (end, name, _, client_ip, client_port, target, request_time, backend_time, response_time, statuses,
     received, sent, method, url, origin, path, query, version, agent, tcp_received, tcp_sent, tls_run, appended) = match.groups()
    if port_too_big(client_port):
        return None
    try:
        MINUTES[end[:16]]  # a month out of 1..12 is refused, as the general path refuses it
        request_json, request_seconds = _REQUEST_TIMES[request_time]
        backend_json, backend_seconds = _BACKEND_TIMES[backend_time]
        response_json, response_seconds = _RESPONSE_TIMES[response_time]
        tls_elb, tls = TLS_RUNS[tls_run]
        if statuses is not None:
            backend, backend_after, status, outcome = BACKENDS[target + " " + statuses]
            url = url_json(url, origin, path, query)
        else:
            backend = TARGETS[target]
    except LineFormatError:
        return None
    duration = ""
    if request_seconds is not None and backend_seconds is not None and response_seconds is not None:
        # as the general path: the sum of the three in this order, in nanoseconds, rounded
        nanoseconds = round(sum((request_seconds, backend_seconds, response_seconds)) * 1_000_000_000)
        if nanoseconds >= 1 << 63:
            return None  # beyond orjson's integers: the general path's encoder writes it its own way
        duration = f',"duration":{nanoseconds}'
    name = f',"name":"{name}"' if name != "-" else ""
    times = request_json + backend_json + response_json
    more = members({"additional_fields": split_fields(appended)}) if appended else ""
    head = '{"event":{"kind":"event","module":"aws","dataset":"aws.elb","category":'
    if statuses is None:
        return (f'{head}"network","end":"{end}"{duration}}},"cloud":{{"provider":"aws"}},'
                f'"aws":{{"elb":{{"protocol":"tcp"{name}{backend}{times}{tls_elb}{more}}}{inside_aws}}},'
                f'"@timestamp":"{end}","source":{{"ip":"{client_ip}","port":{client_port},"bytes":{tcp_received}}},'
                f'"destination":{{"bytes":{tcp_sent}}}{tls}{after}}}')
    method = f',"method":"{method}"' if method != "-" else ""
    agent = f',"user_agent":{{"original":"{agent}"}}' if agent != "-" and agent else ""
    return (f'{head}"web","outcome":"{outcome}","end":"{end}"{duration}}},"cloud":{{"provider":"aws"}},'
            f'"aws":{{"elb":{{"protocol":"http"{name}{backend}{times}{backend_after}{tls_elb}{more}}}{inside_aws}}},'
            f'"http":{{"request":{{"body":{{"bytes":{received}}}{method}}},'
            f'"response":{{"status_code":{status},"body":{{"bytes":{sent}}}}},"version":"{version}"}},'
            f'"@timestamp":"{end}","source":{{"ip":"{client_ip}","port":{client_port}}}'
            f'{url}{agent}{tls}{after}}}')
