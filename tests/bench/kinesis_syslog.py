"""``python -m tests.bench.kinesis_syslog [--records 10000] [--repeats 3] [--out FILE] [--stages]``.

One Kinesis batch of ``--records`` records of ~200-byte Convox lines, from the Lambda event to
rsyslog's file over TLS (rsyslogd from Debian, GnuTLS, with verification): the whole pipeline in this
process (decoding, events, RFC 5424 encoding, TLS, the clean close), rsyslogd in its own. Reports
lines/s from the invocation's start to the last line in rsyslog's file, the forwarder's CPU per line
and per batch, and rsyslogd's CPU for the batch (to show who limits). Issue 12's targets:
>= 100,000 lines/s, and a 10,000-record batch in under 0.5 s of client CPU. ``--stages`` also splits
the forwarder's CPU by stage (see ``kinesis_stages``).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from kinesis_events import kinesis_event  # noqa: E402
from servers_rsyslog import run_rsyslog  # noqa: E402

from logfwd.retry import NO_WAIT  # noqa: E402
from logfwd.runner import run_once  # noqa: E402
from logfwd.settings import load_settings  # noqa: E402

from . import kinesis_stages  # noqa: E402
from .report import kinesis_syslog_table, machine  # noqa: E402

LINE = "web:RXZMCQEPDKO/1d11a78279e0 method=GET path=/orders/{n:06d} host=shop.example.com request_id={n:08x}-6f6b-4a1a-9c5e-9b1a0c6b2f11 fwd=203.0.113.7 dyno=web.1 connect=1ms service={ms}ms status=200 bytes=5120"


def event(records: int) -> dict:
    return kinesis_event([("2026-11-30 05:00:00 " + LINE.format(n=n, ms=n % 97)).encode() for n in range(records)])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_batch(records: int, batch: dict, server, ca_file: Path) -> dict:
    settings = load_settings({"source": "kinesis", "sink": "syslog", "syslog_host": f"127.0.0.1:{server.port}",
                              "syslog_ca": str(ca_file)}, {}, None)
    before = server.count()
    receiver_cpu = _cpu_seconds(server.process.pid)
    wall, cpu = time.perf_counter(), time.process_time()
    summary = run_once(settings, event=batch, retry=NO_WAIT)
    client_cpu = time.process_time() - cpu
    sent = time.perf_counter() - wall
    give_up = time.monotonic() + 120
    while server.count() < before + records and time.monotonic() < give_up:  # counts new lines only
        time.sleep(0.002)
    arrived = time.perf_counter() - wall
    if not summary["ok"] or summary["answer"] != {"batchItemFailures": []} or server.count() != before + records:
        raise RuntimeError(f"the batch was not delivered whole: {json.dumps(summary)[:2000]}")
    return {"seconds_to_rsyslog_file": round(arrived, 4), "seconds_client": round(sent, 4),
            "client_cpu_s": round(client_cpu, 4), "receiver_cpu_s": round(_cpu_seconds(server.process.pid) - receiver_cpu, 4),
            "bytes": summary["bytes"], "connections": summary["batches"]}


def run(records: int, repeats: int, work: Path) -> dict:
    batch = event(records)
    payload_bytes = len(json.dumps(batch))
    rounds = []
    with run_rsyslog("tls") as server:
        ca_file = work / "ca.pem"
        ca_file.write_text(server.pki.ca)
        one_batch(min(records, 1000), event(min(records, 1000)), server, ca_file)  # warm up: imports, TLS
        for _ in range(repeats):
            rounds.append(one_batch(records, batch, server, ca_file))
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    # On a shared machine other work only ever slows a round down: the best round is the closest to
    # what the code costs, the median what a batch saw here.
    best = min(rounds, key=lambda r: r["seconds_to_rsyslog_file"])
    return {"records": records, "event_bytes": payload_bytes, "repeats": repeats, "rounds": rounds,
            "lines_per_s": round(records / median["seconds_to_rsyslog_file"]),
            "lines_per_s_best": round(records / best["seconds_to_rsyslog_file"]),
            "client_cpu_s": median["client_cpu_s"],
            "client_cpu_us_per_line": round(median["client_cpu_s"] / records * 1e6, 1),
            "client_cpu_us_per_line_best": round(min(r["client_cpu_s"] for r in rounds) / records * 1e6, 1),
            "receiver_cpu_s": median["receiver_cpu_s"],
            "receiver_cpu_us_per_line": round(median["receiver_cpu_s"] / records * 1e6, 1),
            "seconds_to_rsyslog_file": median["seconds_to_rsyslog_file"], "seconds_client": median["seconds_client"]}


def render(result: dict) -> str:
    return kinesis_syslog_table(result, result.get("machine", {}).get("load_average"))


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m tests.bench.kinesis_syslog", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--stages", action="store_true", help="also split the forwarder's CPU by stage")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="logfwd-bench-") as work:
        result = {"machine": machine(), **run(args.records, args.repeats, Path(work))}
        if args.stages:
            with run_rsyslog("tls") as server:
                ca_file = Path(work) / "stages-ca.pem"
                ca_file.write_text(server.pki.ca)
                result["stages_us_per_line"] = kinesis_stages.stages(event(args.records), server, ca_file, args.repeats)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result))
    if args.stages:
        print(kinesis_stages.render(result["stages_us_per_line"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
