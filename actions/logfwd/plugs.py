"""Sources and sinks as plugs: each declares its parameters once, and the registry finds it by name.

A plug module holds only its declaration (``PLUG``) and imports its implementation inside ``build``,
so reading every declaration (for settings, hints and docs) stays cheap on a cold start. Settings
validation, ``logfwd run --help``, the README's parameter tables and the unknown-parameter hints are
all made from these declarations.
"""

import importlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .deadline import Deadline
from .errors import ConfigError
from .retry import RetryPolicy

# Delivery guarantees a sink declares; the pipeline moves a checkpoint or answers the platform only
# as far as its sink's guarantee reaches.
ACKNOWLEDGED = "acknowledged"  # the receiver confirmed every event (Lumberjack ACK)
WRITTEN = "written"            # written to a TCP/TLS connection that then closed cleanly
BEST_EFFORT = "best-effort"    # handed to the network (UDP): no confirmation exists

PULLED = "pulled"  # read on a schedule, with a checkpoint (OpenWhisk activations)
PUSHED = "pushed"  # given by the platform in the invocation's input (Kinesis, S3, a log drain)


@dataclass(frozen=True)
class Param:
    """One parameter: how to coerce it, its default, and how users learn about it."""

    name: str
    coerce: Callable[[str, Any], Any]
    default: Any = None
    required: bool = False
    secret: bool = False                # never shown; the coerce function returns a ``Secret``
    platform_env: str | None = None     # the __OW_* variable that supplies it on OpenWhisk
    wskprops: str | None = None         # the ~/.wskprops key (CLI only)
    help: str = ""


@dataclass(frozen=True)
class Plug:
    """A source or a sink: its name, its parameters, and how to build it from settings.

    ``build(settings, context)`` returns the runtime part. For a sink, ``guarantee`` is one of
    ``ACKNOWLEDGED``, ``WRITTEN``, ``BEST_EFFORT``; for a source, ``mode`` is ``PULLED`` or ``PUSHED``.
    ``check(values)`` may raise ``ConfigError`` for rules that span several of its parameters.
    """

    name: str
    kind: str  # "source" | "sink"
    params: tuple[Param, ...]
    build: Callable[..., Any]
    summary: str = ""
    guarantee: str | None = None
    mode: str | None = None
    check: Callable[[Mapping[str, Any]], None] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What a plug's ``build`` gets besides the settings: the run's deadline and retry policy, the
    clock, the invocation's input (pushed sources), and a place to share parts with the runner."""

    deadline: Deadline = field(default_factory=Deadline)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], float] = time.time
    event: Any = None  # the platform's input: a Lambda event, or {method, path, headers, body} of an HTTP drain
    resources: dict = field(default_factory=dict)  # e.g. "openwhisk_api": the client the activation store reads through


# name -> module that defines PLUG. Adding a component is one module and one line here.
SOURCES: dict[str, str] = {
    "openwhisk": "logfwd.sources.openwhisk",
    "kinesis": "logfwd.sources.kinesis",
    "logplex": "logfwd.sources.logplex",
    "s3": "logfwd.sources.s3",
}
SINKS: dict[str, str] = {
    "lumberjack": "logfwd.sinks.lumberjack",
    "syslog": "logfwd.sinks.syslog",
    "statsd": "logfwd.sinks.statsd",
    "tcp": "logfwd.sinks.tcp",
}
_KINDS = {"source": SOURCES, "sink": SINKS}


def plug(kind: str, name: str) -> Plug:
    """The declaration of source or sink ``name``; ``ConfigError`` naming the choices if unknown."""
    registry = _KINDS[kind]
    module = registry.get(name)
    if module is None:
        raise ConfigError(kind, f"unknown {kind} {name!r}", f"Choose one of: {', '.join(sorted(registry))}.")
    declared = importlib.import_module(module).PLUG
    if declared.name != name or declared.kind != kind:
        raise RuntimeError(f"{module}.PLUG declares {declared.kind} {declared.name!r}, registered as {kind} {name!r}")
    return declared


def all_plugs() -> list[Plug]:
    """Every registered source and sink, sources first, each in registry order."""
    return [plug(kind, name) for kind, registry in _KINDS.items() for name in registry]
