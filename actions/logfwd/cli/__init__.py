"""The ``logfwd`` command: one sub-command per module.

Only the chosen sub-command's module is imported, so ``logfwd run`` starts as fast as the action does.
The development tools (emulator, receiver, demo) live in ``logfwd_dev``, outside the deployed package.
"""

import argparse
import importlib
import os
import sys

# Sub-command -> (module exposing ``register(subparsers)``, one-line help). Each registered parser
# sets ``func(args) -> int`` as its default.
COMMANDS = {
    "run": ("logfwd.cli.run", "run one forwarding pass"),
    "check": ("logfwd.cli.check", "check a configuration without forwarding anything"),
    "invoke": ("logfwd.cli.invoke", "run a pushed source on a saved event (Kinesis, S3, a drain request)"),
    "serve": ("logfwd.cli.serve", "serve a pushed source (a logplex drain) over HTTP"),
    "emulate": ("logfwd_dev.cli.emulate", "serve a local OpenWhisk API emulator"),
    "receive": ("logfwd_dev.cli.receive", "run a local Lumberjack v2 receiver"),
    "demo": ("logfwd_dev.cli.demo", "run a pipeline locally (openwhisk: emulator, receiver; kinesis: syslog over TLS)"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command``, only that sub-command is fully registered."""
    parser = argparse.ArgumentParser(
        prog="logfwd",
        description="Forward serverless logs: OpenWhisk activations, Kinesis, S3 load-balancer logs and Heroku drains, "
                    "to Logstash, syslog or statsd.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if command in (None, name):
            importlib.import_module(module_name).register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(chosen if chosen in COMMANDS else None).parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`logfwd run | head`): what it did not read is not worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a process ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
