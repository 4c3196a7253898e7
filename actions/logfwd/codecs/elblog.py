"""Load-balancer access log lines (classic ELB, ALB, NLB TLS) as ECS documents, field by field.

Pure: a line in, a nested dict out, or ``LineFormatError`` naming the field that is wrong. The field
names are those of Filebeat's AWS module (``aws.elb`` fileset, whose ingest pipeline the Elastic
``aws.elb_logs`` integration shares), so its Kibana dashboards work on these documents as they are:
``source.ip``, ``http.request.method``, ``url.original``, ``aws.elb.backend.ip``, ``tls.version`` ...
A few fields Filebeat leaves out get names in the same places (``aws.elb.conn_trace_id``,
``event.duration`` in nanoseconds, NLB's ALPN fields); ``docs/pipelines/s3-elb.md`` has the table,
made from ``TABLES`` below.

The type comes from the line itself: classic ELB lines start with the time, NLB lines with ``tls``
and a version, ALB lines with their request type. AWS appends new fields at the end of ALB lines;
fields beyond the known ones are kept in ``aws.elb.additional_fields``. ALB files written before
AWS added the last fields (target lists, classification, conn_trace_id) parse too.
"""

from typing import Callable, NamedTuple
from urllib.parse import unquote

from ..errors import LineFormatError
from .elbtokens import absent, address, epoch_ns, integer, optional_integer, put, seconds, split_fields, timestamp

__all__ = ["parse_line", "is_control_line", "TABLES", "Field"]


class Field(NamedTuple):
    """One log field: its name in AWS's documentation, the document fields it fills, and how."""

    name: str
    targets: tuple[str, ...]
    put: Callable[[dict, str], None]
    in_elb: bool = False  # ``put`` takes the document's ``aws.elb`` object, not the document


_ELB = "aws.elb."


def _setter(target: str) -> Callable[[dict, object], None]:
    """A function that stores a value at the dotted ``target`` (below ``aws.elb`` for its fields),
    making inner objects as needed."""
    keys = target.removeprefix(_ELB).split(".")
    if len(keys) == 1:
        (key,) = keys

        def set1(doc: dict, value) -> None:
            doc[key] = value
        return set1
    if len(keys) == 2:
        outer, key = keys

        def set2(doc: dict, value) -> None:
            inner = doc.get(outer)
            if inner is None:
                doc[outer] = {key: value}
            else:
                inner[key] = value
        return set2
    path = tuple(keys)
    return lambda doc, value: put(doc, path, value)


def _text(name: str, target: str, decode: bool = False) -> Field:
    store = _setter(target)

    def put_text(doc: dict, value: str) -> None:
        if value != "-" and value:
            store(doc, unquote(value) if decode else value)
    return Field(name, (target,), put_text, target.startswith(_ELB))


def _list(name: str, target: str, separator: str) -> Field:
    store = _setter(target)

    def put_list(doc: dict, value: str) -> None:
        if value != "-" and value:
            store(doc, value.split(separator))
    return Field(name, (target,), put_list, target.startswith(_ELB))


def _number(name: str, target: str, parse: Callable[[str, str], object]) -> Field:
    store = _setter(target)

    def put_number(doc: dict, value: str) -> None:
        number = parse(name, value)
        if number is not None:
            store(doc, number)
    return Field(name, (target,), put_number, target.startswith(_ELB))


def _time(name: str, target: str) -> Field:
    store = _setter(target)
    return Field(name, (target,), lambda doc, value: store(doc, timestamp(name, value)), target.startswith(_ELB))


def _address(name: str, prefix: str, optional: bool) -> Field:
    store = _setter(prefix)

    def put_address(doc: dict, value: str) -> None:
        if optional and value == "-":
            return
        ip, port = address(name, value)
        store(doc, {"ip": ip, "port": port})
    return Field(name, (prefix + ".ip", prefix + ".port"), put_address, prefix.startswith(_ELB))


def _status(doc: dict, value: str) -> None:
    code = integer("elb_status_code", value)
    doc["http"]["response"] = {"status_code": code}
    doc["event"]["outcome"] = "success" if code < 400 else "failure"


def _request(doc: dict, value: str) -> None:
    """``METHOD scheme://host:port/path?query HTTP/x.y``; any part may be ``-``."""
    method, _, rest = value.partition(" ")
    target, _, version = rest.rpartition(" ")
    http = doc["http"]
    if not absent(method):
        http["request"]["method"] = method
    if version.startswith("HTTP/"):
        http["version"] = version[5:]
    if not absent(target):
        doc["url"] = _url(target)


def _url(original: str) -> dict:
    url = {"original": original}
    scheme, found, rest = original.partition("://")
    if not found:
        return url
    url["scheme"] = scheme
    authority, slash, path = rest.partition("/")
    host, colon, port = authority.rpartition(":") if not authority.endswith("]") else (authority, "", "")
    if not colon:
        host = authority
    url["domain"] = host.strip("[]")
    if port.isdigit():
        url["port"] = int(port)
    path, question, query = (slash + path).partition("?")
    url["path"] = path
    if question:
        url["query"] = query
    return url


