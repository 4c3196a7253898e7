"""``logfwd run``: one forwarding pass from a terminal, with the same parameters as the action."""

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from ..errors import ConfigError, LogfwdError
from ..settings import load_settings, parse_wskprops
from .progress import ProgressLine


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run one forwarding pass",
        description="Run one forwarding pass. Parameters come from --param, LOGFWD_<NAME> variables and "
                    "~/.wskprops (APIHOST, AUTH, NAMESPACE; WSK_CONFIG_FILE names another file), in that order.",
        epilog=parameter_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter, as given to the action (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="say what was read of each action, and log what happens to stderr")
    parser.set_defaults(func=run)


def parameter_help() -> str:
    """Every source's and sink's parameters, from their declarations."""
    from ..plugs import all_plugs
    from ..settings import CORE

    lines = ["parameters (--param NAME=VALUE, or LOGFWD_NAME):", "  common:"]
    lines += [f"    {p.name:22} {p.help}" for p in CORE]
    for component in all_plugs():
        lines.append(f"  {component.kind} {component.name} ({component.guarantee or component.mode}): {component.summary}")
        lines += [f"    {p.name:22} {p.help}{' (required)' if p.required else ''}" for p in component.params]
    return "\n".join(lines)


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError("--param", f"{pair!r} is not KEY=VALUE", "Write e.g. --param actions=hello,shop/*.")
        params[key.strip()] = value
    return params


def read_wskprops(environ) -> dict[str, str]:
    path = Path(environ.get("WSK_CONFIG_FILE") or Path.home() / ".wskprops")
    try:
        return parse_wskprops(path.read_text())
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError("WSK_CONFIG_FILE", f"cannot read {path}: {exc.strerror}") from None


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(parse_params(args.param), os.environ, read_wskprops(os.environ))
    except ConfigError as exc:
        print(f"logfwd: {exc}", file=sys.stderr)
        return 2
    progress = None if args.quiet or not sys.stderr.isatty() else ProgressLine(sys.stderr)
    from ..runner import run_once
    try:
        summary = run_once(settings, progress=progress)
    except LogfwdError as exc:
        if progress:
            progress.clear()
        print(f"logfwd: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    if progress:
        progress.clear()
    print(json.dumps(summary, indent=2) if args.json else render(summary, verbose=args.verbose))
    return 0 if summary.get("ok") else 1


def _bytes(summary: dict) -> str:
    text = _count(summary.get("bytes", 0), "byte")
    if "wire_bytes" in summary:
        text += f", {summary['wire_bytes']} on the wire"
    return text


def _count(n: int, noun: str, plural: str = "") -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def render(summary: dict, verbose: bool = False) -> str:
    """The summary as text: the totals, where it went, one line per action (with ``verbose``, its
    overlap and what was read of it), then every warning and error."""
    if "skipped" in summary:
        return f"skipped: {summary['skipped']}"
    where = [f"sink {summary.get('sink', '?')}, {summary.get('guarantee', '?')} delivery"]
    if "checkpoint" in summary:
        where.append(f"checkpoint {summary['checkpoint']}")
    if "lag_seconds" in summary:
        where.append(f"lag {summary['lag_seconds']} s")
    lines = [
        f"forwarded {_count(summary.get('events', 0), 'event')} from {_count(summary.get('records', 0), 'record')} "
        f"({_bytes(summary)}, {_count(summary.get('batches', 0), 'batch', 'batches')}) in {summary.get('seconds', 0)} s",
        "  " + "; ".join(where) + ("; more waiting" if summary.get("more") else ""),
    ]
    for name, took in summary.get("sinks", {}).items():  # a tee: what each sink took
        lines.append(f"  sink {name} ({took['guarantee']}): {_count(took['events'], 'payload')}, "
                     f"{_count(took['bytes'], 'byte')}, {_count(took['batches'], 'batch', 'batches')}")
    for name, counts in summary.get("actions", {}).items():
        lines.append(f"  {name}: {_count(counts['activations'], 'activation')}, {_count(counts['events'], 'event')}"
                     f"{' (newly monitored)' if counts.get('new') else ''}")
        read = counts.get("read")
        if verbose and read:
            forgotten = read.get("ids_forgotten")
            overlap = f", overlap {counts['overlap_seconds']:g} s" if "overlap_seconds" in counts else ""
            lines.append(f"    read {read['from']} .. {read['to']} in {_count(read['requests'], 'request')}{overlap}"
                         + (f"; {forgotten} delivered ids forgotten (may be re-sent)" if forgotten else ""))
    if summary.get("logs_pending") or summary.get("logs_unavailable"):
        lines.append(f"  activations waiting for their logs: {summary.get('logs_pending', 0)}, given up on (a marker "
                     f"event sent): {summary.get('logs_unavailable', 0)}")
    if summary.get("lines_unparsed") or summary.get("lines_truncated"):
        lines.append(f"  lines unparsed: {summary.get('lines_unparsed', 0)}, truncated: {summary.get('lines_truncated', 0)}")
    lines += [f"  warning: {w}" for w in summary.get("warnings", [])]
    lines += [f"  error: {e}" for e in summary.get("errors", [])]
    return "\n".join(lines)
