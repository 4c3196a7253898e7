"""ALB access log lines written straight as the JSON of their documents: the fast path of the JSON sinks.

Why: making the nested dict of an ALB line (about 45 values in 15 objects) and then encoding it cost
25 µs a line, most of the forwarder's CPU. Here one precompiled pattern checks and captures the 30
fields in one scan in C, and the JSON is written as text from the captures. Runs of fields whose
values repeat line after line (TLS and target group; domain, certificate and rule; the actions, lists
and classification; target and status codes; each processing time) are turned into JSON once per
distinct value, by the general path's own functions and encoder, and kept (``_Memo``).

The result is exactly ``dumps(parse_line(line))``, byte for byte: tests/test_elbjson.py compares the two
over every line the parser tests use, the benchmark's lines and thousands of variants. The pattern takes
only lines it can write without doubt; any other line (another type, an older or odd layout, a leading
zero, a backslash escape other than ``\\"`` and ``\\\\``, a control character) gets ``None``, and the
caller takes the general path, which also names what is wrong with a bad line.

Why captured text needs no escaping: a plain field holds only printable ASCII but quotes and backslashes,
and a quoted field's content no control character and only the escapes ``\\"`` and ``\\\\``, which are
also JSON's. orjson escapes nothing else (not U+2028) and writes other characters as UTF-8, as
``str.encode`` does (a lone surrogate, which it refuses, is left to the general path).
"""

import re

from ..errors import LineFormatError
from .elbfields import put_tls_cipher, put_tls_protocol, rule_priority, url_document
from .elbtokens import address, epoch_ns, optional_integer, integer, seconds, split_fields
from .jsonbytes import dumps

__all__ = ["alb_json"]

# Classes of the characters a field may hold, written as ranges: re's engine checks a character
# against a few ranges twice as fast as against a negated set (measured). Anything else (a control
# character, DEL, non-ASCII outside quotes) leaves the line to the general path.
_PLAIN = r"!#-\[\]-~"                        # printable ASCII but space, quote and backslash
_P = rf"[{_PLAIN}]+"                          # a plain field
_IN_QUOTES = rf"[ {_PLAIN}\x80-\ud7ff\ue000-\U0010ffff]*"  # in quotes: also spaces, non-ASCII but surrogates
_Q = rf'"{_IN_QUOTES}(?:\\["\\]{_IN_QUOTES})*"'        # a quoted field, quotes included: only \" and \\ escapes
_QC = rf'"({_IN_QUOTES}(?:\\["\\]{_IN_QUOTES})*)"'     # a quoted field, its content captured
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z"
_COUNT = r"0|[1-9][0-9]{0,17}"                # as JSON writes it: no leading zero, < 2**63
_PORT = r"0|[1-9][0-9]{0,4}"
_URL = r"[!#-.0-\[\]-~]"                      # a character of a plain field but "/"

_ALB = re.compile(
    rf"(-|(?!tls )[a-z][a-z0-9]*) ({_TIME}) ({_P}) "   # type (a classic line starts with a digit, NLB's with tls), time, elb
    rf"(\[)?([0-9a-fA-F.:%]+)(?(4)\]):({_PORT}) ({_P}) "                    # client:port target:port
    rf"({_P}) ({_P}) ({_P}) "                                               # the three processing times
    rf"([0-9]+ (?:[0-9]+|-)) ({_COUNT}) ({_COUNT}) "                        # status codes, bytes
    rf'"({_P}) ({_URL}*//{_URL}*)((?:/[{_PLAIN}]*)?) HTTP/({_URL}*)" '       # METHOD scheme://host[/path] HTTP/v
    rf"{_QC} ({_P} {_P} {_P}) {_QC} "                                        # user agent; TLS, group; trace
    rf"({_Q} {_Q} {_P}) ({_TIME}) "                                         # domain cert rule; creation time
    rf"({_Q} {_Q} {_Q} {_Q} {_Q} {_Q} {_Q}) ({_P})"                          # actions ... reason; conn_trace_id
    rf"(?: (.*))?")                                                         # fields AWS appends later


