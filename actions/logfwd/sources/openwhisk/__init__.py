"""The ``openwhisk`` source: the activation records of monitored actions, pulled on a schedule."""

from ...coerce import auto_or, boolean, fraction_of, json_object, listing, number, secret, text
from ...errors import ConfigError
from ...plugs import PULLED, Param, Plug


def _check(values) -> None:
    from .events import check_fields
    from .selection import parse

    parse(values["actions"])  # a list that selects nothing is a configuration error, found before any run
    check_fields(values["fields"])
    if values["overlap"] != "auto" and values["overlap"] <= values["settle"]:
        raise ConfigError("overlap", f"must be more than settle ({values['settle']} s)",
                          "Runs read up to now - settle and move on to now - overlap; a smaller overlap "
                          "would skip what starts in between.")


def _build(settings, context):
    from .api import OpenWhiskAPI
    from .shards import Shard
    from .source import MAX_SEEN, MAX_SEEN_DURABLE, UNIT_SHARE, OpenWhiskSource

    values = settings.values
    api = OpenWhiskAPI(values["apihost"], values["api_key"].reveal(), values["namespace"], retry=context.retry,
                       verify=values["api_verify"], deadline=context.deadline.for_work())
    context.resources["openwhisk_api"] = api  # the activation checkpoint store reads through it
    return OpenWhiskSource(api, values["actions"], namespace=values["namespace"], self_action=settings.self_action,
                           overlap=None if values["overlap"] == "auto" else values["overlap"],
                           schedule_interval=values["schedule_interval"], logs_wait=values["logs_wait"],
                           settle=values["settle"],
                           initial_lookback=values["initial_lookback"], fields=values["fields"],
                           max_line_bytes=values["max_line_bytes"], clock=context.clock,
                           shard=Shard(*values["shard"]) if values["shard"] else None,
                           # A unit of records is marked delivered once all of it is: a share of a window.
                           unit_lines=max(1, values.get("batch_size", 2048) // UNIT_SHARE),
                           # The activation store keeps the checkpoint in a result of at most 1 MB.
                           max_seen=MAX_SEEN if str(settings.checkpoint).lower() == "activation" else MAX_SEEN_DURABLE)


PLUG = Plug(
    name="openwhisk", kind="source", mode=PULLED, build=_build, check=_check,
    summary="the activation records of monitored OpenWhisk actions, read through the REST API",
    params=(
        Param("apihost", text, required=True, platform_env="__OW_API_HOST", wskprops="APIHOST",
              help="OpenWhisk API host, with or without https://"),
        Param("api_key", secret, required=True, secret=True, platform_env="__OW_API_KEY", wskprops="AUTH",
              help="OpenWhisk API key uuid:key (on OpenWhisk: the provide-api-key annotation supplies it)"),
        Param("namespace", text, "_", platform_env="__OW_NAMESPACE", wskprops="NAMESPACE",
              help="namespace to read; _ is the key's default namespace"),
        Param("actions", listing, required=True,
              help="monitored actions: name, package/action, package/*, *, !exclusion"),
        Param("fields", json_object, {}, help="JSON object merged into every event, e.g. a Logz.io token"),
        Param("overlap", auto_or(number(float, 0, 86400)), "auto",
              help="seconds behind now that every run re-reads for late records; auto: each action's own, "
                   "2 x its time limit + 30 s + 2 schedule intervals (sequences: from their components; "
                   "docs/openwhisk-timing.md)"),
        Param("schedule_interval", number(float, 1, 86400), 60.0,
              help="seconds between runs (the alarm's period), for overlap=auto"),
        Param("logs_wait", number(float, 0, 7 * 86400), 300.0,
              help="seconds an activation whose logs are not in the log store yet is asked for again, "
                   "before a marker event says they never came"),
        Param("settle", number(float, 0, 3600), 2.0, help="seconds behind now where a run stops reading"),
        Param("initial_lookback", number(float, 0, 30 * 86400), 600.0,
              help="seconds back a newly monitored action starts from"),
        Param("max_line_bytes", number(int, 1024, 100 * 1024 * 1024), 1048576,
              help="longer log lines are truncated (and flagged)"),
        Param("start_over", boolean, False,
              help="with checkpoint=activation: when the forwarder has earlier runs but none carries a checkpoint, "
                   "start again at now - initial_lookback instead of stopping with an error"),
        Param("api_verify", boolean, True, help="verify the OpenWhisk API host's TLS certificate"),
        Param("shard", fraction_of, help="i/N: forward only the actions that hashing assigns to shard i of N "
                                         "forwarders, each with its own checkpoint (see docs/scaling.md)"),
    ),
)
