"""Source ``logplex``: a Heroku HTTPS log drain; Heroku's platform errors (H12, R14, L10...) become metrics."""

from ...coerce import boolean, json_object, number, secret
from ...plugs import PUSHED, Param, Plug, plug
from .credentials import app_credentials


def _build(settings, context):
    from .seen import WARM, redis_frames
    from .source import LogplexSource
    values = settings.values
    store = values.get("logplex_store")
    frames = redis_frames(store.reveal(), values["logplex_remember"]) if store else WARM
    every_line = values["logplex_every_line"]
    if every_line is None:  # statsd reads only the lines with metrics; a log sink wants every line
        every_line = any(not plug("sink", name).extra.get("metrics_only") for name in settings.sinks)
    return LogplexSource(context.event, credentials=values["logplex_credentials"],
                         drain_tokens=values["logplex_drain_tokens"], frames=frames,
                         max_body=values["logplex_max_body"], platform_only=values["logplex_platform_only"],
                         router_timers=values["logplex_router_timers"], every_line=every_line)


PLUG = Plug(
    name="logplex",
    kind="source",
    summary="a Heroku log drain (logplex frames over HTTPS); Heroku error codes become statsd counters",
    mode=PUSHED,
    build=_build,
    params=(
        Param("logplex_credentials", app_credentials, required=True, secret=True,
              help='each app\'s drain user and password: {"myapp": "logplex:PASSWORD"} or '
                   "myapp:logplex:PASSWORD,... (the drain URL is https://logplex:PASSWORD@HOST/myapp/logs)"),
        Param("logplex_drain_tokens", json_object, {},
              help='drain token -> app, for drain URLs without /<app>/logs: {"d.01234567-...": "myapp"}'),
        Param("logplex_store", secret, secret=True,
              help="redis://[user:password@]host:port/db that remembers counted frame ids across "
                   "containers; without it only this process remembers them"),
        Param("logplex_remember", number(float, 1, 7 * 86400), 3600.0,
              help="seconds a counted frame id is remembered (logplex re-sends within seconds)"),
        Param("logplex_max_body", number(int, 1024, 64 << 20), 1 << 20,
              help="largest drain body in bytes (logplex aims at 100 KiB); larger ones get 413"),
        Param("logplex_platform_only", boolean, True,
              help="count errors only in lines from Heroku itself (app 'heroku'), not in the app's own lines"),
        Param("logplex_router_timers", boolean, False,
              help="also send every router line's connect and service times as statsd timers"),
        Param("logplex_every_line", boolean, None,
              help="make an event of every line (true) or only of the lines that carry a metric (false; only "
                   "those are parsed); unset: every line when a log sink is among the sinks (e.g. "
                   "sink=statsd,lumberjack), only the metric lines for statsd alone"),
    ),
)
