"""The pieces the access log tables are made of: a ``Field`` (a log field, the document fields it
fills, and the function that fills them) and the functions for each kind of value. Pure."""

from typing import Callable, NamedTuple
from urllib.parse import unquote

from .elbtokens import absent, address, integer, optional_integer, put, timestamp

__all__ = ["Field", "text_field", "list_field", "number_field", "time_field", "address_field", "ignored_field",
           "put_status", "put_request", "put_tls_protocol", "put_tls_cipher", "put_trace", "put_alpn_list",
           "put_alpn_front", "rule_priority", "url_document"]


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


def text_field(name: str, target: str, decode: bool = False) -> Field:
    key = target.removeprefix(_ELB)
    if "." not in key and not decode:  # the common case, without a second call (it runs per field)
        def put_text(doc: dict, value: str) -> None:
            if value != "-" and value:
                doc[key] = value
        return Field(name, (target,), put_text, target.startswith(_ELB))
    store = _setter(target)

    def put_decoded(doc: dict, value: str) -> None:
        if value != "-" and value:
            store(doc, unquote(value) if decode else value)
    return Field(name, (target,), put_decoded, target.startswith(_ELB))


def list_field(name: str, target: str, separator: str) -> Field:
    store = _setter(target)

    def put_list(doc: dict, value: str) -> None:
        if value != "-" and value:
            store(doc, value.split(separator))
    return Field(name, (target,), put_list, target.startswith(_ELB))


def number_field(name: str, target: str, parse: Callable[[str, str], object]) -> Field:
    keys = target.removeprefix(_ELB).split(".")
    if len(keys) == 2:  # most numbers (times, bytes of TCP): stored here, without a second call
        outer, key = keys

        def put_number(doc: dict, value: str) -> None:
            number = parse(name, value)
            if number is not None:
                inner = doc.get(outer)
                if inner is None:
                    doc[outer] = {key: number}
                else:
                    inner[key] = number
        return Field(name, (target,), put_number, target.startswith(_ELB))
    store = _setter(target)

    def put_number_at(doc: dict, value: str) -> None:
        number = parse(name, value)
        if number is not None:
            store(doc, number)
    return Field(name, (target,), put_number_at, target.startswith(_ELB))


def time_field(name: str, target: str) -> Field:
    store = _setter(target)
    return Field(name, (target,), lambda doc, value: store(doc, timestamp(name, value)), target.startswith(_ELB))


def address_field(name: str, prefix: str, optional: bool) -> Field:
    store = _setter(prefix)

    def put_address(doc: dict, value: str) -> None:
        if optional and value == "-":
            return
        ip, port = known.get(value) or address(name, value)
        store(doc, {"ip": ip, "port": port})
        if optional and len(known) < 1024:
            known[value] = ip, port
    # Targets repeat line after line (clients come from ever new ports): they are split once.
    known: dict[str, tuple[str, int]] = {}
    return Field(name, (prefix + ".ip", prefix + ".port"), put_address, prefix.startswith(_ELB))


def put_status(doc: dict, value: str) -> None:
    code = integer("elb_status_code", value)
    doc["http"]["response"] = {"status_code": code}
    doc["event"]["outcome"] = "success" if code < 400 else "failure"


def put_request(doc: dict, value: str) -> None:
    """``METHOD scheme://host:port/path?query HTTP/x.y``; any part may be ``-``."""
    method, _, rest = value.partition(" ")
    target, _, version = rest.rpartition(" ")
    http = doc["http"]
    if not absent(method):
        http["request"]["method"] = method
    if version.startswith("HTTP/"):
        http["version"] = version[5:]
    if not absent(target):
        doc["url"] = url_document(target)


def url_document(original: str) -> dict:
    """``url.*`` of a request's URL: scheme, domain, port, path and query when it has a scheme."""
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


# The composite fields below write into ``aws.elb`` directly: parse_line makes it before any field.


def put_tls_protocol(doc: dict, value: str) -> None:
    """``TLSv1.2`` (ALB, classic) or ``tlsv12`` (NLB): ``tls.version`` 1.2, ``tls.version_protocol`` tls."""
    if absent(value):
        return
    doc["aws"]["elb"]["ssl_protocol"] = value
    known = _TLS_VERSIONS.get(value)
    if known is None:
        protocol, found, version = value.partition("v")
        if found and version.isdigit():
            version = version[0] + "." + (version[1:] or "0")
        known = (version, protocol.lower()) if found and version else ()
        if len(_TLS_VERSIONS) < 256:
            _TLS_VERSIONS[value] = known
    if known:
        tls = doc.setdefault("tls", {})
        tls["version"], tls["version_protocol"] = known


_TLS_VERSIONS: dict[str, tuple[str, str] | tuple[()]] = {}  # "TLSv1.2" -> ("1.2", "tls"): a handful per file


def put_tls_cipher(doc: dict, value: str) -> None:
    if not absent(value):
        doc["aws"]["elb"]["ssl_cipher"] = value
        doc.setdefault("tls", {})["cipher"] = value


def put_trace(doc: dict, value: str) -> None:
    if not absent(value):
        doc["aws"]["elb"]["trace_id"] = value
        doc["trace"] = {"id": value}


def put_alpn_list(doc: dict, value: str) -> None:
    if not absent(value):  # written "h2","http/1.1", each URL-encoded
        doc["aws"]["elb"]["alpn_client_preference_list"] = [unquote(item.strip('"')) for item in value.split(",")]


def put_alpn_front(doc: dict, value: str) -> None:
    if not absent(value):
        doc["aws"]["elb"]["alpn_fe_protocol"] = unquote(value)
        doc.setdefault("tls", {})["next_protocol"] = unquote(value)


def ignored_field(name: str) -> Field:
    return Field(name, (), lambda doc, value: None)


def rule_priority(name: str, value: str) -> int | None:
    return None if value == "-1" else optional_integer(name, value)
