"""Sink ``tcp``: one JSON document per line to Logstash's ``tcp`` input (``codec => json_lines``), over
TCP or TLS. Declaration only: the implementation is imported inside ``build``."""

from ...coerce import boolean, hosts, number, pem, secret_pem
from ...errors import ConfigError
from ...plugs import WRITTEN, Param, Plug


def _build(settings, context):
    from ..tls import client_context
    from .sink import TcpSink

    values = settings.values
    ssl_context = None
    if values["logstash_tls"]:
        key = values.get("logstash_key")
        ssl_context = client_context(values.get("logstash_ca"), values.get("logstash_cert"),
                                     key.reveal() if key else None)
    return TcpSink(values["logstash_hosts"], ssl_context=ssl_context, retry=context.retry,
                   connect_timeout=values["tcp_connect_timeout"], send_timeout=values["tcp_send_timeout"])


def _check(values) -> None:
    if bool(values.get("logstash_cert")) != bool(values.get("logstash_key")):
        given, missing = ("logstash_cert", "logstash_key") if values.get("logstash_cert") else \
            ("logstash_key", "logstash_cert")
        raise ConfigError(missing, f"is missing while {given} is set", "Mutual TLS needs both.")
    if not values.get("logstash_tls") and (values.get("logstash_ca") or values.get("logstash_cert")):
        raise ConfigError("logstash_tls", "is false but TLS material (logstash_ca/logstash_cert) is given",
                          "Set logstash_tls=true, or remove the certificates.")


PLUG = Plug(
    name="tcp",
    kind="sink",
    guarantee=WRITTEN,
    params=(
        Param("logstash_hosts", hosts, required=True,
              help="Logstash tcp inputs (codec json_lines), host:port with the port of the input; starts at a random one, fails over"),
        Param("logstash_tls", boolean, True,
              help="TLS to Logstash, with certificate and hostname verification"),
        Param("logstash_ca", pem, help="CA certificate(s) to trust, PEM text or file path"),
        Param("logstash_cert", pem, help="client certificate for mutual TLS, PEM text or file path"),
        Param("logstash_key", secret_pem, secret=True,
              help="client private key for mutual TLS, PEM text or file path"),
        Param("tcp_connect_timeout", number(float, 0.1, 300), 10.0, help="seconds to connect to one host"),
        Param("tcp_send_timeout", number(float, 1, 3600), 30.0,
              help="seconds to write one batch and see the receiver close the connection"),
    ),
    build=_build,
    check=_check,
    summary="JSON lines over TCP/TLS to Logstash's tcp input; delivered = written and closed cleanly",
)
