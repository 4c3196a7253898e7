"""Load-balancer access log lines written straight as the JSON of their documents: the fast path of the
JSON sinks. ``json_writer`` picks the writer of a unit's lines by the type of its first line (the rule
``parse_line`` uses), so a line only ever tries its own type's pattern: ``alb_json`` writes ALB lines,
``classic_json`` (``elbclassicjson.py``) classic ELB lines, ``nlb_json`` (``elbnlbjson.py``) NLB lines.

Why: making the nested dict of an ALB line (about 45 values in 15 objects) and then encoding it cost
25 µs a line, most of the forwarder's CPU. Here one precompiled pattern checks and captures the 30
fields in one scan in C, and the JSON is written as text from the captures. Runs of fields whose
values repeat line after line (TLS and target group; domain, certificate and rule; the actions, lists
and classification; target and status codes; each processing time) are turned into JSON once per
distinct value, by the general path's own functions and encoder, and kept (``Memo``).

The result is exactly ``dumps(parse_line(line))``, byte for byte: tests/test_elbjson.py compares the two
over every line the parser tests use, the benchmark's lines and thousands of variants. The pattern takes
only lines it can write without doubt; any other line (an older or odd layout, a leading zero, a
backslash escape other than ``\\"`` and ``\\\\``, a control character) gets ``None``, and the caller
takes the general path, which also names what is wrong with a bad line.
"""

import re

from ..errors import LineFormatError
from .elbclassicjson import classic_json
from .elbnlbjson import nlb_json
from .elbfields import rule_priority
from .elbjsonparts import (BACKENDS, CLIENT, COUNT, LOOSE, LOOSE_Q, MINUTES, NS_SCALE, P, Q, QC, REQUEST, STATUSES, TIME,
                           TLS_RUNS, Memo, checked, members, seconds_memo, url_json)
from .elbtokens import split_fields

__all__ = ["json_writer", "alb_json"]


def json_writer(line: str):
    """The writer of lines of ``line``'s type, by the rule ``parse_line`` uses: ``classic_json`` for a
    line that starts with its time, ``nlb_json`` for NLB's (``tls`` and a version), ``alb_json`` for any
    other. Asked once per unit (AWS writes one type per object), so that a line never tries a pattern of
    another type; a line the writer refuses takes the general path."""
    if line[:1].isdigit():
        return classic_json
    if line.startswith("tls ") and line[4:5].isdigit():
        return nlb_json
    return alb_json


# Runs whose JSON is memoized (elb, target, TLS and group, domain cert rule, actions ... reason) are
# taken loosely (LOOSE, LOOSE_Q) and checked in their memo: 21% fewer instructions to match (measured).
_ALB = re.compile(
    # type (a classic line starts with a digit, an NLB line with tls), time, elb
    rf"(-|(?!tls )[a-z][a-z0-9]*) ({TIME}) ({LOOSE}) "
    rf"{CLIENT.format(4)} ({LOOSE}) "                                      # client:port target:port
    rf"({P}) ({P}) ({P}) "                                                 # the three processing times
    rf"{STATUSES} ({COUNT}) ({COUNT}) "                                    # status codes, bytes
    rf"{REQUEST} "                                                         # METHOD scheme://host[/path] HTTP/v
    rf"{QC} ({LOOSE} {LOOSE} {LOOSE}) {QC} "                               # user agent; TLS, group; trace
    rf"({LOOSE_Q} {LOOSE_Q} {LOOSE}) ({TIME}) "                            # domain cert rule; creation time
    rf"({LOOSE_Q} {LOOSE_Q} {LOOSE_Q} {LOOSE_Q} {LOOSE_Q} {LOOSE_Q} {LOOSE_Q}) ({P})"  # actions ... reason; conn_trace_id
    rf"(?: (.*))?")                                                        # fields AWS appends later


def _destination(run: str) -> tuple[str, str]:
    """``"domain" "cert" rule`` -> (their ``aws.elb`` members, the ``destination`` member)."""
    domain, cert, rule = split_fields(run)
    elb: dict = {}
    if cert != "-" and cert:
        elb["chosen_cert"] = {"arn": cert}
    priority = rule_priority("matched_rule_priority", rule)
    if priority is not None:
        elb["matched_rule_priority"] = priority
    return members(elb), members({"destination": {"domain": domain}} if domain != "-" and domain else {})


