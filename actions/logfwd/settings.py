"""Validated settings from action parameters, the environment and ``~/.wskprops``.

``load_settings`` is pure: entry points read the environment and the wskprops file and pass them in.
Precedence, highest first: parameters, ``LOGFWD_<NAME>`` variables, the platform's ``__OW_*``
variables, ``~/.wskprops`` (CLI only), defaults. Values may arrive as strings (wskdeploy turns every
value into one, and an unset variable into ``""``): they are coerced, and ``""`` means "unset".
"""

import difflib
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

from .coerce import Secret, boolean, hosts, json_object, listing, number, pem, secret, secret_pem, text
from .errors import ConfigError
from .events import check_fields

FILE_CHECKPOINT = "file:state/checkpoint.json"
ACTIVATION_CHECKPOINT = "activation"


@dataclass(frozen=True)
class Parameter:
    name: str
    coerce: Callable[[str, Any], Any]
    default: Any = None
    required: bool = False
    platform_env: str | None = None  # the __OW_* variable that supplies it on OpenWhisk
    wskprops: str | None = None      # the ~/.wskprops key (CLI only)
    help: str = ""


_SPECS = (
    Parameter("apihost", text, required=True, platform_env="__OW_API_HOST", wskprops="APIHOST",
              help="OpenWhisk API host, with or without https://"),
    Parameter("api_key", secret, required=True, platform_env="__OW_API_KEY", wskprops="AUTH",
              help="OpenWhisk API key uuid:key (on OpenWhisk: the provide-api-key annotation supplies it)"),
    Parameter("namespace", text, "_", platform_env="__OW_NAMESPACE", wskprops="NAMESPACE",
              help="namespace to read; _ is the key's default namespace"),
    Parameter("actions", listing, required=True,
              help="monitored actions: name, package/action, package/*, *, !exclusion"),
    Parameter("logstash_hosts", hosts, required=True,
              help="Logstash beats inputs, host:port (port 5044 if left out); starts at a random one, "
                   "fails over to the next"),
    Parameter("logstash_tls", boolean, True, help="TLS to Logstash, with certificate and hostname verification"),
    Parameter("logstash_ca", pem, help="CA certificate(s) to trust, PEM text or file path"),
    Parameter("logstash_cert", pem, help="client certificate for mutual TLS, PEM text or file path"),
    Parameter("logstash_key", secret_pem, help="client private key for mutual TLS, PEM text or file path"),
    Parameter("fields", json_object, {}, help="JSON object merged into every event, e.g. a Logz.io token"),
    Parameter("checkpoint", text, help="checkpoint store: activation, file:PATH, couchdb+https://..., redis://..."),
    Parameter("checkpoint_username", text, help="user name for the checkpoint store, if not in its URL"),
    Parameter("checkpoint_password", secret, help="password for the checkpoint store, if not in its URL"),
    Parameter("overlap", number(float, 0, 86400), 360.0,
              help="seconds behind now that every run re-reads for late records "
                   "(>= the longest action time limit + margin)"),
    Parameter("settle", number(float, 0, 3600), 2.0, help="seconds behind now where a run stops reading"),
    Parameter("initial_lookback", number(float, 0, 30 * 86400), 600.0,
              help="seconds back a newly monitored action starts from"),
    Parameter("batch_size", number(int, 1, 10000), 2048, help="events per Lumberjack window"),
    Parameter("compression_level", number(int, 0, 9), 3,
              help="zlib level of a window (1 fastest .. 9 smallest; 1-3 run on ISA-L); 0 sends plain frames"),
    Parameter("window_timeout", number(float, 1, 3600), 30.0, help="seconds one window may take to be acknowledged"),
    Parameter("deadline_grace", number(float, 2, 3600), 15.0,
              help="seconds before the action's deadline at which a run stops pulling"),
    Parameter("max_line_bytes", number(int, 1024, 100 * 1024 * 1024), 1048576,
              help="longer log lines are truncated (and flagged)"),
    Parameter("api_verify", boolean, True, help="verify the OpenWhisk API host's TLS certificate"),
)

SPECS: Mapping[str, Parameter] = {spec.name: spec for spec in _SPECS}
PARAMETERS: tuple[str, ...] = tuple(SPECS)
ENV_PREFIX = "LOGFWD_"
# Keys OpenWhisk or a trigger may add to the parameters; not typos.
_IGNORED_KEYS = ("payload", "trigger_payload")


