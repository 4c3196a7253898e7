"""The pieces the load-balancer lines' JSON fast paths (``elbjson.py`` for ALB, ``elbclassicjson.py``
for classic ELB) are made of: the patterns of their fields, and the memos that turn a field's value
into its JSON fragment once per distinct value, by the general path's own functions and encoder.

Why captured text needs no escaping: a plain field holds only printable ASCII but quotes and backslashes,
and a quoted field's content no control character and only the escapes ``\\"`` and ``\\\\``, which are
also JSON's. orjson escapes nothing else (not U+2028) and writes other characters as UTF-8, as
``str.encode`` does (a lone surrogate, which it refuses, is left to the general path).
"""

import re

from ..errors import LineFormatError
from .elbfields import put_tls_cipher, put_tls_protocol, url_document
from .elbtokens import address, epoch_ns, integer, optional_integer, seconds
from .jsonbytes import dumps

# Classes of the characters a field may hold, written as ranges: re's engine checks a character
# against a few ranges twice as fast as against a negated set (measured). Anything else (a control
# character, DEL, non-ASCII outside quotes) leaves the line to the general path.
PLAIN = r"!#-\[\]-~"                        # printable ASCII but space, quote and backslash
P = rf"[{PLAIN}]+"                          # a plain field
_IN_QUOTES = rf"[ {PLAIN}\x80-\ud7ff\ue000-\U0010ffff]*"  # in quotes: also spaces, non-ASCII but surrogates
Q = rf'"{_IN_QUOTES}(?:\\["\\]{_IN_QUOTES})*"'        # a quoted field, quotes included: only \" and \\ escapes
QC = rf'"({_IN_QUOTES}(?:\\["\\]{_IN_QUOTES})*)"'     # a quoted field, its content captured
CLOCK = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](?:\.[0-9]{1,9})?"  # seconds as timestamp() takes them
TIME = CLOCK + "Z"
# A TIME's length -> what its seconds and fraction, read as one number, are multiplied by to make
# nanoseconds: "...:07Z" (20 characters) by 10**9, "...:07.5Z" by 10**8, ... "...:07.123456789Z" by 1
NS_SCALE = {20: 10**9, **{21 + digits: 10**(9 - digits) for digits in range(1, 10)}}
COUNT = r"0|[1-9][0-9]{0,17}"                # as JSON writes it: no leading zero, < 2**63
STATUSES = r"([0-9]{1,18} (?:[0-9]{1,18}|-))"   # elb and backend status codes: < 2**63, as orjson writes them
# [ip]:port or ip:port; formatted with the number of the "[" group
CLIENT = r"(\[)?([0-9a-fA-F.:%]+)(?({})\]):(0|[1-9][0-9]{{0,4}})"
_URL = r"[!#-.0-\[\]-~]"                     # a character of a plain field but "/"
_PATH = r"[!#->@-\[\]-~]"                    # a character of a plain field but "?"
# "METHOD scheme://host[/path][?query] HTTP/v": method, the URL, its origin, path and query (None
# without a "?": the path ends at the first one, as url_document splits it), version
REQUEST = rf'"({P}) (({_URL}*//{_URL}*)((?:/{_PATH}*)?)(?:\?([{PLAIN}]*))?) HTTP/({_URL}*)"'


# Loose patterns, for the runs of fields whose JSON is memoized: re scans "[^ ]" (one character
# compared) about 3x faster than a class of ranges, and such a run is checked against its strict
# pattern once per distinct value, in the memo (``checked``). The fields around it stay strict, so
# a line the loose pattern takes, with every run checked, is one the strict pattern takes the same way.
LOOSE = r"[^ ]+"        # a plain field, loosely
LOOSE_Q = r'"[^"]*"'    # a quoted field, loosely (its quotes included)


def checked(strict: str, make):
    """``make``, first checking its value (a run the line's pattern took loosely) against ``strict``:
    ``LineFormatError`` (the line takes the general path) if it does not match."""
    pattern = re.compile(strict)

    def make_checked(value: str):
        if pattern.fullmatch(value) is None:
            raise LineFormatError("not in the fast path's shape")
        return make(value)
    return make_checked


