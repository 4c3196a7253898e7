"""``python -m tests.bench.stages``: where the CPU of a warm forwarding pass goes, stage by stage.

Passes over one emulated backlog (N activations x 10 lines), each from a fresh checkpoint, in this
process: the first warms up (imports, first use), the later ones are timed (``time.process_time``, all
threads) with the cyclic garbage collector's own time (``gc.callbacks``). The emulator and the receiver
run as separate processes, as in the end-to-end benchmark.

For the split by stage, record the passes with a sampling profiler that sees every thread (py-spy,
installed for measuring only, not a dependency of logfwd) and let this module read its stacks::

    py-spy record --gil -r 200 --threads -f raw -o pass.raw -- python -m tests.bench.stages --activations 100000
    python -m tests.bench.stages --split pass.raw --us-per-line 6.0

``--gil`` keeps the samples of the thread holding the GIL (the CPU a Python thread spends; compression
and socket calls release it, so their CPU is outside the split: a few tenths of a us a line). Each
sample goes to the first stage, from the innermost frame out, whose pattern a frame matches; the split
is scaled to the measured CPU a line.
"""

import argparse
import gc
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from logfwd.runner import run_once
from logfwd.settings import load_settings
from logfwd_dev.emulator import DEFAULT_API_KEY

from . import end_to_end, procs, workload

# (stage, pattern of a frame), innermost frame first: the first match takes the sample.
STAGES = [
    ("decode pages (orjson)", r"^loads \(logfwd/codecs/jsonbytes"),
    ("held pages packed and unpacked", r"HeldPage|held_bytes|paging\.py"),
    ("owlog: trimmed fractions padded, new seconds checked, the general path", r"owlog\.py"),
    ("HTTP: requests, urllib3, http.client", r"requests/|urllib3/|http/client|email/|socket\.py|urllib/|openwhisk/transport\.py"),
    ("retry wrapper (tenacity)", r"tenacity|retry\.py"),
    ("events: shared part (faas, openwhisk)", r"sharedpart\.py|_annotations|_identity|check_fields"),
    ("events: lines (fast path), payloads", r"events\.py|recordevents\.py|plainlines\.py"),
    ("sink: framing, ACKs (compression off the GIL)", r"lumberjack|deflate|sinks/"),
    ("checkpoint", r"checkpoints/|_save|encode_seen|handover"),
    ("ids: dedupe, cursor", r"cursor\.py"),
    ("batcher, hand-over to the sender", r"batcher\.py|concurrent/futures|threading\.py"),
    ("source: paging, backlog, units", r"sources/openwhisk"),
    ("pipeline", r"pipeline\.py"),
]


def passes(activations: int, count: int) -> list[dict]:
    actions = list(workload.ACTIONS)
    gc_seconds, started = [0.0], [0.0]

    def collector(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            gc_seconds[0] += time.thread_time() - started[0]

    results = []
    with tempfile.TemporaryDirectory(prefix="logfwd-stages-") as work, \
            procs.emulator(actions, activations, end_to_end.LINES, end_to_end.SPAN, Path(work)) as (url, _), \
            procs.receiver(Path(work) / "received.jsonl", Path(work)) as (port, _):
        time.sleep(end_to_end.SETTLE)
        gc.callbacks.append(collector)
        for n in range(count + 1):
            lines, gc_seconds[0], cpu = 0, 0.0, time.process_time()
            for _ in range(end_to_end.MAX_RUNS):  # until drained
                settings = load_settings({
                    "apihost": url, "api_key": DEFAULT_API_KEY, "actions": ",".join(actions),
                    "logstash_hosts": f"127.0.0.1:{port}", "logstash_tls": "false",
                    "checkpoint": f"file:{Path(work) / f'checkpoint-{n}.json'}",
                    "initial_lookback": str(end_to_end.LOOKBACK)}, {}, None)
                summary = run_once(settings)
                lines += summary["events"]
                if not summary.get("more"):
                    break
            cpu = time.process_time() - cpu
            results.append({"pass": n, "lines": lines, "cpu_us_per_line": round(1e6 * cpu / lines, 2),
                            "gc_us_per_line": round(1e6 * gc_seconds[0] / lines, 2), "warm": n > 0})
        gc.callbacks.remove(collector)
    return results


def split(raw: Path, us_per_line: float) -> list[tuple[str, float, float]]:
    """py-spy's raw stacks (``frame;frame;... count``) of the passes, by stage: (stage, us a line, share)."""
    counts: Counter = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        if "MainThread" in frames[0] and not any(frame.startswith("passes (") for frame in frames):
            continue  # this process starting the servers, not a pass
        stage = next((name for frame in reversed(frames) for name, pattern in STAGES if re.search(pattern, frame)),
                     "other")
        counts[stage] += int(n)
    total = sum(counts.values()) or 1
    return [(stage, us_per_line * n / total, n / total) for stage, n in counts.most_common()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activations", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=2, help="timed passes after the warm-up one")
    parser.add_argument("--split", type=Path, help="py-spy raw stacks of a run of this module to split by stage")
    parser.add_argument("--us-per-line", type=float, help="with --split: the measured CPU a line to scale to")
    args = parser.parse_args(argv)
    if args.split:
        for stage, us, share in split(args.split, args.us_per_line or 1.0):
            print(f"{us:6.2f} us a line  {100 * share:5.1f} %  {stage}")
        return 0
    for result in passes(args.activations, args.passes):
        print(f"pass {result['pass']} ({'warm' if result['warm'] else 'warm-up'}): {result['lines']:,} lines, "
              f"{result['cpu_us_per_line']} us of CPU a line, of which the garbage collector "
              f"{result['gc_us_per_line']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