_ACTIONS = (("action_executed", ","), ("redirect_url", None), ("error", None), ("target_port", " "),
            ("target_status_code", " "), ("classification", None), ("classification_reason", None))


def _actions(run: str) -> str:
    """The seven quoted fields from actions_executed to classification_reason -> their ``aws.elb`` members."""
    elb: dict = {}
    for (key, separator), value in zip(_ACTIONS, split_fields(run)):
        if value != "-" and value:
            elb[key] = {"reason": value} if key == "error" else value.split(separator) if separator else value
    return members(elb)


_REQUEST_TIMES = seconds_memo("request_processing_time")
_BACKEND_TIMES = seconds_memo("backend_processing_time")
_RESPONSE_TIMES = seconds_memo("response_processing_time")
_DESTINATIONS = Memo(checked(rf"{Q} {Q} {P}", _destination))
_ACTION_RUNS = Memo(checked(" ".join([Q] * 7), _actions))
_NAMES = Memo(checked(P, lambda name: f',"name":"{name}"' if name != "-" else ""))  # "elb" -> its member


def alb_json(line: str, inside_aws: str = "", after: str = "") -> str | None:
    """The JSON of ``parse_line(line)``'s document, with ``inside_aws`` (members such as ``,"s3":{...}``)
    added at the end of its ``aws`` object and ``after`` at the end of the document; ``None`` for a line
    this path does not take (then use ``parse_line``)."""
    match = _ALB.fullmatch(line)
    if match is None:
        return None
    (kind, end, name, _, client_ip, client_port, target, request_time, backend_time, response_time, statuses,
     received, sent, method, url, origin, path, query, version, agent, tls_run, trace, domain_run, start, action_run,
     conn_trace_id, appended) = match.groups()
    if len(client_port) == 5 and client_port > "65535":  # (port_too_big, without a call a line)
        return None
    try:
        backend, backend_after, status, outcome = BACKENDS[target + " " + statuses]
        name = _NAMES[name]
        tls_elb, tls = TLS_RUNS[tls_run]
        destination_elb, destination = _DESTINATIONS[domain_run]
        actions = _ACTION_RUNS[action_run]
        url = url_json(url, origin, path, query)
        # epoch_ns(end) - epoch_ns(start), inline: the minutes looked up, the seconds and their fraction
        # read as one number and scaled by the fraction's length (known from the time's)
        duration = (MINUTES[end[:16]] - MINUTES[start[:16]] + int(end[17:19] + end[20:-1]) * NS_SCALE[len(end)]
                    - int(start[17:19] + start[20:-1]) * NS_SCALE[len(start)])
        times = _REQUEST_TIMES[request_time][0] + _BACKEND_TIMES[backend_time][0] + _RESPONSE_TIMES[response_time][0]
    except LineFormatError:
        return None
    # Every optional member is made first, then the document in one string: appending to a growing
    # string copied it again and again.
    traced = trace != "-" and trace != ""
    duration = f',"duration":{duration}' if duration >= 0 else ""
    kind = f',"type":"{kind}"' if kind != "-" else ""
    trace_id = f',"trace_id":"{trace}"' if traced else ""
    conn_trace_id = f',"conn_trace_id":"{conn_trace_id}"' if conn_trace_id != "-" else ""
    more = members({"additional_fields": split_fields(appended)}) if appended else ""
    method = f',"method":"{method}"' if method != "-" else ""
    agent = f',"user_agent":{{"original":"{agent}"}}' if agent != "-" and agent else ""
    trace = f',"trace":{{"id":"{trace}"}}' if traced else ""
    return (f'{{"event":{{"kind":"event","module":"aws","dataset":"aws.elb","category":"web","outcome":"{outcome}",'
            f'"start":"{start}","end":"{end}"{duration}}},"cloud":{{"provider":"aws"}},'
            f'"aws":{{"elb":{{"protocol":"http"{kind}{name}{backend}{times}{backend_after}{tls_elb}{trace_id}'
            f'{destination_elb}{actions}{conn_trace_id}{more}}}{inside_aws}}},'
            f'"http":{{"request":{{"body":{{"bytes":{received}}}{method}}},'
            f'"response":{{"status_code":{status},"body":{{"bytes":{sent}}}}},"version":"{version}"}},'
            f'"@timestamp":"{end}","source":{{"ip":"{client_ip}","port":{client_port}}}'
            f'{url}{agent}{tls}{trace}{destination}{after}}}')