class _Memo(dict):
    """A value's JSON fragment, made by ``make`` the first time the value is seen (at most 4,096 kept).
    A value ``make`` rejects raises ``LineFormatError`` every time: nothing wrong is kept."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key: str):
        made = self.make(key)
        if len(self) >= 4096:
            self.clear()
        self[key] = made
        return made


def _members(obj: dict) -> str:
    """``obj``'s members as JSON text after a comma (``,"a":1,"b":2``), or nothing."""
    return "," + dumps(obj)[1:-1].decode() if obj else ""


def _seconds(name: str):
    def make(value: str) -> str:
        number = seconds(name, value)
        return "" if number is None else f',"{name}":{{"sec":{dumps(number).decode()}}}'
    return _Memo(make)


def _backend(key: str) -> tuple[str, str, str, str]:
    """``target statuses`` -> (``aws.elb.backend`` member before the processing times, the same after
    them, elb status code, outcome): alb_document adds a backend without a target after the times."""
    target, status, backend_status = key.split(" ")
    code = integer("elb_status_code", status)
    backend = {}
    if target != "-":
        backend["ip"], backend["port"] = address("target:port", target)
    backend_code = optional_integer("backend_status_code", backend_status)
    if backend_code is not None:
        backend["http"] = {"response": {"status_code": backend_code}}
    member = _members({"backend": backend} if backend else {})
    before, after = (member, "") if target != "-" else ("", member)
    return before, after, dumps(code).decode(), "success" if code < 400 else "failure"


def _tls(run: str) -> tuple[str, str]:
    """``cipher protocol target_group_arn`` -> (their ``aws.elb`` members, the ``tls`` member)."""
    cipher, protocol, group = run.split(" ")
    doc: dict = {"aws": {"elb": {}}}
    put_tls_cipher(doc, cipher)
    put_tls_protocol(doc, protocol)
    elb = doc["aws"]["elb"]
    if group != "-":
        elb["target_group"] = {"arn": group}
    return _members(elb), _members({"tls": doc["tls"]} if "tls" in doc else {})


def _destination(run: str) -> tuple[str, str]:
    """``"domain" "cert" rule`` -> (their ``aws.elb`` members, the ``destination`` member)."""
    domain, cert, rule = split_fields(run)
    elb: dict = {}
    if cert != "-" and cert:
        elb["chosen_cert"] = {"arn": cert}
    priority = rule_priority("matched_rule_priority", rule)
    if priority is not None:
        elb["matched_rule_priority"] = priority
    return _members(elb), _members({"destination": {"domain": domain}} if domain != "-" and domain else {})


def _origin(origin: str) -> str:
    """``scheme://host[:port]`` -> its ``url`` members after ``original``, as ``url_document`` makes them;
    ``LineFormatError`` for a URL without a scheme (left to the general path)."""
    url = url_document(origin)
    if "scheme" not in url:
        raise LineFormatError("no scheme")
    del url["original"], url["path"]
    return _members(url)


def _minute_ns(minute: str) -> int:
    return epoch_ns(minute + ":00Z")


_ACTIONS = (("action_executed", ","), ("redirect_url", None), ("error", None), ("target_port", " "),
            ("target_status_code", " "), ("classification", None), ("classification_reason", None))


def _actions(run: str) -> str:
    """The seven quoted fields from actions_executed to classification_reason -> their ``aws.elb`` members."""
    elb: dict = {}
    for (key, separator), value in zip(_ACTIONS, split_fields(run)):
        if value != "-" and value:
            elb[key] = {"reason": value} if key == "error" else value.split(separator) if separator else value
    return _members(elb)


