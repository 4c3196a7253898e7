"""Sink ``syslog``: RFC 5424 messages over TLS (default), TCP or UDP, to Papertrail or any syslog receiver."""

from typing import Any, Mapping

from ... import coerce
from ...errors import ConfigError
from ...plugs import WRITTEN, Param, Plug

DEFAULT_PORT = {"tls": 6514, "tcp": 514, "udp": 514}
# Largest message (header + structured data + text, before framing). 8192 is what RFC 5425 says
# receivers SHOULD take and rsyslog's default maxMessageSize; Papertrail takes 100,000 over TCP and
# syslog-ng 65,536 by default. Over UDP Papertrail takes 1024 bytes, so that is the UDP default.
DEFAULT_MAX_BYTES = {"tls": 8192, "tcp": 8192, "udp": 1024}
MAX_DATAGRAM = 65_507  # IPv4 UDP payload


def host_port(name: str, raw: Any) -> tuple[str, int | None]:
    """``host:port`` or ``[IPv6]:port`` (the port may be left out: then the transport's default)."""
    entry = coerce.text(name, raw)
    host, port = entry, None
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else (rest or None)
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    try:
        port = int(port) if port is not None else None
    except ValueError:
        raise ConfigError(name, f"bad port in {entry!r}",
                          "Write host:port, e.g. logs5.papertrailapp.com:12345.") from None
    if not host or (port is not None and not 0 < port < 65536):
        raise ConfigError(name, f"bad address {entry!r}", "Write host:port, e.g. logs5.papertrailapp.com:12345.")
    return host, port


def choice(*choices: str):
    def coerce_choice(name: str, raw: Any) -> str:
        value = coerce.text(name, raw).lower()
        if value not in choices:
            raise ConfigError(name, f"{raw!r} is not one of {', '.join(choices)}")
        return value

    return coerce_choice


def facility(name: str, raw: Any) -> int:
    from ...codecs.syslog import FACILITIES

    value = coerce.text(name, raw).lower()
    if value in FACILITIES:
        return FACILITIES[value]
    if value.isdigit() and 0 <= int(value) <= 23:
        return int(value)
    raise ConfigError(name, f"unknown facility {raw!r}", "Use a name (user, daemon, local0 ... local7) or 0..23.")


def _check(values: Mapping[str, Any]) -> None:
    transport = values.get("syslog_transport") or "tls"
    if transport != "tls":
        for name in ("syslog_ca", "syslog_cert", "syslog_key"):
            if values.get(name):
                raise ConfigError(name, f"is only used with syslog_transport tls, not {transport}",
                                  "remove it, or use tls")
    if bool(values.get("syslog_cert")) != bool(values.get("syslog_key")):
        missing = "syslog_key" if values.get("syslog_cert") else "syslog_cert"
        raise ConfigError(missing, "is missing", "give both syslog_cert and syslog_key for a client certificate")
    if transport == "udp" and (values.get("syslog_max_message_bytes") or 0) > MAX_DATAGRAM:
        raise ConfigError("syslog_max_message_bytes", f"is above {MAX_DATAGRAM:,}, the largest UDP datagram",
                          "use tls or tcp for longer messages, or leave it unset (1024)")
    if transport == "udp" and (values.get("syslog_framing") or "octet") != "octet":
        raise ConfigError("syslog_framing", "does not apply to udp (one message per datagram)", "remove it")


def _build(settings, context):
    from ..tls import client_context
    from .encode import SyslogEncoder
    from .sink import SyslogSink

    values = settings.values
    _check(values)
    transport = values.get("syslog_transport") or "tls"
    host, port = values["syslog_host"]
    framing = "datagram" if transport == "udp" else values.get("syslog_framing") or "octet"
    max_bytes = values.get("syslog_max_message_bytes") or DEFAULT_MAX_BYTES[transport]
    context_ssl = None
    if transport == "tls":
        try:
            context_ssl = client_context(_reveal(values.get("syslog_ca")), _reveal(values.get("syslog_cert")),
                                         _reveal(values.get("syslog_key")))
        except ConfigError as exc:  # tls.py names the Lumberjack parameters
            raise ConfigError(exc.parameter.replace("logstash_", "syslog_"),
                              str(exc).split(": ", 1)[-1].replace("logstash_", "syslog_")) from None
    encoder = SyslogEncoder(values.get("syslog_facility", 1), framing, max_bytes)
    kwargs = {"retry": context.retry} if getattr(context, "retry", None) is not None else {}
    return SyslogSink(host, port or DEFAULT_PORT[transport], encoder, transport, context_ssl,
                      timeout=values.get("syslog_timeout") or 30.0, **kwargs)


def _reveal(value):
    return value.reveal() if isinstance(value, coerce.Secret) else value


PLUG = Plug(
    name="syslog",
    kind="sink",
    guarantee=WRITTEN,  # BEST_EFFORT with syslog_transport udp (the built sink says which)
    summary="RFC 5424 syslog over TLS (default), TCP or UDP: Papertrail, rsyslog, syslog-ng",
    params=(
        Param("syslog_host", host_port, required=True,
              help="receiver as host:port, e.g. logs5.papertrailapp.com:12345 (port default: 6514 for tls, 514 else)"),
        Param("syslog_transport", choice("tls", "tcp", "udp"), default="tls",
              help="tls (verified certificate and host name), tcp, or udp (best effort: nothing confirms it)"),
        Param("syslog_framing", choice("octet", "newline"), default="octet",
              help="octet counting (RFC 5425/6587, keeps multi-line messages whole) or newline "
                   "(LF ends a message; CR/LF/NUL inside become spaces)"),
        Param("syslog_facility", facility, default=1, help="facility name or number (default user)"),
        Param("syslog_max_message_bytes", coerce.number(int, 1024, 1_000_000), default=None,
              help="largest message; longer lines are split into numbered parts (default 8192 over "
                   "tls/tcp: RFC 5425 and rsyslog's default; 1024 over udp: Papertrail's limit)"),
        Param("syslog_ca", coerce.pem, help="CA certificate (PEM text or file) when not a public CA"),
        Param("syslog_cert", coerce.pem, help="client certificate (PEM) for receivers that require mutual TLS"),
        Param("syslog_key", coerce.secret_pem, secret=True, help="private key (PEM) of syslog_cert"),
        Param("syslog_timeout", coerce.number(float, 1, 900), default=30.0,
              help="seconds for writing one batch and the receiver's close"),
    ),
    build=_build,
    check=_check,
)
