"""Validated settings from action parameters, the environment and ``~/.wskprops``.

``load_settings`` is pure: entry points read the environment and the wskprops file and pass them in.
Which parameters exist comes from the declarations of the core (below) and of the chosen source and
sink (``plugs.py``). Precedence, highest first: parameters, ``LOGFWD_<NAME>`` variables, the
platform's ``__OW_*`` variables, ``~/.wskprops`` (CLI only), defaults. Values may arrive as strings
(wskdeploy turns every value into one, and an unset variable into ``""``): they are coerced, and
``""`` means "unset". Every problem is reported at once, in one ``ConfigError``.
"""

import difflib
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from .coerce import listing, number, secret, text
from .errors import ConfigError, ConfigErrors
from .plugs import SINKS, SOURCES, Param, Plug, all_plugs, plug

FILE_CHECKPOINT = "file:state/checkpoint.json"
ACTIVATION_CHECKPOINT = "activation"
ENV_PREFIX = "LOGFWD_"
# Keys OpenWhisk or a trigger may add to the parameters; not typos.
_IGNORED_KEYS = ("payload", "trigger_payload")
# Variables of ours that are not parameters.
_KNOWN_VARIABLES = ("LOGFWD_SCHEDULE", "LOGFWD_SHARDS", "LOGFWD_DRAIN_LOG_SINK")



def sink_names(name: str, raw: Any) -> str:
    """One sink, or several comma-separated (a JSON list too): each event goes to every one of them.
    The value is kept as text, ``statsd,lumberjack``; ``Settings.sinks`` is the tuple."""
    names = [n.strip() for n in listing(name, raw) if n.strip()]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ConfigError(name, f"names sink {doubled[0]!r} twice", "Name each sink once, e.g. statsd,lumberjack.")
    return ",".join(names)


CORE = (
    Param("source", text, "openwhisk", help="where logs come from: " + ", ".join(SOURCES)),
    Param("sink", sink_names, "lumberjack",
          help="where events go: " + ", ".join(SINKS) + "; or several, comma-separated (e.g. statsd,lumberjack): "
               "every event goes to each, with each sink's own parameters, and a unit counts as delivered "
               "once all of them took it"),
    Param("checkpoint", text,
          help="checkpoint store of a pulled source: activation (default on OpenWhisk), file:PATH (default "
               "elsewhere: file:state/checkpoint.json), couchdb+https://..., redis://..."),
    Param("checkpoint_username", text, help="user name for the checkpoint store, if not in its URL"),
    Param("checkpoint_password", secret, secret=True, help="password for the checkpoint store, if not in its URL"),
    Param("deadline_grace", number(float, 2, 3600), 15.0,
          help="seconds before the invocation's deadline at which a run stops pulling"),
)


@dataclass(frozen=True)
class Settings:
    """The chosen source and sink, and every parameter's value by name (also readable as attributes)."""

    values: Mapping[str, Any]
    # From the platform, not parameters:
    deadline: float | None = None          # epoch seconds (__OW_DEADLINE, or the Lambda context)
    self_action: str | None = None         # /namespace/package/action (__OW_ACTION_NAME)
    activation_id: str | None = None       # __OW_ACTIVATION_ID
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def sinks(self) -> tuple[str, ...]:
        """The chosen sinks' names: one, or several for a tee."""
        return tuple(self.values["sink"].split(","))

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={_shown(name, value)}" for name, value in self.values.items())
        return (f"Settings({shown}, deadline={self.deadline!r}, self_action={self.self_action!r}, "
                f"activation_id={self.activation_id!r})")


def _shown(name: str, value: Any) -> str:
    if name == "checkpoint" and isinstance(value, str):
        return repr(_without_credentials(value))
    if isinstance(value, dict):  # static fields may hold tokens (Logz.io): show only the keys
        return f"<keys {sorted(value)}>"
    return repr(value)


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


def declared(source: str = "openwhisk", sink: str = "lumberjack") -> dict[str, Param]:
    """The parameters of a pipeline: the core's, then the source's, then the sink's (or sinks')."""
    params = {p.name: p for p in CORE}
    for kind, name in (("source", source), *(("sink", name) for name in sink.split(","))):
        params.update((p.name, p) for p in plug(kind, name).params)
    return params


def load_settings(params: Mapping[str, Any], environ: Mapping[str, str],
                  wskprops: Mapping[str, str] | None = None) -> Settings:
    """Build validated settings. Raises ``ConfigError`` listing every bad or missing parameter."""
    problems: list[ConfigError] = []
    values: dict[str, Any] = {}
    _resolve(CORE, params, environ, wskprops, values, problems)
    chosen: list[Plug] = []
    for kind, name in (("source", values["source"]), *(("sink", n) for n in (values["sink"] or "").split(",") if n)):
        try:
            chosen.append(plug(kind, name))
        except ConfigError as exc:
            problems.append(_with_plug_hint(exc, kind, name))
    try:
        _check_tee([c for c in chosen if c.kind == "sink"])
    except ConfigError as exc:
        problems.append(exc)
    for component in chosen:
        before = len(problems)
        _resolve(component.params, params, environ, wskprops, values, problems)
        if component.check and len(problems) == before:
            try:
                component.check(values)
            except ConfigError as exc:
                problems.append(exc)
    names = {p.name for p in CORE} | {p.name for c in chosen for p in c.params}
    missing = {exc.parameter for exc in problems if "is required" in str(exc)}
    warnings = list(_unknown_parameter_warnings(params, names, chosen))
    for exc in problems:
        if exc.parameter in missing:
            _hint_misspelling(exc, params)
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems)

    on_openwhisk = not _unset(environ.get("__OW_ACTION_NAME"))
    if values["checkpoint"] is None:
        values["checkpoint"] = ACTIVATION_CHECKPOINT if on_openwhisk else FILE_CHECKPOINT
    warnings += _unknown_variable_warnings(environ, names)
    return Settings(
        values=values,
        deadline=_deadline(environ.get("__OW_DEADLINE")),
        self_action=environ.get("__OW_ACTION_NAME") or None,
        activation_id=environ.get("__OW_ACTIVATION_ID") or None,
        warnings=tuple(warnings),
    )


