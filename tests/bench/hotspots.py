"""``python -m tests.bench.hotspots [--activations N] [--top K]``: where a forwarding pass spends its time.

The emulator and the receiver run as separate processes (as in the end-to-end benchmark); the pass
runs in this process under cProfile, so the figures are the forwarder's own. cProfile's clock is
wall time: time spent waiting for a page or an ACK shows up in the socket calls.
"""

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

from logfwd_dev.emulator import DEFAULT_API_KEY
from logfwd.runner import run_once
from logfwd.settings import load_settings

from . import end_to_end, procs, workload


def profile(activations: int, work: Path) -> tuple[dict, pstats.Stats]:
    actions = list(workload.ACTIONS)
    with procs.emulator(actions, activations, end_to_end.LINES, end_to_end.SPAN, work) as (url, _), \
            procs.receiver(work / "received.jsonl", work) as (port, _):
        settings = load_settings({"apihost": url, "api_key": DEFAULT_API_KEY, "actions": ",".join(actions),
                                  "logstash_hosts": f"127.0.0.1:{port}", "logstash_tls": "false",
                                  "checkpoint": f"file:{work / 'checkpoint.json'}",
                                  "initial_lookback": str(end_to_end.LOOKBACK)}, {}, None)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        summary = profiler.runcall(run_once, settings)
        summary["profiled_wall_seconds"] = round(time.perf_counter() - started, 3)
    return summary, pstats.Stats(profiler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activations", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--dump", type=Path, help="also write the raw profile (for snakeviz, pstats)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="logfwd-hotspots-") as work:
        summary, stats = profile(args.activations, Path(work))
    print(f"{summary['events']} lines from {summary['records']} activations in "
          f"{summary['profiled_wall_seconds']} s under cProfile ({summary['api_requests']} API requests)")
    if args.dump:
        stats.dump_stats(args.dump)
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        stats.stream = text
        stats.sort_stats(order).print_stats(args.top)
        print(f"--- by {order} ---")
        print(text.getvalue().split("\n", 6)[-1].rstrip())  # without pstats' own header lines
    return 0


if __name__ == "__main__":
    sys.exit(main())
