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

from ..errors import LineFormatError
from .elbalb import ALB_FIELDS, alb_document
from .elbfields import (Field, address_field, ignored_field, list_field, number_field, put_alpn_front,
                        put_alpn_list, put_request, put_status, put_tls_cipher, put_tls_protocol, put_trace,
                        rule_priority, text_field, time_field)
from .elbtokens import epoch_ns, integer, optional_integer, layout, seconds, split_by

__all__ = ["parse_line", "is_control_line", "CONTROL_PREFIX", "TABLES", "Field"]


_SECONDS = ("request_processing_time", "backend_processing_time", "response_processing_time")
_COMMON_TIMES = tuple(number_field(name, f"aws.elb.{name}.sec", seconds) for name in _SECONDS)
_TLS = (Field("ssl_cipher", ("aws.elb.ssl_cipher", "tls.cipher"), put_tls_cipher),
        Field("ssl_protocol", ("aws.elb.ssl_protocol", "tls.version", "tls.version_protocol"), put_tls_protocol))
_HTTP = (
    Field("elb_status_code", ("http.response.status_code", "event.outcome"), put_status),
    number_field("backend_status_code", "aws.elb.backend.http.response.status_code", optional_integer),
    number_field("received_bytes", "http.request.body.bytes", integer),
    number_field("sent_bytes", "http.response.body.bytes", integer),
    Field("request", ("http.request.method", "url.original", "url.scheme", "url.domain", "url.port", "url.path",
                      "url.query", "http.version"), put_request),
    text_field("user_agent", "user_agent.original"),
)
_CLASSIC_HEAD = (time_field("timestamp", "@timestamp"), text_field("elb", "aws.elb.name"),
                 address_field("client:port", "source", False), address_field("backend:port", "aws.elb.backend", True),
                 *_COMMON_TIMES)

CLASSIC_HTTP = (*_CLASSIC_HEAD, *_HTTP, *_TLS)
CLASSIC_TCP = (*_CLASSIC_HEAD,
               ignored_field("elb_status_code"), ignored_field("backend_status_code"),  # "-" on TCP/SSL listeners
               number_field("received_bytes", "source.bytes", integer), number_field("sent_bytes", "destination.bytes", integer),
               ignored_field("request"), ignored_field("user_agent"),  # "- - - " and "-" on TCP/SSL listeners
               *_TLS)
ALB = (
    text_field("type", "aws.elb.type"), time_field("time", "@timestamp"), text_field("elb", "aws.elb.name"),
    address_field("client:port", "source", False), address_field("target:port", "aws.elb.backend", True),
    *_COMMON_TIMES, *_HTTP, *_TLS,
    text_field("target_group_arn", "aws.elb.target_group.arn"),
    Field("trace_id", ("aws.elb.trace_id", "trace.id"), put_trace),
    text_field("domain_name", "destination.domain"),
    text_field("chosen_cert_arn", "aws.elb.chosen_cert.arn"),
    number_field("matched_rule_priority", "aws.elb.matched_rule_priority", rule_priority),
    time_field("request_creation_time", "event.start"),
    list_field("actions_executed", "aws.elb.action_executed", ","),
    text_field("redirect_url", "aws.elb.redirect_url"),
    text_field("error_reason", "aws.elb.error.reason"),
    list_field("target:port_list", "aws.elb.target_port", " "),
    list_field("target_status_code_list", "aws.elb.target_status_code", " "),
    text_field("classification", "aws.elb.classification"),
    text_field("classification_reason", "aws.elb.classification_reason"),
    text_field("conn_trace_id", "aws.elb.conn_trace_id"),
)
NLB = (
    text_field("type", "aws.elb.type"), text_field("version", "aws.elb.version"), time_field("time", "@timestamp"),
    text_field("elb", "aws.elb.name"), text_field("listener", "aws.elb.listener"),
    address_field("client:port", "source", False), address_field("destination:port", "aws.elb.backend", True),
    number_field("connection_time", "aws.elb.connection_time.ms", seconds),
    number_field("tls_handshake_time", "aws.elb.tls_handshake_time.ms", seconds),
    number_field("received_bytes", "source.bytes", integer), number_field("sent_bytes", "destination.bytes", integer),
    text_field("incoming_tls_alert", "aws.elb.incoming_tls_alert"),
    text_field("chosen_cert_arn", "aws.elb.chosen_cert.arn"),
    text_field("chosen_cert_serial", "aws.elb.chosen_cert.serial"),
    Field("tls_cipher", ("aws.elb.ssl_cipher", "tls.cipher"), put_tls_cipher),
    Field("tls_protocol_version", ("aws.elb.ssl_protocol", "tls.version", "tls.version_protocol"), put_tls_protocol),
    text_field("tls_named_group", "aws.elb.ssl_named_group"),
    text_field("domain_name", "destination.domain", decode=True),
    Field("alpn_fe_protocol", ("aws.elb.alpn_fe_protocol", "tls.next_protocol"), put_alpn_front),
    text_field("alpn_be_protocol", "aws.elb.alpn_be_protocol", decode=True),
    Field("alpn_client_preference_list", ("aws.elb.alpn_client_preference_list",), put_alpn_list),
    time_field("tls_connection_creation_time", "event.start"),
)
# Name -> (fields, how many a line needs at least). Older ALB files end after error_reason; the
# 2020 NLB documentation lists 21 fields, later files add tls_connection_creation_time.
TABLES = {"classic ELB (HTTP/HTTPS listeners)": (CLASSIC_HTTP, 15), "classic ELB (TCP/SSL listeners)": (CLASSIC_TCP, 15),
          "ALB": (ALB, 25), "NLB (TLS listeners)": (NLB, 21)}


