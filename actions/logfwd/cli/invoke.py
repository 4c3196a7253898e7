"""``logfwd invoke --event FILE``: run a pushed source's pipeline on a saved platform event, locally.

As ``sam local invoke`` and ``serverless invoke local`` do: the event file holds what the platform
would pass (a Kinesis or S3 Lambda event, a CloudWatch Logs subscription, or an HTTP drain request as
``{"method", "path", "headers", "body"}``), the parameters come as for ``logfwd run``, and the
platform's answer is printed as JSON (the summary goes to stderr).
"""

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from ..errors import ConfigError, LogfwdError
from ..settings import load_settings
from .run import parse_params, render


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "invoke", help="run a pushed source on a saved event (Kinesis, S3, a drain request)",
        description="Run one invocation of a pushed pipeline on a saved platform event and print the "
                    "platform's answer. Parameters come from --param and LOGFWD_<NAME> variables.")
    parser.add_argument("--event", "-e", required=True, metavar="FILE", help="the event as JSON ('-' reads stdin)")
    parser.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter, e.g. source=kinesis (repeatable)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log what happens to stderr")
    parser.set_defaults(func=invoke)


def read_event(path: str):
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise ConfigError("--event", f"cannot read {path}: {exc.strerror}") from None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError("--event", f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(event, dict) and isinstance(event.get("body"), str) and "method" in event:
        event["body"] = event["body"].encode("utf-8")  # an HTTP request saved as text
    return event


def invoke(args: argparse.Namespace) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        event = read_event(args.event)
        settings = load_settings(parse_params(args.param), os.environ)
    except ConfigError as exc:
        print(f"logfwd: {exc}", file=sys.stderr)
        return 2
    from ..runner import run_once
    try:
        summary = run_once(settings, event=event)
    except LogfwdError as exc:
        print(f"logfwd: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    print(render(summary), file=sys.stderr)
    print(json.dumps(summary.get("answer"), indent=2))
    return 0 if summary.get("ok") else 1
