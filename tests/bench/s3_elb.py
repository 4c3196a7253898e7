"""S3 load-balancer logs -> Logstash json_lines: ``python -m tests.bench.s3_elb [--lines N] [--big-mb M]``.

moto's S3 server (its own process) holds a 100,000-line gzip ALB object; a receiver in its own
process reads json_lines and closes each connection at EOF, as Logstash's tcp input does. Measured:

- end to end, in a child process: the s3 source and the tcp sink through ``pipeline.forward``; lines/s
  (wall clock), the child's CPU time per line (``wait4``) and peak resident memory (``VmHWM``);
- CPU per line of each stage, one after the other in this process: read + inflate (GetObject streamed
  and split into lines), parse + encode as the pipeline does it for the tcp sink (``json_payloads`` of a
  unit's ``ObjectLines``), send (``TcpSink.send``); and the general path's parse (``parse_line``) and
  encode (``json_payloads`` of the dicts), which other sinks and lines the fast path does not take use;
- peak memory of the end-to-end child for a 1 MB and a ``--big-mb`` MB object (plain classic ELB
  lines), to show that reading streams: the peak should not grow with the object.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator

from tests.servers_s3 import CREDENTIALS, alb_line, classic_line, log_object, run_s3_server, stop_s3_server

BUCKET = "bench"
_RECEIVER = """
import socket, sys, threading
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
def serve(sock):
    count = 0
    while True:
        data = sock.recv(1 << 20)
        if not data:
            break
        count += data.count(b"\\n")
    sock.close()
while True:
    sock, _ = listener.accept()
    threading.Thread(target=serve, args=(sock,), daemon=True).start()
"""
_FORWARD = """
import json, sys, time
cpu = time.process_time
started_cpu, started_wall = cpu(), time.perf_counter()  # after the interpreter's own start
from logfwd.pipeline import forward
from logfwd.sinks.tcp.sink import TcpSink
from logfwd.sources.s3.client import s3_client
from logfwd.sources.s3.source import S3Source
endpoint, bucket, key, port = sys.argv[1:5]
# Lambda's init phase: the entry makes the client on import (entries/aws_lambda.prepare), boto3 with it.
s3_client(endpoint)
init_seconds, init_cpu = time.perf_counter() - started_wall, cpu() - started_cpu
event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                      "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
# The first invocation of the new environment.
started, first_started_cpu = time.perf_counter(), cpu()
summary = forward(S3Source(event, s3_client(endpoint)), TcpSink([("127.0.0.1", int(port))]), None)
seconds, cold_cpu = time.perf_counter() - started, cpu() - first_started_cpu
# A warm invocation: the same process again (imports done, the client kept), as Lambda reuses it.
started, warm_started_cpu = time.perf_counter(), cpu()
warm = forward(S3Source(event, s3_client(endpoint)), TcpSink([("127.0.0.1", int(port))]), None)
warm_seconds, warm_cpu = time.perf_counter() - started, cpu() - warm_started_cpu
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "ok": summary["ok"] and warm["ok"], "peak_kib": peak,
                  "lines": summary["lines_delivered"], "errors": summary.get("errors") or warm.get("errors"),
                  "cold_cpu": cold_cpu, "init_seconds": init_seconds, "init_cpu": init_cpu,
                  "warm_seconds": warm_seconds, "warm_cpu": warm_cpu,
                  "warm_lines": warm["lines_delivered"]}))