def _steps(fields: tuple[Field, ...]) -> tuple:
    """(fill function, whether it fills ``aws.elb``) per field: the loop of parse_line reads no attribute."""
    return tuple((field.put, field.in_elb) for field in fields)


_CLASSIC_HTTP_STEPS, _CLASSIC_TCP_STEPS, _ALB_STEPS, _NLB_STEPS = map(_steps, (CLASSIC_HTTP, CLASSIC_TCP, ALB, NLB))

# How AWS writes each type's fields (quoted or not), to split a line in one scan; a line of another
# shape (older or longer ALB lines, unusual quoting) is split token by token, to the same fields.
_CLASSIC_LAYOUT = layout("ppppppppppp" "qq" "pp")
_ALB_LAYOUT = layout("pppppppppppp" "qq" "ppp" "qqq" "pp" "qqqqqqq" "p")
_NLB_LAYOUT = layout("pppppppppppppppppppp" "l" "p")

CONTROL_PREFIX = "Enable AccessLog for ELB:"  # the line ALB writes when logging is switched on


def is_control_line(line: str) -> bool:
    """The line ALB writes into a file when logging is switched on: not an access, nothing to parse."""
    return line.startswith(CONTROL_PREFIX)


def parse_line(line: str) -> dict:
    """The ECS document of one access log line (without ``\\n``); ``LineFormatError`` if it is not one."""
    fields = split_by(_CLASSIC_LAYOUT if line[:1].isdigit() else _NLB_LAYOUT if line.startswith("tls ")
                      else _ALB_LAYOUT, line)
    if not fields:
        raise LineFormatError("the line is empty")
    first = fields[0]
    if first[:1].isdigit():
        if len(fields) > 7 and fields[7] == "-":
            table, steps, minimum, protocol = CLASSIC_TCP, _CLASSIC_TCP_STEPS, 15, "tcp"
        else:
            table, steps, minimum, protocol = CLASSIC_HTTP, _CLASSIC_HTTP_STEPS, 15, "http"
    elif first == "tls" and len(fields) > 1 and fields[1][:1].isdigit():
        table, steps, minimum, protocol = NLB, _NLB_STEPS, 21, "tcp"
    else:
        table, steps, minimum, protocol = ALB, _ALB_STEPS, 25, "http"
    if table is ALB and len(fields) == ALB_FIELDS:
        try:
            return alb_document(fields)
        except LineFormatError:
            pass  # the table below says which field is wrong
    if len(fields) < minimum:
        raise LineFormatError(f"{len(fields)} fields, a {_kind(table)} line has at least {minimum}")
    doc = {"event": {"kind": "event", "module": "aws", "dataset": "aws.elb",
                     "category": "web" if protocol == "http" else "network"},
           "cloud": {"provider": "aws"}, "aws": {"elb": {"protocol": protocol}}}
    if table is not CLASSIC_TCP and table is not NLB:
        doc["http"] = {"request": {}}
    elb = doc["aws"]["elb"]
    for (put, in_elb), value in zip(steps, fields):
        put(elb if in_elb else doc, value)
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