def _with_plug_hint(exc: ConfigError, kind: str, name: str) -> ConfigError:
    registry = SOURCES if kind == "source" else SINKS
    close = difflib.get_close_matches(name, sorted(registry), n=1)
    if not close:
        return exc
    return ConfigError(kind, f"unknown {kind} {name!r} (did you mean {close[0]!r}?)",
                       f"Choose one of: {', '.join(sorted(registry))}.")


def _check_tee(sinks: list[Plug]) -> None:
    """Sinks that read the same parameter (lumberjack and tcp: logstash_hosts) cannot be told apart in
    one run: each would get the other's hosts."""
    owners: dict[str, str] = {}
    for sink in sinks:
        for p in sink.params:
            if p.name in owners:
                raise ConfigError("sink", f"sinks {owners[p.name]!r} and {sink.name!r} both read '{p.name}', so "
                                          "they cannot go together in one run",
                                  "Choose one of them, or run a second action for the other.")
            owners[p.name] = sink.name


def _resolve(specs, params, environ, wskprops, values: dict, problems: list) -> None:
    for spec in specs:
        candidates = (
            params.get(spec.name),
            environ.get(ENV_PREFIX + spec.name.upper()),
            environ.get(spec.platform_env) if spec.platform_env else None,
            (wskprops or {}).get(spec.wskprops) if spec.wskprops else None,
        )
        raw = next((c for c in candidates if not _unset(c)), None)
        try:
            if raw is None:
                if spec.required:
                    raise ConfigError(spec.name, "is required but empty or unset", _how_to_set(spec))
                values[spec.name] = spec.default
                continue
            value = spec.coerce(spec.name, raw)
            if spec.required and value in ("", ()):
                raise ConfigError(spec.name, "is required but empty", _how_to_set(spec))
            values[spec.name] = value
        except ConfigError as exc:
            problems.append(exc)
            values[spec.name] = spec.default


def _unset(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def _deadline(raw: str | None) -> float | None:
    if _unset(raw):
        return None
    try:
        return int(raw) / 1000.0
    except ValueError:
        raise ConfigError("__OW_DEADLINE", f"expected epoch milliseconds, got {raw!r}") from None


def _how_to_set(spec: Param) -> str:
    ways = [f"the parameter '{spec.name}'", f"the variable {ENV_PREFIX}{spec.name.upper()}"]
    if spec.platform_env:
        ways.append(f"{spec.platform_env} (set by OpenWhisk)")
    if spec.wskprops:
        ways.append(f"{spec.wskprops} in ~/.wskprops")
    hint = ""
    if spec.name == "api_key":
        hint = " On OpenWhisk, give the action the annotation provide-api-key: true."
    return f"Set it with {', '.join(ways[:-1])} or {ways[-1]}.{hint}"


def _hint_misspelling(exc: ConfigError, params: Mapping[str, Any]) -> None:
    """A required parameter is missing: was it given under a near name (``logstash_host``)?"""
    given = [k for k in params if isinstance(k, str) and k != exc.parameter]  # given empty is not misspelled
    close = difflib.get_close_matches(exc.parameter, given, n=1, cutoff=0.75)
    if close:
        exc.args = (f"{exc.args[0]} (a parameter '{close[0]}' was given: did you mean '{exc.parameter}'?)",)


def _owners() -> dict[str, str]:
    owners = {}
    for component in all_plugs():
        for p in component.params:
            owners.setdefault(p.name, f"{component.kind} '{component.name}'")
    return owners


def _unknown_parameter_warnings(params: Mapping[str, Any], names: set[str], chosen: list[Plug]):
    owners = None
    for key, raw in params.items():
        # Unset ("") is no choice: a deployment file sends every sink's inputs, most of them empty.
        if key in names or key in _IGNORED_KEYS or key.startswith("__") or _unset(raw):
            continue
        owners = owners if owners is not None else _owners()
        if key in owners:
            in_use = " and ".join(f"{c.kind} '{c.name}'" for c in chosen)
            yield f"parameter '{key}' belongs to {owners[key]}, not to {in_use}: ignored"
            continue
        close = difflib.get_close_matches(key, sorted(names), n=1)
        suggestion = f"; did you mean '{close[0]}'?" if close else ""
        yield f"unknown parameter '{key}' ignored{suggestion}"


def _unknown_variable_warnings(environ: Mapping[str, str], names: set[str]) -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in names} | set(_KNOWN_VARIABLES)
    unknown = sorted(v for v in environ if v.startswith(ENV_PREFIX) and v not in known)
    if not unknown:
        return []
    # Variables of the plugs not chosen are not typos (one environment may serve several pipelines).
    others = {ENV_PREFIX + p.name.upper() for c in all_plugs() for p in c.params}
    warnings = []
    for variable in unknown:
        if variable in others:
            continue
        close = difflib.get_close_matches(variable, sorted(known), n=1)
        suggestion = f"; did you mean {close[0]}?" if close else ""
        warnings.append(f"unknown variable {variable} ignored{suggestion}")
    return warnings