@dataclass(frozen=True)
class Settings:
    apihost: str
    api_key: Secret
    namespace: str
    actions: tuple[str, ...]
    logstash_hosts: tuple[tuple[str, int], ...]
    logstash_tls: bool
    logstash_ca: str | None
    logstash_cert: str | None
    logstash_key: Secret | None
    fields: dict
    checkpoint: str
    checkpoint_username: str | None
    checkpoint_password: Secret | None
    overlap: float
    settle: float
    initial_lookback: float
    batch_size: int
    compression_level: int
    window_timeout: float
    deadline_grace: float
    max_line_bytes: int
    api_verify: bool
    # From the platform, not parameters:
    deadline: float | None = None          # epoch seconds (__OW_DEADLINE)
    self_action: str | None = None         # /namespace/package/action (__OW_ACTION_NAME)
    activation_id: str | None = None       # __OW_ACTIVATION_ID
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if f.name not in ("fields", "checkpoint"))
        shown += f", checkpoint={_without_credentials(self.checkpoint)!r}"
        # fields may hold tokens (Logz.io): show only its keys.
        return f"Settings({shown}, fields=<keys {sorted(self.fields)}>)"



def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def parse_wskprops(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines as the ``wsk`` CLI writes them; comments and blank lines ignored."""
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


def _unset(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def load_settings(params: Mapping[str, Any], environ: Mapping[str, str],
                  wskprops: Mapping[str, str] | None = None) -> Settings:
    """Build validated settings. Raises ``ConfigError`` naming the first bad parameter."""
    values: dict[str, Any] = {}
    for spec in _SPECS:
        candidates = (
            params.get(spec.name),
            environ.get(ENV_PREFIX + spec.name.upper()),
            environ.get(spec.platform_env) if spec.platform_env else None,
            (wskprops or {}).get(spec.wskprops) if spec.wskprops else None,
        )
        raw = next((c for c in candidates if not _unset(c)), None)
        if raw is None:
            if spec.required:
                raise ConfigError(spec.name, "is required but empty or unset", _how_to_set(spec))
            values[spec.name] = spec.default
            continue
        value = spec.coerce(spec.name, raw)
        if spec.required and value in ("", ()):
            raise ConfigError(spec.name, "is required but empty", _how_to_set(spec))
        values[spec.name] = value

    check_fields(values["fields"])
    on_openwhisk = not _unset(environ.get("__OW_ACTION_NAME"))
    if values["checkpoint"] is None:
        values["checkpoint"] = ACTIVATION_CHECKPOINT if on_openwhisk else FILE_CHECKPOINT
    if values["overlap"] <= values["settle"]:
        raise ConfigError("overlap", f"must be more than settle ({values['settle']} s)",
                          "Runs read up to now - settle and move on to now - overlap; a smaller overlap "
                          "would skip what starts in between.")
    if values["logstash_key"] and not values["logstash_cert"]:
        raise ConfigError("logstash_key", "is set but logstash_cert is not",
                          "Mutual TLS needs both the client certificate and its key.")
    if values["logstash_cert"] and not values["logstash_key"]:
        raise ConfigError("logstash_cert", "is set but logstash_key is not",
                          "Mutual TLS needs both the client certificate and its key.")
    if not values["logstash_tls"] and (values["logstash_ca"] or values["logstash_cert"]):
        raise ConfigError("logstash_tls", "is false but TLS material (logstash_ca/logstash_cert) is given",
                          "Set logstash_tls=true, or remove the certificates.")

    return Settings(
        **values,
        deadline=_deadline(environ.get("__OW_DEADLINE")),
        self_action=environ.get("__OW_ACTION_NAME") or None,
        activation_id=environ.get("__OW_ACTIVATION_ID") or None,
        warnings=tuple(_unknown_parameter_warnings(params)),
    )


def _deadline(raw: str | None) -> float | None:
    if _unset(raw):
        return None
    try:
        return int(raw) / 1000.0
    except ValueError:
        raise ConfigError("__OW_DEADLINE", f"expected epoch milliseconds, got {raw!r}") from None


def _how_to_set(spec: Parameter) -> str:
    ways = [f"the parameter '{spec.name}'", f"the variable {ENV_PREFIX}{spec.name.upper()}"]
    if spec.platform_env:
        ways.append(f"{spec.platform_env} (set by OpenWhisk)")
    if spec.wskprops:
        ways.append(f"{spec.wskprops} in ~/.wskprops")
    hint = ""
    if spec.name == "api_key":
        hint = " On OpenWhisk, give the action the annotation provide-api-key: true."
    return f"Set it with {', '.join(ways[:-1])} or {ways[-1]}.{hint}"


def _unknown_parameter_warnings(params: Mapping[str, Any]):
    for key in params:
        if key in SPECS or key in _IGNORED_KEYS or key.startswith("__"):
            continue
        close = difflib.get_close_matches(key, PARAMETERS, n=1)
        suggestion = f"; did you mean '{close[0]}'?" if close else ""
        yield f"unknown parameter '{key}' ignored{suggestion}"
