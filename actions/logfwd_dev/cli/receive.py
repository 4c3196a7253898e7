"""``logfwd receive``: a local Lumberjack v2 receiver that writes every event as a JSON line."""

import argparse
import logging
import random
import signal
import sys
import threading

from logfwd.errors import ConfigError
from ..receiver.server import Receiver
from logfwd.sinks.tls import server_context


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "receive",
        help="run a local Lumberjack v2 receiver (behaves like Logstash's beats input)",
        description="Receive Lumberjack v2 windows and append each event as one JSON line to FILE. "
        "Prints 'listening on HOST:PORT (tls|plain), writing to FILE' once ready.",
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    parser.add_argument("--out", required=True, metavar="FILE", help="JSON-lines file to append events to")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--tls-cert", metavar="FILE", help="server certificate (PEM); enables TLS")
    parser.add_argument("--tls-key", metavar="FILE", help="private key of --tls-cert (PEM)")
    parser.add_argument("--tls-ca", metavar="FILE", help="CA for client certificates; makes them required")
    parser.add_argument("--ack-delay", type=float, default=0.0, metavar="S",
                        help="hold each ACK S seconds, as a blocked Logstash pipeline does")
    parser.add_argument("--keepalive-interval", type=float, default=5.0, metavar="S",
                        help="send '2A 0' keepalives every S seconds while an ACK is held (default: 5)")
    parser.add_argument("--idle-timeout", type=float, default=60.0, metavar="S",
                        help="disconnect clients idle for S seconds (default: 60, as Logstash)")
    parser.add_argument("--drop-before-ack", type=_probability, default=0.0, metavar="P",
                        help="fault injection: probability of closing instead of ACKing a window")
    parser.add_argument("--partial-ack", type=_probability, default=0.0, metavar="P",
                        help="fault injection: probability of ACKing part of a window, then closing")
    parser.add_argument("--no-validate", dest="validate", action="store_false",
                        help="do not parse each event as JSON, only check it reads {...} (for benchmarks)")
    parser.add_argument("--seed", type=int, help="seed of the fault-injection random generator")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every connection")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    _keep_freed_memory()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        context = _tls(args)
    except ConfigError as exc:
        print(f"logfwd receive: {exc}", file=sys.stderr)
        return 2
    try:
        receiver = Receiver(args.out, args.host, args.port, ssl_context=context, ack_delay=args.ack_delay,
                            keepalive_interval=args.keepalive_interval, drop_before_ack=args.drop_before_ack,
                            partial_ack=args.partial_ack, rng=random.Random(args.seed),
                            idle_timeout=args.idle_timeout, validate=args.validate)
    except OSError as exc:
        print(f"logfwd receive: cannot open --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        receiver.start()
    except OSError as exc:
        receiver.stop()
        print(f"logfwd receive: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    host, port = receiver.address
    print(f"listening on {host}:{port} ({'tls' if receiver.tls else 'plain'}), writing to {args.out}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    return 0


def _keep_freed_memory() -> None:
    """Let glibc keep freed memory for the next window instead of handing it back to the system.

    Every window allocates and frees a few MB (inflated C frames, the lines written). By default glibc
    returns that memory and the next window faults it in again: measured 0.16 page faults and ~0.6 us of
    CPU per event, an eighth of the receiver's cost. Other C libraries keep their defaults.
    """
    import ctypes  # here: only this command needs it, and the CLI's other commands start faster

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's maximum; allocations below it come from the heap
    mallopt(_M_TRIM_THRESHOLD, 64 << 20)  # free memory kept at the top of the heap before trimming


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a probability between 0 and 1")
    return value


def _tls(args: argparse.Namespace):
    if not (args.tls_cert or args.tls_key or args.tls_ca):
        return None
    if not (args.tls_cert and args.tls_key):
        raise ConfigError("--tls-cert/--tls-key", "must be given together", "give both, or neither for plain TCP")
    return server_context(args.tls_cert, args.tls_key, args.tls_ca, require_client_cert=bool(args.tls_ca))
