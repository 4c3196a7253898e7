"""The ``lumberjack`` sink: Lumberjack v2 (the Beats protocol) to Logstash's beats input, acknowledged."""

from ...coerce import boolean, hosts, number, pem, secret_pem
from ...errors import ConfigError
from ...plugs import ACKNOWLEDGED, Param, Plug

PIPELINING = 2  # windows in flight, as Filebeat's Logstash output


def _check(values) -> None:
    if values["logstash_key"] and not values["logstash_cert"]:
        raise ConfigError("logstash_key", "is set but logstash_cert is not",
                          "Mutual TLS needs both the client certificate and its key.")
    if values["logstash_cert"] and not values["logstash_key"]:
        raise ConfigError("logstash_cert", "is set but logstash_key is not",
                          "Mutual TLS needs both the client certificate and its key.")
    if not values["logstash_tls"] and (values["logstash_ca"] or values["logstash_cert"]):
        raise ConfigError("logstash_tls", "is false but TLS material (logstash_ca/logstash_cert) is given",
                          "Set logstash_tls=true, or remove the certificates.")


def _build(settings, context):
    from ..tls import client_context
    from .sink import LumberjackSink

    values = settings.values
    ssl_context = None
    if values["logstash_tls"]:
        key = values["logstash_key"]
        ssl_context = client_context(values["logstash_ca"], values["logstash_cert"], key.reveal() if key else None)
    return LumberjackSink(values["logstash_hosts"], ssl_context=ssl_context,
                          compression_level=values["compression_level"], window_timeout=values["window_timeout"],
                          retry=context.retry, window_size=values["batch_size"], pipelining=PIPELINING,
                          loadbalance=values["logstash_loadbalance"])


PLUG = Plug(
    name="lumberjack", kind="sink", guarantee=ACKNOWLEDGED, build=_build, check=_check,
    summary="Logstash's beats input over Lumberjack v2: windows of JSON events, compressed, acknowledged",
    params=(
        Param("logstash_hosts", hosts, required=True,
              help="Logstash beats inputs, host:port (port 5044 if left out); starts at a random one, "
                   "fails over to the next"),
        Param("logstash_loadbalance", boolean, False,
              help="spread windows over all healthy logstash_hosts at once (as Filebeat's loadbalance), "
                   "not only fail over"),
        Param("logstash_tls", boolean, True, help="TLS to Logstash, with certificate and hostname verification"),
        Param("logstash_ca", pem, help="CA certificate(s) to trust, PEM text or file path"),
        Param("logstash_cert", pem, help="client certificate for mutual TLS, PEM text or file path"),
        Param("logstash_key", secret_pem, secret=True, help="client private key for mutual TLS, PEM text or file path"),
        Param("batch_size", number(int, 1, 10000), 2048, help="events per Lumberjack window"),
        Param("compression_level", number(int, 0, 9), 3,
              help="zlib level of a window (1 fastest .. 9 smallest; 1-3 run on ISA-L); 0 sends plain frames"),
        Param("window_timeout", number(float, 1, 3600), 30.0,
              help="seconds one window may take to be acknowledged"),
    ),
)
