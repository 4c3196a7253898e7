"""The OpenWhisk entry point: ``main(params) -> dict``.

Parameters and ``__OW_*`` variables become settings; the result is a small JSON summary (plus the
checkpoint, with the default ``activation`` store). Any error becomes ``{"error": ...}`` with the
summary beside it, so the activation shows as failed in ``wsk activation list``. With ``check=true``
it runs the checks of ``logfwd check`` instead of forwarding.

OpenWhisk's Python runtime imports the action (the zip's ``__main__.py``, which imports this module)
when the container is initialized, before its first activation, and reports that time apart (the
``initTime`` annotation; docs/performance.md, "Cold start, as OpenWhisk counts it"). So what every
forwarding run of the process needs is imported then, at module import (``prepare``), not in the
first run.
"""

import logging
import os
import sys

from ..errors import LogfwdError
from ..runner import run_once
from ..settings import load_settings


def main(params: dict) -> dict:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if str(params.get("check", "")).strip().lower() in ("true", "1", "yes"):
        return check(params)
    try:
        settings = load_settings(params, os.environ)
        summary = run_once(settings)
    except LogfwdError as exc:
        return {"error": str(exc)}
    if summary.get("errors"):
        return {"error": "; ".join(summary["errors"]), **summary}
    return summary


def check(params: dict) -> dict:
    """``-p check true``: the checks of ``logfwd check`` from inside the deployed action; nothing is
    forwarded (``-p send_test_event true`` also sends one test event to each Logstash host)."""
    from ..check import check as run_checks, exit_code
    from ..checklist import ERROR, Options

    options = Options(send_test_event=str(params.get("send_test_event", "")).strip().lower() in ("true", "1", "yes"))
    rest = {k: v for k, v in params.items() if k not in ("check", "send_test_event")}
    items = run_checks(rest, os.environ, options=options)
    result = {"ok": exit_code(items) == 0, "checks": [item.as_dict() for item in items]}
    failed = [f"{item.area}: {item.found}" for item in items if item.status == ERROR]
    return {"error": "; ".join(failed), **result} if failed else result


def prepare() -> None:
    """Import what the default forwarder's first run would import: the openwhisk source with its API
    client (requests, urllib3, http.client), the lumberjack sink with TLS (ssl) and its compression,
    and the default (activation) and file checkpoint stores. Reads no settings and no environment:
    params come with each run, and the plugs are built from them then. Other plugs (kinesis, syslog,
    couchdb, ...) stay imported on first use. The system's CAs (~21 ms) are loaded by the first run
    that verifies a receiver against them and kept for the process (``tls.system_context``): loading
    them here would make every container's init pay for them, also one that sends no TLS."""
    from ..checkpoints import activation, file, sharded  # noqa: F401
    from ..sinks import tls  # noqa: F401
    from ..sinks.lumberjack import sink  # noqa: F401
    from ..sources.openwhisk import api, shards, source  # noqa: F401


prepare()