def _tls_protocol(doc: dict, value: str) -> None:
    """``TLSv1.2`` (ALB, classic) or ``tlsv12`` (NLB): ``tls.version`` 1.2, ``tls.version_protocol`` tls."""
    if absent(value):
        return
    put(doc, ("aws", "elb", "ssl_protocol"), value)
    protocol, found, version = value.partition("v")
    if found and version.isdigit():
        version = version[0] + "." + (version[1:] or "0")
    if found and version:
        doc["tls"] = tls = doc.get("tls") or {}
        tls["version"] = version
        tls["version_protocol"] = protocol.lower()


def _tls_cipher(doc: dict, value: str) -> None:
    if not absent(value):
        put(doc, ("aws", "elb", "ssl_cipher"), value)
        put(doc, ("tls", "cipher"), value)


def _trace(doc: dict, value: str) -> None:
    if not absent(value):
        put(doc, ("aws", "elb", "trace_id"), value)
        doc["trace"] = {"id": value}


def _alpn_list(doc: dict, value: str) -> None:
    if not absent(value):  # written "h2","http/1.1", each URL-encoded
        put(doc, ("aws", "elb", "alpn_client_preference_list"), [unquote(item.strip('"')) for item in value.split(",")])


def _alpn_front(doc: dict, value: str) -> None:
    if not absent(value):
        put(doc, ("aws", "elb", "alpn_fe_protocol"), unquote(value))
        put(doc, ("tls", "next_protocol"), unquote(value))


def _ignored(name: str) -> Field:
    return Field(name, (), lambda doc, value: None)


def _rule_priority(name: str, value: str) -> int | None:
    return None if value == "-1" else optional_integer(name, value)


_SECONDS = ("request_processing_time", "backend_processing_time", "response_processing_time")
_COMMON_TIMES = tuple(_number(name, f"aws.elb.{name}.sec", seconds) for name in _SECONDS)
_TLS = (Field("ssl_cipher", ("aws.elb.ssl_cipher", "tls.cipher"), _tls_cipher),
        Field("ssl_protocol", ("aws.elb.ssl_protocol", "tls.version", "tls.version_protocol"), _tls_protocol))
_HTTP = (
    Field("elb_status_code", ("http.response.status_code", "event.outcome"), _status),
    _number("backend_status_code", "aws.elb.backend.http.response.status_code", optional_integer),
    _number("received_bytes", "http.request.body.bytes", integer),
    _number("sent_bytes", "http.response.body.bytes", integer),
    Field("request", ("http.request.method", "url.original", "url.scheme", "url.domain", "url.port", "url.path",
                      "url.query", "http.version"), _request),
    _text("user_agent", "user_agent.original"),
)
_CLASSIC_HEAD = (_time("timestamp", "@timestamp"), _text("elb", "aws.elb.name"),
                 _address("client:port", "source", False), _address("backend:port", "aws.elb.backend", True),
                 *_COMMON_TIMES)

CLASSIC_HTTP = (*_CLASSIC_HEAD, *_HTTP, *_TLS)
CLASSIC_TCP = (*_CLASSIC_HEAD,
               _ignored("elb_status_code"), _ignored("backend_status_code"),  # "-" on TCP/SSL listeners
               _number("received_bytes", "source.bytes", integer), _number("sent_bytes", "destination.bytes", integer),
               _ignored("request"), _ignored("user_agent"),  # "- - - " and "-" on TCP/SSL listeners
               *_TLS)
