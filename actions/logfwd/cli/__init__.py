"""The ``logfwd`` command: one sub-command per module in this package."""

import argparse
import importlib
import sys

# Sub-command name -> module in this package exposing ``register(subparsers)``; each registered
# parser sets ``func(args) -> int`` as its default.
COMMANDS = {
    "run": "run",
    "emulate": "emulate",
    "receive": "receive",
    "demo": "demo",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logfwd",
        description="Forward OpenWhisk activation logs to Logstash over Lumberjack v2.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMANDS.values():
        importlib.import_module(f"{__name__}.{module_name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