def port_too_big(port: str) -> bool:
    """Whether a port of up to 5 digits (as CLIENT takes it) is above 65535."""
    return len(port) == 5 and port > "65535"


class Memo(dict):
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


def members(obj: dict) -> str:
    """``obj``'s members as JSON text after a comma (``,"a":1,"b":2``), or nothing."""
    return "," + dumps(obj)[1:-1].decode() if obj else ""


def seconds_memo(name: str, unit: str = "sec") -> Memo:
    """A processing (or NLB's connection) time -> (its ``aws.elb`` member or nothing, its number or ``None``)."""
    def make(value: str) -> tuple[str, float | None]:
        number = seconds(name, value)
        return ("" if number is None else f',"{name}":{{"{unit}":{dumps(number).decode()}}}'), number
    return Memo(make)


def _backend(key: str) -> tuple[str, str, str, str]:
    """``target statuses`` -> (``aws.elb.backend`` member before the processing times, the same after
    them, elb status code, outcome): the general path adds a backend without a target after the times."""
    target, status, backend_status = key.split(" ")
    code = integer("elb_status_code", status)
    backend = {}
    if target != "-":
        backend["ip"], backend["port"] = address("target:port", target)
    backend_code = optional_integer("backend_status_code", backend_status)
    if backend_code is not None:
        backend["http"] = {"response": {"status_code": backend_code}}
    member = members({"backend": backend} if backend else {})
    before, after = (member, "") if target != "-" else ("", member)
    return before, after, dumps(code).decode(), "success" if code < 400 else "failure"


def _target(target: str) -> str:
    """``ip:port`` or ``-`` -> its ``aws.elb.backend`` member, or nothing."""
    if target == "-":
        return ""
    ip, port = address("target:port", target)
    return members({"backend": {"ip": ip, "port": port}})


def _tls(run: str) -> tuple[str, str]:
    """``cipher protocol [target_group_arn]`` -> (their ``aws.elb`` members, the ``tls`` member)."""
    cipher, protocol, *group = run.split(" ")
    doc: dict = {"aws": {"elb": {}}}
    put_tls_cipher(doc, cipher)
    put_tls_protocol(doc, protocol)
    elb = doc["aws"]["elb"]
    if group and group[0] != "-":
        elb["target_group"] = {"arn": group[0]}
    return members(elb), members({"tls": doc["tls"]} if "tls" in doc else {})


def _origin(origin: str) -> str:
    """``scheme://host[:port]`` -> its ``url`` members after ``original``, as ``url_document`` makes them;
    ``LineFormatError`` for a URL without a scheme (left to the general path)."""
    url = url_document(origin)
    if "scheme" not in url:
        raise LineFormatError("no scheme")
    del url["original"], url["path"]
    return members(url)


def _minute_ns(minute: str) -> int:
    return epoch_ns(minute + ":00Z")  # LineFormatError for a month, day, hour or minute out of range, as the general path


BACKENDS = Memo(_backend)          # "target status backend_status" (ALB, classic HTTP)
TARGETS = Memo(_target)            # "target" (classic TCP)
TLS_RUNS = Memo(checked(rf"{P} {P}(?: {P})?", _tls))  # "cipher protocol [group]", loosely taken
ORIGINS = Memo(_origin)            # "scheme://host[:port]"
MINUTES = Memo(_minute_ns)         # "YYYY-MM-DDTHH:MM" -> epoch ns of the minute


def url_json(url: str, origin: str, path: str, query: str | None) -> str:
    """The ``url`` member (after a comma) of a request's URL, as ``url_document`` makes it, from the
    parts REQUEST captures."""
    query = f',"query":"{query}"' if query is not None else ""
    return f',"url":{{"original":"{url}"{ORIGINS[origin]},"path":"{path}"{query}}}'
