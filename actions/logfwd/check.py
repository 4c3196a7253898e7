"""``check``: validate a configuration without forwarding anything, as a checklist.

One ``Item`` per thing checked: the parameters (every problem at once), then what the chosen source and
sink can reach (each plug package may have a ``probe`` module with ``probe(settings, context, options)``
yielding items), then the checkpoint store of a pulled source. An item that cannot be checked because
an earlier one failed is not listed: the failure says what to fix first.

Exit codes, as ``logfwd run``: 0 when nothing is wrong (warnings allowed), 1 when something cannot be
reached or refuses us, 2 when the parameters are wrong.
"""

import importlib
import time
from typing import Any, Iterator, Mapping

from .checklist import ERROR, OK, PARAMETERS, SKIPPED, WARNING, Item, Options
from .deadline import Deadline
from .errors import ConfigError, ConfigErrors, LogfwdError
from .plugs import PULLED, SINKS, SOURCES, Context, plug
from .retry import RetryPolicy
from .settings import load_settings

CHECK_TIME = 60.0  # seconds the whole check may take
CHECK_RETRY = RetryPolicy(attempts=2, initial=0.2, maximum=1.0, jitter=0.1)  # a check reports; it does not wait


def check(params: Mapping[str, Any], environ: Mapping[str, str], wskprops: Mapping[str, str] | None = None, *,
          options: Options = Options(), retry: RetryPolicy = CHECK_RETRY) -> list[Item]:
    """Every item of the checklist, in order."""
    return list(_items(params, environ, wskprops, options, retry))


def exit_code(items: list[Item]) -> int:
    if any(item.status == ERROR and item.area == PARAMETERS for item in items):
        return 2
    return 1 if any(item.status == ERROR for item in items) else 0


def _items(params, environ, wskprops, options: Options, retry: RetryPolicy) -> Iterator[Item]:
    try:
        settings = load_settings(params, environ, wskprops)
    except ConfigError as exc:
        for problem in exc.problems if isinstance(exc, ConfigErrors) else [exc]:
            yield Item(PARAMETERS, ERROR, str(problem))
        return
    sinks = f"sinks {', '.join(settings.sinks)} (a tee)" if len(settings.sinks) > 1 else f"sink {settings.sink}"
    yield Item(PARAMETERS, OK, f"source {settings.source}, {sinks}: every parameter is valid")
    for warning in settings.warnings:
        yield Item(PARAMETERS, WARNING, warning)

    context = Context(deadline=Deadline(time.time() + CHECK_TIME), retry=retry)
    for kind, name in (("source", settings.source), *(("sink", name) for name in settings.sinks)):
        probe = _probe_of((SOURCES if kind == "source" else SINKS)[name])
        if probe is None:
            yield Item(f"{kind} {name}", SKIPPED, "no checks beyond its parameters")
            continue
        yield from _guarded(f"{kind} {name}", probe(settings, context, options))
    if plug("source", settings.source).mode == PULLED:
        from .checkpoints.probe import probe as probe_store
        from .pipeline import FORMAT
        yield from _guarded("checkpoint", probe_store(settings, context, FORMAT))
        positions = _probe_of(SOURCES[settings.source], "positions")
        if "checkpoint" in context.resources and positions is not None:
            yield from _guarded("checkpoint", positions(context.resources["checkpoint"].get("source"), time.time()))
    for part in list(context.resources.values()):
        close = getattr(part, "close", None)
        if close:
            close()


def _probe_of(module: str, function: str = "probe"):
    """``function`` of the plug package's ``probe`` module, if it has one."""
    try:
        return getattr(importlib.import_module(f"{module}.probe"), function, None)
    except ModuleNotFoundError as exc:
        if exc.name != f"{module}.probe":
            raise
        return None


def _guarded(area: str, items: Iterator[Item]) -> Iterator[Item]:
    """A probe's items; an error it did not foresee ends that probe as an error item, not the check."""
    try:
        yield from items
    except ConfigError as exc:  # found only once used, e.g. a PEM file that does not load
        yield Item(PARAMETERS, ERROR, str(exc))
    except LogfwdError as exc:
        yield Item(area, ERROR, str(exc))