ALB = (
    _text("type", "aws.elb.type"), _time("time", "@timestamp"), _text("elb", "aws.elb.name"),
    _address("client:port", "source", False), _address("target:port", "aws.elb.backend", True),
    *_COMMON_TIMES, *_HTTP, *_TLS,
    _text("target_group_arn", "aws.elb.target_group.arn"),
    Field("trace_id", ("aws.elb.trace_id", "trace.id"), _trace),
    _text("domain_name", "destination.domain"),
    _text("chosen_cert_arn", "aws.elb.chosen_cert.arn"),
    _number("matched_rule_priority", "aws.elb.matched_rule_priority", _rule_priority),
    _time("request_creation_time", "event.start"),
    _list("actions_executed", "aws.elb.action_executed", ","),
    _text("redirect_url", "aws.elb.redirect_url"),
    _text("error_reason", "aws.elb.error.reason"),
    _list("target:port_list", "aws.elb.target_port", " "),
    _list("target_status_code_list", "aws.elb.target_status_code", " "),
    _text("classification", "aws.elb.classification"),
    _text("classification_reason", "aws.elb.classification_reason"),
    _text("conn_trace_id", "aws.elb.conn_trace_id"),
)
NLB = (
    _text("type", "aws.elb.type"), _text("version", "aws.elb.version"), _time("time", "@timestamp"),
    _text("elb", "aws.elb.name"), _text("listener", "aws.elb.listener"),
    _address("client:port", "source", False), _address("destination:port", "aws.elb.backend", True),
    _number("connection_time", "aws.elb.connection_time.ms", seconds),
    _number("tls_handshake_time", "aws.elb.tls_handshake_time.ms", seconds),
    _number("received_bytes", "source.bytes", integer), _number("sent_bytes", "destination.bytes", integer),
    _text("incoming_tls_alert", "aws.elb.incoming_tls_alert"),
    _text("chosen_cert_arn", "aws.elb.chosen_cert.arn"),
    _text("chosen_cert_serial", "aws.elb.chosen_cert.serial"),
    Field("tls_cipher", ("aws.elb.ssl_cipher", "tls.cipher"), _tls_cipher),
    Field("tls_protocol_version", ("aws.elb.ssl_protocol", "tls.version", "tls.version_protocol"), _tls_protocol),
    _text("tls_named_group", "aws.elb.ssl_named_group"),
    _text("domain_name", "destination.domain", decode=True),
    Field("alpn_fe_protocol", ("aws.elb.alpn_fe_protocol", "tls.next_protocol"), _alpn_front),
    _text("alpn_be_protocol", "aws.elb.alpn_be_protocol", decode=True),
    Field("alpn_client_preference_list", ("aws.elb.alpn_client_preference_list",), _alpn_list),
    _time("tls_connection_creation_time", "event.start"),
)
# Name -> (fields, how many a line needs at least). Older ALB files end after error_reason; the
# 2020 NLB documentation lists 21 fields, later files add tls_connection_creation_time.
TABLES = {"classic ELB (HTTP/HTTPS listeners)": (CLASSIC_HTTP, 15), "classic ELB (TCP/SSL listeners)": (CLASSIC_TCP, 15),
          "ALB": (ALB, 25), "NLB (TLS listeners)": (NLB, 21)}

_CONTROL_PREFIX = "Enable AccessLog for ELB:"


def is_control_line(line: str) -> bool:
    """The line ALB writes into a file when logging is switched on: not an access, nothing to parse."""
    return line.startswith(_CONTROL_PREFIX)


def parse_line(line: str) -> dict:
    """The ECS document of one access log line (without ``\\n``); ``LineFormatError`` if it is not one."""
    fields = split_fields(line)
    if not fields:
        raise LineFormatError("the line is empty")
    first = fields[0]
    if first[:1].isdigit():
        table, minimum = (CLASSIC_TCP, 15) if len(fields) > 7 and fields[7] == "-" else (CLASSIC_HTTP, 15)
        protocol = "tcp" if table is CLASSIC_TCP else "http"
    elif first == "tls" and len(fields) > 1 and fields[1][:1].isdigit():
        table, minimum, protocol = NLB, 21, "tcp"
    else:
        table, minimum, protocol = ALB, 25, "http"
    if len(fields) < minimum:
        raise LineFormatError(f"{len(fields)} fields, a {_kind(table)} line has at least {minimum}")
    doc = {"event": {"kind": "event", "module": "aws", "dataset": "aws.elb",
                     "category": "web" if protocol == "http" else "network"},
           "cloud": {"provider": "aws"}, "aws": {"elb": {"protocol": protocol}}}
    if table is not CLASSIC_TCP and table is not NLB:
        doc["http"] = {"request": {}}
    elb = doc["aws"]["elb"]
    for spec, value in zip(table, fields):
        spec.put(elb if spec.in_elb else doc, value)
    if len(fields) > len(table):
        doc["aws"]["elb"]["additional_fields"] = fields[len(table):]
    if table is not CLASSIC_TCP and table is not NLB and not doc["http"]["request"]:
        del doc["http"]["request"]
    _finish(doc, table)
    return doc


def _finish(doc: dict, table: tuple[Field, ...]) -> None:
    """``event.end`` and ``event.duration`` (ns): ALB from its two times, classic ELB from the three
    processing times when all apply, NLB from its connection time."""
    event, elb = doc["event"], doc["aws"]["elb"]
    event["end"] = doc["@timestamp"]
    duration = None
    if table is ALB:
        duration = epoch_ns(doc["@timestamp"]) - epoch_ns(event["start"])
    elif table is NLB:
        if "connection_time" in elb:
            duration = round(elb["connection_time"]["ms"] * 1_000_000)
    else:
        times = [elb[name]["sec"] for name in _SECONDS if name in elb]
        if len(times) == 3:
            duration = round(sum(times) * 1_000_000_000)
    if duration is not None and duration >= 0:
        event["duration"] = duration


def _kind(table: tuple[Field, ...]) -> str:
    return next(name for name, (fields, _) in TABLES.items() if fields is table)
