"""Validated settings from action parameters, the environment and ``~/.wskprops``.

``load_settings`` is pure: entry points read the environment and the wskprops file and pass them in.
Precedence, highest first: parameters, ``LOGFWD_<NAME>`` variables, the platform's ``__OW_*``
variables, ``~/.wskprops`` (CLI only), defaults. Values may arrive as strings (wskdeploy turns every
value into one, and an unset variable into ``""``): they are coerced, and ``""`` means "unset".
"""

import difflib
import json
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

from .errors import ConfigError
from .events import check_fields

DEFAULT_LOGSTASH_PORT = 5044
FILE_CHECKPOINT = "file:state/checkpoint.json"
ACTIVATION_CHECKPOINT = "activation"


class Secret(str):
    """A string that shows itself only through ``reveal()``: ``repr``, ``str`` and f-strings give ``***``."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def reveal(self) -> str:
        return str.__str__(self)


# --- coercions: (name, raw) -> value; raise ConfigError naming the parameter -------------------


def _text(name: str, raw: Any) -> str:
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise ConfigError(name, f"expected a string, got {type(raw).__name__}")
    return str(raw).strip()


def _secret(name: str, raw: Any) -> Secret:
    if not isinstance(raw, str):
        raise ConfigError(name, f"expected a string, got {type(raw).__name__}")
    return Secret(raw.strip())


def _pem(name: str, raw: Any) -> str:
    # PEM text keeps its line breaks; a path is stripped.
    if not isinstance(raw, str):
        raise ConfigError(name, f"expected PEM text or a file path, got {type(raw).__name__}")
    return raw if "-----BEGIN" in raw else raw.strip()


def _secret_pem(name: str, raw: Any) -> Secret:
    return Secret(_pem(name, raw))


def _list(name: str, raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, (list, tuple)):
        items = raw
    else:
        raise ConfigError(name, f"expected a list or a comma-separated string, got {type(raw).__name__}")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(name, f"every entry must be a string, got {item!r}")
        if item.strip():
            out.append(item.strip())
    return tuple(out)


def _bool(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigError(name, f"expected true or false, got {raw!r}")


def _number(kind: type, low: float, high: float) -> Callable[[str, Any], Any]:
    def coerce(name: str, raw: Any) -> Any:
        if isinstance(raw, bool):
            raise ConfigError(name, f"expected a number, got {raw!r}")
        try:
            value = kind(raw) if not isinstance(raw, str) else kind(float(raw)) if kind is float else int(raw)
        except (TypeError, ValueError):
            raise ConfigError(name, f"expected {'an integer' if kind is int else 'a number'}, got {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(name, f"{value} is out of range", f"Use a value from {low} to {high}.")
        return value

    return coerce


def _json_object(name: str, raw: Any) -> dict:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(name, f"not valid JSON ({exc.msg} at position {exc.pos})",
                              'Give a JSON object such as {"token": "..."}.') from None
    if not isinstance(raw, dict):
        raise ConfigError(name, f"expected a JSON object, got {type(raw).__name__}")
    return raw


def _hosts(name: str, raw: Any) -> tuple[tuple[str, int], ...]:
    hosts = []
    for entry in _list(name, raw):
        host, port = entry, DEFAULT_LOGSTASH_PORT
        if entry.startswith("["):  # [IPv6]:port
            host, _, rest = entry[1:].partition("]")
            if rest:
                port = rest.lstrip(":")
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        try:
            port = int(port)
        except ValueError:
            raise ConfigError(name, f"bad port in {entry!r}", "Write host:port, e.g. logstash.example.com:5044.") from None
        if not host or not 0 < port < 65536:
            raise ConfigError(name, f"bad entry {entry!r}", "Write host:port, e.g. logstash.example.com:5044.")
        hosts.append((host, port))
    return tuple(hosts)


# --- the parameters -----------------------------------------------------------------------------


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
    Parameter("apihost", _text, required=True, platform_env="__OW_API_HOST", wskprops="APIHOST",
              help="OpenWhisk API host, with or without https://"),
    Parameter("api_key", _secret, required=True, platform_env="__OW_API_KEY", wskprops="AUTH",
              help="OpenWhisk API key uuid:key (on OpenWhisk: the provide-api-key annotation supplies it)"),
    Parameter("namespace", _text, "_", platform_env="__OW_NAMESPACE", wskprops="NAMESPACE",
              help="namespace to read; _ is the key's default namespace"),
    Parameter("actions", _list, required=True,
              help="monitored actions: name, package/action, package/*, *, !exclusion"),
    Parameter("logstash_hosts", _hosts, required=True, help="Logstash beats inputs, host:port (port 5044 if left out); starts at a random one, fails over to the next"),
    Parameter("logstash_tls", _bool, True, help="TLS to Logstash, with certificate and hostname verification"),
    Parameter("logstash_ca", _pem, help="CA certificate(s) to trust, PEM text or file path"),
    Parameter("logstash_cert", _pem, help="client certificate for mutual TLS, PEM text or file path"),
    Parameter("logstash_key", _secret_pem, help="client private key for mutual TLS, PEM text or file path"),
    Parameter("fields", _json_object, {}, help="JSON object merged into every event, e.g. a Logz.io token"),
    Parameter("checkpoint", _text, help="checkpoint store: activation, file:PATH, couchdb+https://..., redis://..."),
    Parameter("checkpoint_username", _text, help="user name for the checkpoint store, if not in its URL"),
    Parameter("checkpoint_password", _secret, help="password for the checkpoint store, if not in its URL"),
    Parameter("overlap", _number(float, 0, 86400), 360.0,
              help="seconds behind now that every run re-reads for late records (>= the longest action time limit + margin)"),
    Parameter("settle", _number(float, 0, 3600), 2.0, help="seconds behind now where a run stops reading"),
    Parameter("initial_lookback", _number(float, 0, 30 * 86400), 600.0,
              help="seconds back a newly monitored action starts from"),
    Parameter("batch_size", _number(int, 1, 10000), 2048, help="events per Lumberjack window"),
    Parameter("compression_level", _number(int, 0, 9), 3, help="zlib level of a window; 0 sends plain frames"),
    Parameter("window_timeout", _number(float, 1, 3600), 30.0, help="seconds one window may take to be acknowledged"),
    Parameter("deadline_grace", _number(float, 0, 3600), 15.0,
              help="seconds before the action's deadline at which a run stops pulling"),
    Parameter("max_line_bytes", _number(int, 1024, 100 * 1024 * 1024), 1048576,
              help="longer log lines are truncated (and flagged)"),
    Parameter("api_verify", _bool, True, help="verify the OpenWhisk API host's TLS certificate"),
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
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "fields")
        # fields may hold tokens (Logz.io): show only its keys.
        return f"Settings({shown}, fields=<keys {sorted(self.fields)}>)"

    @property
    def on_openwhisk(self) -> bool:
        return self.self_action is not None


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
