"""``logfwd check``: validate a configuration without forwarding anything; a checklist, one line each."""

import argparse
import json
import os

from ..errors import ConfigError
from .run import parse_params, read_wskprops

MARKS = {"ok": "ok  ", "warning": "warn", "error": "FAIL", "skipped": "--  "}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="check a configuration without forwarding anything",
        description="Check the parameters, what the source and the sink can reach, and the checkpoint store, "
                    "without forwarding anything. Takes the same parameters as 'logfwd run'. Exit code 0: "
                    "nothing wrong (warnings allowed); 1: something cannot be reached or refuses; 2: bad parameters.")
    parser.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter, as given to the action (repeatable)")
    parser.add_argument("--send-test-event", action="store_true",
                        help="send one test event to each Logstash host to see that it speaks Lumberjack "
                             "(it is indexed like any other)")
    parser.add_argument("--json", action="store_true", help="print the checklist as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..check import check, exit_code
    from ..checklist import ERROR, PARAMETERS, Item, Options

    try:
        params, wskprops = parse_params(args.param), read_wskprops(os.environ)
    except ConfigError as exc:
        items = [Item(PARAMETERS, ERROR, str(exc))]
    else:
        items = check(params, os.environ, wskprops, options=Options(send_test_event=args.send_test_event))
    code = exit_code(items)
    if args.json:
        print(json.dumps({"ok": code == 0, "checks": [item.as_dict() for item in items]}, indent=2))
    else:
        print(render(items))
    return code


def render(items) -> str:
    lines = []
    for item in items:
        lines.append(f"{MARKS.get(item.status, item.status)}  {item.area}: {item.found}")
        if item.fix and item.status != "ok":
            lines.append(f"      -> {item.fix}")
    errors = sum(item.status == "error" for item in items)
    warnings = sum(item.status == "warning" for item in items)
    lines.append(f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
                 + ("; nothing was forwarded" if items else ""))
    return "\n".join(lines)
