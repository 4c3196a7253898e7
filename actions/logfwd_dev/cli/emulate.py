"""``logfwd emulate``: serve a local OpenWhisk activations API until interrupted.

It prints where it listens, the API key and an ``apihost=`` line (the first line carries the URL, so
scripts started with ``--port 0`` can read the port from it).
"""

import argparse
import dataclasses
import gc
import random
import signal
import sys
import threading

from ..emulator import DEFAULT_API_KEY, DEFAULT_CATALOG, MAX_LIST_LIMIT, Emulator
from ..emulator.platform import LOG_STORES, TIE_ORDERS, Platform


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "emulate",
        help="serve a local OpenWhisk REST API emulator with realistic activations",
        description="A local OpenWhisk REST API (activations, logs, actions) for demos, tests and soaks.",
    )
    server = parser.add_argument_group("server")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    server.add_argument("--port", type=whole_number, default=3233,
                        help="port; 0 picks a free one (default %(default)s)")
    server.add_argument("--api-key", default=DEFAULT_API_KEY,
                        help="the accepted key 'uuid:key' (default: the guest key)")
    server.add_argument("--namespace", default="guest", help="the key's namespace, also '_' (default %(default)s)")
    server.add_argument("--list-lag", type=non_negative, default=2.0, metavar="S",
                        help="seconds after its end before a record shows in lists (default %(default)s)")
    server.add_argument("--external-logs", action="store_true",
                        help="records carry empty logs; logs only from .../activations/{id}/logs")
    server.add_argument("--max-limit", type=whole_number, default=MAX_LIST_LIMIT,
                        help="largest list limit, as some vendors lower it (default %(default)s)")
    server.add_argument("--duration", type=non_negative, metavar="S", help="exit after S seconds (default: never)")
    data = parser.add_argument_group("activations")
    data.add_argument("--actions", default=",".join(s.path for s in DEFAULT_CATALOG),
                      help="comma-separated actions to invoke (default %(default)s)")
    data.add_argument("--seed-activations", type=whole_number, default=100, metavar="N",
                      help="finished activations present at start (default %(default)s)")
    data.add_argument("--seed-span", type=non_negative, default=3600.0, metavar="S",
                      help="seconds in the past the seeded activations spread over (default %(default)s)")
    data.add_argument("--lines", type=whole_number, default=10, metavar="L",
                      help="log lines per activation (default %(default)s)")
    data.add_argument("--rate", type=non_negative, default=1.0, metavar="R",
                      help="new activations per second, 0 for none (default %(default)s)")
    data.add_argument("--max-duration", type=non_negative, default=5.0, metavar="S",
                      help="longest run of a produced activation (default %(default)s); a timed-out one "
                           "runs its action's whole time limit")
    data.add_argument("--burst", type=whole_number, default=0, metavar="N",
                      help="also start N activations in one millisecond every --burst-every seconds")
    data.add_argument("--burst-every", type=non_negative, default=10.0, metavar="S")
    data.add_argument("--random-seed", type=int, help="make the generated data reproducible")
    data.add_argument("--produced", metavar="FILE", help="append every produced activation to FILE (JSON lines)")
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--fail-rate", type=probability, default=0.0, metavar="P",
                        help="share of API requests answered 429, 502 or 503")
    faults.add_argument("--slow-rate", type=probability, default=0.0, metavar="P",
                        help="share of API requests answered late")
    faults.add_argument("--slow-seconds", type=non_negative, default=5.0, metavar="S")
    faults.add_argument("--reset-rate", type=probability, default=0.0, metavar="P",
                        help="share of API requests whose connection is reset without an answer")
    real = parser.add_argument_group("the real platform's timing and paging (docs/openwhisk-timing.md)")
    real.add_argument("--real-platform", action="store_true",
                      help="switch every behaviour below on at the soak's sizes (options given override)")
    real.add_argument("--stale-index", action="store_true", default=None,
                      help="lists answer from the index as of the previous query (stale=update_after)")
    real.add_argument("--late-records", action="store_true", default=None,
                      help="cold starts whose init takes up to the time limit: records end up to 2x it late")
    real.add_argument("--log-collection", type=non_negative, metavar="S",
                      help="up to S seconds between an activation's end and its record being stored")
    real.add_argument("--ties", choices=TIE_ORDERS,
                      help="order of records with the same start (default insertion)")
    real.add_argument("--drop-rate", type=drop_rate, metavar="P",
                      help="share of records a docs=true page silently leaves out (short pages mid-range)")
    real.add_argument("--skip-timeout", type=whole_number, metavar="N",
                      help="a list with skip >= N times out with a 500 or 504")
    real.add_argument("--log-store", choices=LOG_STORES,
                      help="where logs live: inline, external (/logs), delayed (/logs filled later) or "
                           "unavailable (/logs answers 'Logs are not available.')")
    real.add_argument("--logs-delay", type=non_negative, metavar="S",
                      help="with --log-store delayed: /logs is empty for S seconds after the record is stored")
    real.add_argument("--bare-triggers", action="store_true", default=None,
                      help="trigger records without end, duration and annotations, as the controller writes them")
    real.add_argument("--server-errors", action="store_true", default=None,
                      help="injected failures include 500 and 504")
    parser.set_defaults(func=run)


_PLATFORM_FIELDS = [f.name for f in dataclasses.fields(Platform)]


def platform_of(args: argparse.Namespace) -> Platform:
    """The platform options given, over the defaults (or over ``Platform.real()``)."""
    chosen = {name: getattr(args, name) for name in _PLATFORM_FIELDS if getattr(args, name, None) is not None}
    return Platform.real(**chosen) if args.real_platform else Platform(**chosen)


def run(args: argparse.Namespace) -> int:
    actions = [name.strip() for name in args.actions.split(",") if name.strip()]
    if not actions:
        print("logfwd emulate: --actions names no action; give e.g. --actions hello,shop/checkout", file=sys.stderr)
        return 2
    emulator = Emulator(
        args.host, args.port, api_key=args.api_key, namespace=args.namespace, list_lag=args.list_lag,
        fail_rate=args.fail_rate, slow_rate=args.slow_rate, slow_seconds=args.slow_seconds,
        reset_rate=args.reset_rate, rng=random.Random(args.random_seed), external_logs=args.external_logs,
        max_limit=args.max_limit, produced_path=args.produced, platform=platform_of(args),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        emulator.seed(actions, args.seed_activations, args.seed_span, args.lines, max_duration=args.max_duration)
        # The seeded backlog lives as long as the process: keep the cyclic collector from walking it
        # again and again while pages are served (at 100,000 activations that is most of its CPU).
        gc.freeze()
        if args.rate or args.burst:
            emulator.produce(args.rate, actions=actions, max_duration=args.max_duration, lines=args.lines,
                             burst=args.burst, burst_every=args.burst_every)
        print(f"OpenWhisk emulator on {emulator.url} (namespace {args.namespace})")
        print(f"API key: {args.api_key}")
        print(f"apihost={emulator.url}", flush=True)
        try:
            stop.wait(args.duration)
        except KeyboardInterrupt:
            pass
    return 0


# argparse names the type function in its message ("invalid number value: 'x'").
def non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def whole_number(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def drop_rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {text}")
    return value


def probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


non_negative.__name__ = drop_rate.__name__ = "number"
whole_number.__name__ = "whole number"