_REQUEST_TIMES = _seconds("request_processing_time")
_BACKEND_TIMES = _seconds("backend_processing_time")
_RESPONSE_TIMES = _seconds("response_processing_time")
_BACKENDS = _Memo(_backend)
_TLS_RUNS = _Memo(_tls)
_DESTINATIONS = _Memo(_destination)
_ACTION_RUNS = _Memo(_actions)
_ORIGINS = _Memo(_origin)
_MINUTES = _Memo(_minute_ns)


def alb_json(line: str, inside_aws: str = "", after: str = "") -> str | None:
    """The JSON of ``parse_line(line)``'s document, with ``inside_aws`` (members such as ``,"s3":{...}``)
    added at the end of its ``aws`` object and ``after`` at the end of the document; ``None`` for a line
    this path does not take (then use ``parse_line``)."""
    match = _ALB.fullmatch(line)
    if match is None:
        return None
    (kind, end, name, _, client_ip, client_port, target, request_time, backend_time, response_time, statuses,
     received, sent, method, origin, path, version, agent, tls_run, trace, domain_run, start, action_run,
     conn_trace_id, appended) = match.groups()
    if len(client_port) == 5 and client_port > "65535":
        return None
    try:
        backend, backend_after, status, outcome = _BACKENDS[target + " " + statuses]
        tls_elb, tls = _TLS_RUNS[tls_run]
        destination_elb, destination = _DESTINATIONS[domain_run]
        url = _ORIGINS[origin]
        # epoch_ns(end) - epoch_ns(start), inline: the minutes looked up, the rest read as nanoseconds
        duration = (_MINUTES[end[:16]] - _MINUTES[start[:16]] + int(end[17:19] + end[20:-1].ljust(9, "0"))
                    - int(start[17:19] + start[20:-1].ljust(9, "0")))
        times = _REQUEST_TIMES[request_time] + _BACKEND_TIMES[backend_time] + _RESPONSE_TIMES[response_time]
    except LineFormatError:
        return None
    # Every optional member is made first, then the document in one string: appending to a growing
    # string copied it again and again.
    path, question, query_text = path.partition("?")
    traced = trace != "-" and trace != ""
    duration = f',"duration":{duration}' if duration >= 0 else ""
    kind = f',"type":"{kind}"' if kind != "-" else ""
    name = f',"name":"{name}"' if name != "-" else ""
    trace_id = f',"trace_id":"{trace}"' if traced else ""
    conn_trace_id = f',"conn_trace_id":"{conn_trace_id}"' if conn_trace_id != "-" else ""
    more = _members({"additional_fields": split_fields(appended)}) if appended else ""
    method = f',"method":"{method}"' if method != "-" else ""
    query = f',"query":"{query_text}"' if question else ""
    agent = f',"user_agent":{{"original":"{agent}"}}' if agent != "-" and agent else ""
    trace = f',"trace":{{"id":"{trace}"}}' if traced else ""
    return (f'{{"event":{{"kind":"event","module":"aws","dataset":"aws.elb","category":"web","outcome":"{outcome}",'
            f'"start":"{start}","end":"{end}"{duration}}},"cloud":{{"provider":"aws"}},'
            f'"aws":{{"elb":{{"protocol":"http"{kind}{name}{backend}{times}{backend_after}{tls_elb}{trace_id}'
            f'{destination_elb}{_ACTION_RUNS[action_run]}{conn_trace_id}{more}}}{inside_aws}}},'
            f'"http":{{"request":{{"body":{{"bytes":{received}}}{method}}},'
            f'"response":{{"status_code":{status},"body":{{"bytes":{sent}}}}},"version":"{version}"}},'
            f'"@timestamp":"{end}","source":{{"ip":"{client_ip}","port":{client_port}}},'
            f'"url":{{"original":"{origin}{path}{question}{query_text}"{url},"path":"{path}"{query}}}'
            f'{agent}{tls}{trace}{destination}{after}}}')