"""

def _env() -> dict:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return {**os.environ, **CREDENTIALS, "PYTHONPATH": os.path.join(root, "actions")}


def _child(code: str, *args: str) -> tuple[str, float]:
    """Run ``code``; its output and CPU seconds (user + system), from ``wait4``. (Its peak memory comes
    from its own VmHWM: ``ru_maxrss`` would count the parent's pages from before ``exec``.)"""
    process = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, env=_env())
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"the child failed ({status}): {output}")
    return output, usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` used so far, from ``/proc/<pid>/stat``."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def end_to_end(endpoint: str, key: str, port: int, others: dict[str, int] | None = None) -> dict:
    """The child does what a new Lambda environment does: its init (imports, boto3, the client, as the
    entry makes it on import), then the object twice: the first invocation, and a warm one (the same
    process again). Figures per line; ``others`` (name -> pid) get their CPU during both."""
    before = {name: _process_cpu(pid) for name, pid in (others or {}).items()}
    output, cpu = _child(_FORWARD, endpoint, BUCKET, key, str(port))
    result = json.loads(output)
    if not result["ok"]:
        raise RuntimeError(f"the forwarder failed: {result['errors']}")
    lines = result["lines"]
    if result["warm_lines"] != lines:
        raise RuntimeError(f"the warm pass delivered {result['warm_lines']} of {lines} lines")
    figures = {"lines": lines, "seconds": round(result["seconds"], 2), "lines_per_s": round(lines / result["seconds"]),
               "cpu_us_per_line": round(result["cold_cpu"] / lines * 1e6, 1),
               "init_ms": round(result["init_seconds"] * 1000), "init_cpu_ms": round(result["init_cpu"] * 1000),
               "process_cpu_us_per_line": round((cpu - result["warm_cpu"]) / lines * 1e6, 1),
               "warm_seconds": round(result["warm_seconds"], 2),
               "warm_lines_per_s": round(lines / result["warm_seconds"]),
               "warm_cpu_us_per_line": round(result["warm_cpu"] / lines * 1e6, 1),
               "peak_rss_mb": round(result["peak_kib"] / 1024, 1)}
    for name, pid in (others or {}).items():  # over both passes: 2 x lines
        figures[f"{name}_cpu_us_per_line"] = round((_process_cpu(pid) - before[name]) / (2 * lines) * 1e6, 1)
    return figures


def stages(client, key: str, port: int) -> tuple[dict, dict]:
    """CPU microseconds per line of each stage, measured one after the other in this process: read +
    inflate, parse + encode as the pipeline does it for a JSON sink (``ObjectLines.payloads``: ALB lines
    written straight as JSON), send; and, for comparison, the general path's parse (``parse_line``) and
    encode (``json_payloads`` of the dict), which any other sink and the lines the fast path does not
    take go through."""
    from logfwd.codecs.elblog import parse_line
    from logfwd.codecs.jsonbytes import json_payloads
    from logfwd.sinks.tcp.sink import TcpSink
    from logfwd.sources.s3.events import ObjectContext, ObjectLines
    from logfwd.sources.s3.lines import decoded_lines, inflated, line_runs
    from logfwd.sources.s3.source import LINES_PER_UNIT

    cpu = time.process_time
    started = cpu()
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
    texts = [line for run in line_runs(inflated(body.iter_chunks(256 << 10))) for line in decoded_lines(run, 0)[0]]
    read = cpu() - started
    context = ObjectContext("0" * 20, f"s3://{BUCKET}/{key}", {"bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                                                               "object": {"key": key}}, None)
    units = []
    for start in range(0, len(texts), LINES_PER_UNIT):
        unit = ObjectLines(context)
        for number, text in enumerate(texts[start:start + LINES_PER_UNIT], start + 1):
            unit.append(text, number, 0)
        units.append(unit)
    started = cpu()
    for unit in units:  # each unit's documents dropped at once, as the pipeline does once they are sent
        json_payloads(unit)
    parse_encode = cpu() - started
    payloads = [payload for unit in units for payload in json_payloads(unit)]
    # The general path: parse alone, over every line; then encode alone, unit by unit (documents kept
    # for a unit cost the garbage collector, so they are made before the clock starts).
    started = cpu()
    for text in texts:
        parse_line(text)
    parse = cpu() - started
    encode = 0.0
    for start in range(0, len(texts), LINES_PER_UNIT):
        documents = [parse_line(text) for text in texts[start:start + LINES_PER_UNIT]]
        started = cpu()
        encoded: list[bytes] = []
        for document in documents:
            encoded += json_payloads([document])
        b"\n".join(encoded)
        encode += cpu() - started
    sink, started = TcpSink([("127.0.0.1", port)]), cpu()
    for start in range(0, len(payloads), 4096):
        sink.send(payloads[start:start + 4096])
    send = cpu() - started
    count = len(texts)

    def per_line(pairs) -> dict:
        return {name: round(seconds / count * 1e6, 2) for name, seconds in pairs}
    return (per_line((("read_inflate", read), ("parse_encode", parse_encode), ("send", send))),
            per_line((("parse", parse), ("encode", encode))))


@contextmanager
def servers() -> Iterator[tuple]:
    """moto's S3 server with the bucket, and the json_lines receiver: (server, client, receiver, its port)."""
    os.environ.update(CREDENTIALS)
    server = run_s3_server()
    receiver = subprocess.Popen([sys.executable, "-c", _RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(receiver.stdout.readline())
        client = server.client()
        client.create_bucket(Bucket=BUCKET)
        yield server, client, receiver, port
    finally:
        receiver.kill()
        receiver.wait()
        stop_s3_server(server)


def run_stages(lines: int) -> dict:
    """``s3_stages.stages`` for a ``lines``-line gzip ALB object (``--stages``)."""
    from tests.bench.s3_stages import stages as split

    with servers() as (_, client, _, port):
        client.put_object(Bucket=BUCKET, Key="alb.log.gz", Body=log_object(alb_line, lines, compress=True))
        return split(client, BUCKET, "alb.log.gz", port, lines)


def run(lines: int, big_mb: int) -> dict:
    """The figures for a ``lines``-line gzip ALB object, and memory for 1 MB and ``big_mb`` MB objects."""
    with servers() as (server, client, receiver, port):
        client.put_object(Bucket=BUCKET, Key="alb.log.gz", Body=log_object(alb_line, lines, compress=True))
        cpu, general = stages(client, "alb.log.gz", port)
        others = {"receiver": receiver.pid, "moto": server.process.pid}
        result = {"alb_gzip": {"lines": lines, **end_to_end(server.endpoint, "alb.log.gz", port, others)},
                  "cpu_us_per_line": cpu, "general_path_us_per_line": general, "memory": {}}
        line_bytes = len(classic_line(50_000)) + 1
        for megabytes in (1, big_mb):
            key = f"classic-{megabytes}mb.log"
            client.put_object(Bucket=BUCKET, Key=key, Body=log_object(classic_line, megabytes * 2**20 // line_bytes))
            result["memory"][f"{megabytes}MB"] = end_to_end(server.endpoint, key, port)
            client.delete_object(Bucket=BUCKET, Key=key)
    result["bench_process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["load_average"] = [round(load, 2) for load in os.getloadavg()]  # other work on the machine
    result["cpus"] = os.cpu_count()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.s3_elb", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000, help="lines of the gzip ALB object")
    parser.add_argument("--big-mb", type=int, default=100, help="size of the big plain object for the memory check")
    parser.add_argument("--out", help="also write the figures to this JSON file")
    parser.add_argument("--stages", action="store_true", help="only the forwarder's CPU per line, stage by stage")
    args = parser.parse_args(argv)
    if args.stages:
        from tests.bench.s3_stages import render

        split = run_stages(args.lines)
        print(render(split))
        print(f"(load average {' '.join(f'{load:.2f}' for load in os.getloadavg())})")
        if args.out:
            with open(args.out, "w") as file:
                json.dump(split, file, indent=2)
        return 0
    result = run(args.lines, args.big_mb)
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as file:
            json.dump(result, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
