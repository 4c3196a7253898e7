"""Sink ``statsd``: counters and timers over UDP to a cluster of statsd collectors, routed by name."""

from typing import Any, Mapping

from ...coerce import hosts, listing, number, text
from ...errors import ConfigError
from ...plugs import BEST_EFFORT, Param, Plug

DEFAULT_PORT = 8125


def collectors(name: str, raw: Any) -> tuple[tuple[str, int], ...]:
    """``host:port`` entries (port 8125 when left out)."""
    entries = [entry if entry.count(":") == 1 or "]:" in entry else f"{entry}:{DEFAULT_PORT}"
               for entry in listing(name, raw)]
    if not entries:
        raise ConfigError(name, "no collector given", "Give host:port entries, e.g. statsd1:8125,statsd2:8125.")
    return hosts(name, entries)


def _check(values: Mapping[str, Any]) -> None:
    from .routing import ROUTINGS  # small, and only when settings are checked
    if values.get("statsd_routing") not in ROUTINGS:
        raise ConfigError("statsd_routing", f"unknown routing {values.get('statsd_routing')!r}",
                          f"Choose one of: {', '.join(ROUTINGS)}.")


def _build(settings, context):
    from .sink import StatsdSink
    values = settings.values
    return StatsdSink(values["statsd_cluster"], routing=values["statsd_routing"], prefix=values["statsd_prefix"],
                      packet_size=values["statsd_packet_size"], count_by=values["statsd_count_by"])


PLUG = Plug(
    name="statsd",
    kind="sink",
    summary="statsd counters and timers over UDP, routed by metric name across a cluster of collectors",
    guarantee=BEST_EFFORT,
    build=_build,
    # It reads only events' metrics: a source may leave out the events without any (the drain's
    # other lines), unless a log sink runs beside it. (statsd_count_by counts the events given.)
    extra={"metrics_only": True},
    check=_check,
    params=(
        Param("statsd_cluster", collectors, required=True,
              help="statsd collectors, host:port (port 8125 if left out); the order matters for crc32-mod-n"),
        Param("statsd_routing", text, "consistent",
              help="consistent (a hash ring like statsd's cluster proxy: a new collector takes ~1/N of the "
                   "names) or crc32-mod-n (keithduncan/statsd-client's routing)"),
        Param("statsd_prefix", text, "", help="prepended with a dot to every metric name, e.g. heroku"),
        Param("statsd_count_by", text, "",
              help="also count every event under the value of this field (a dotted path such as error.code "
                   "or log.level), as the counter <prefix>.<value>; events also bring their own metrics"),
        Param("statsd_packet_size", number(int, 64, 65507), 1432,
              help="largest UDP payload in bytes: 1432 on an intranet, 512 across the Internet"),
    ),
)
