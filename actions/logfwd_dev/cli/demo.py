"""``logfwd demo [openwhisk|kinesis]``: a whole pipeline on one machine, no cloud account needed.

``kinesis`` is in ``demo_kinesis``. ``openwhisk`` (the default) starts ``logfwd emulate`` (an OpenWhisk
API with a backlog of activations) and ``logfwd receive`` (a Lumberjack v2 receiver writing JSON lines),
runs ``logfwd run`` twice with a file checkpoint, and shows that the second run sends nothing again.
"""

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

_URL = re.compile(r"(http://127\.0\.0\.1:\d+)")
_KEY = re.compile(r"API key: (\S+)")
_LISTEN = re.compile(r"listening on [\d.]+:(\d+)")


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run a pipeline locally: openwhisk (emulator, receiver, two "
                                   "passes) or kinesis (Lambda events to a local syslog receiver over TLS)")
    parser.add_argument("pipeline", nargs="?", choices=("openwhisk", "kinesis"), default="openwhisk",
                        help="which pipeline (default openwhisk)")
    parser.add_argument("--activations", type=int, default=600, help="openwhisk: backlog in the emulator (default 600)")
    parser.add_argument("--state", default="state", help="folder for the checkpoint, events and what was received")
    parser.set_defaults(func=demo)


def _shown(argv: list[str]) -> str:
    """The command line as a user would type it, to run the same step by hand."""
    return "logfwd " + shlex.join(argv)


def _start(argv: list[str], *patterns: re.Pattern) -> tuple[subprocess.Popen, list[str]]:
    """Start a logfwd server and read its banner until every pattern matched."""
    print(f"$ {_shown(argv)}")
    proc = subprocess.Popen([sys.executable, "-m", "logfwd", *argv], stdout=subprocess.PIPE, text=True)
    found: list[str | None] = [None] * len(patterns)
    for line in proc.stdout:
        print(f"  | {line.rstrip()}")
        for i, pattern in enumerate(patterns):
            match = pattern.search(line)
            if match and found[i] is None:
                found[i] = match.group(1)
        if all(found):
            return proc, found
    raise SystemExit(f"logfwd {argv[0]} exited before it was ready (exit code {proc.wait()})")


def demo(args: argparse.Namespace) -> int:
    if args.pipeline == "kinesis":
        from .demo_kinesis import demo as kinesis_demo

        return kinesis_demo(args)
    return openwhisk_demo(args)


def openwhisk_demo(args: argparse.Namespace) -> int:
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True)
    checkpoint, received = state / "demo-checkpoint.json", state / "demo-received.jsonl"
    checkpoint.unlink(missing_ok=True)
    received.unlink(missing_ok=True)

    print("Starting the OpenWhisk emulator and the Lumberjack receiver:")
    emulator, (url, key) = _start(["emulate", "--port", "0", "--seed-activations", str(args.activations),
                                   "--seed-span", "1800", "--lines", "10", "--rate", "0", "--random-seed", "1"], _URL, _KEY)
    receiver, (port,) = _start(["receive", "--port", "0", "--out", str(received)], _LISTEN)
    params = {"apihost": url, "api_key": key, "actions": "*", "logstash_hosts": f"127.0.0.1:{port}",
              "logstash_tls": "false", "checkpoint": f"file:{checkpoint}", "initial_lookback": "3600"}
    run = ["run", *[f"--param={name}={value}" for name, value in params.items()]]
    try:
        for attempt in ("First run", "Second run (nothing new may be sent twice)"):
            print(f"\n{attempt}:\n$ {_shown(run)}", flush=True)
            code = subprocess.call([sys.executable, "-m", "logfwd", *run])
            if code:
                return code
        lines = received.read_text().splitlines()
        ids = [json.loads(line)["@metadata"]["_id"] for line in lines]
        print(f"\nThe receiver wrote {len(lines)} events to {received} ({len(set(ids))} distinct _id); one of them:")
        print("  " + lines[len(lines) // 2][:400] if lines else "  (none)")
    finally:
        for proc in (emulator, receiver):
            proc.terminate()
            proc.wait(timeout=10)
    return 0
