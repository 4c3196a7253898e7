"""``python -m tests.bench --out bench-result.json [--quick] [--only events,compression,sink,...]``.

Runs the three benchmarks of issue 5 (sink, end_to_end, cold_start), issue 12's Kinesis batch to
rsyslog over TLS (kinesis_syslog), issue 15's busy-namespace and shards tables (busy), issue 13's
gzip ALB object from moto's S3 to a json_lines receiver (s3_elb), and the event and compression tables
behind the choices made; prints the tables and the targets, writes every figure as JSON.
``--quick`` uses tiny sizes (the smoke test in ``make test`` runs it); its figures mean nothing.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from . import busy, cold_start, compression, drain, end_to_end, events, kinesis_syslog, report, s3_elb, sink, statsd_routing

FULL = {"drain_seconds": 5.0, "routing_names": 40_000, "event_activations": 2000, "compression_events": 16 * 2048, "compression_repeats": 3,
        "sink_events": 40 * 2048, "sink_rounds": 5,
        "sizes": [1_000, 10_000, 100_000], "size_repeats": {1_000: 5, 10_000: 3, 100_000: 2}, "cold_repeats": 7,
        "kinesis_records": 10_000, "kinesis_repeats": 5,
        "busy_rates": [10, 50, 100, 300], "busy_durable_rates": [300], "busy_runs": 12, "shard_rate": 300,
        "shard_counts": [1, 2, 4], "shard_budget": 4.0,
        "s3_lines": 100_000, "s3_big_mb": 100}
QUICK = {"drain_seconds": 0.3, "routing_names": 2_000, "event_activations": 50, "compression_events": 2048, "compression_repeats": 1,
         "sink_events": 2 * 2048, "sink_rounds": 1,
         "sizes": [50, 200], "size_repeats": {50: 2}, "cold_repeats": 2,
         "kinesis_records": 200, "kinesis_repeats": 2,
         "busy_rates": [2], "busy_durable_rates": [2], "busy_runs": 3, "shard_rate": 2, "shard_counts": [1, 2],
         "shard_budget": 10.0, "s3_lines": 500, "s3_big_mb": 2}
BENCHMARKS = ("events", "compression", "sink", "end_to_end", "cold_start", "kinesis_syslog", "busy", "drain", "s3_elb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-result.json"), help="JSON file to write")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke check, not a measurement")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help="comma-separated subset of " + ", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    sizes = QUICK if args.quick else FULL
    result: dict = {"quick": args.quick, "machine": report.machine()}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="logfwd-bench-") as work:
        work = Path(work)
        # First: its peak RSS is the process's peak so far, which the other benchmarks would inflate.
        if "busy" in chosen:
            _progress(f"busy namespace, {', '.join(map(str, sizes['busy_rates']))} activations/s, and shards")
            result["busy"] = busy.run(sizes["busy_rates"], sizes["busy_durable_rates"], sizes["busy_runs"], work,
                                      sizes["shard_rate"], sizes["shard_counts"], sizes["shard_budget"])
        if "events" in chosen:
            _progress("events")
            result["events"] = events.run(sizes["event_activations"], sizes["compression_repeats"] + 2)
        if "compression" in chosen:
            _progress("compression")
            result["compression"] = compression.run(sizes["compression_events"], sizes["compression_repeats"])
        if "sink" in chosen:
            _progress("sink throughput")
            result["sink"] = sink.run(sizes["sink_events"], sizes["sink_rounds"], work)
        if "end_to_end" in chosen:
            _progress(f"end to end, N = {', '.join(map(str, sizes['sizes']))}")
            result["end_to_end"] = end_to_end.run(sizes["sizes"], work, sizes["size_repeats"])
        if "cold_start" in chosen:
            _progress("cold start")
            result["cold_start"] = cold_start.run(sizes["cold_repeats"], work)
        if "kinesis_syslog" in chosen:
            _progress(f"kinesis -> syslog over TLS, {sizes['kinesis_records']:,} records")
            result["kinesis_syslog"] = kinesis_syslog.run(sizes["kinesis_records"], sizes["kinesis_repeats"], work)
        if "drain" in chosen:
            _progress("Heroku drain -> two statsd daemons, and the collector routing")
            result["drain"] = {**drain.run(sizes["drain_seconds"], work=work),
                               "routing": statsd_routing.run(sizes["routing_names"])}
        if "s3_elb" in chosen:
            _progress(f"S3 ELB -> tcp json_lines, {sizes['s3_lines']:,} lines, memory at 1 and {sizes['s3_big_mb']} MB")
            result["s3_elb"] = s3_elb.run(sizes["s3_lines"], sizes["s3_big_mb"])
    result["machine_after"] = {"load_average": [round(x, 2) for x in os.getloadavg()]}
    result["seconds"] = round(time.monotonic() - started, 1)
    result["targets"] = report.targets(result)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(report.render(result))
    print(f"\n{len(chosen)} benchmark(s) in {result['seconds']} s; figures in {args.out}")
    return 0


def _progress(what: str) -> None:
    print(f"running: {what} ...", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
