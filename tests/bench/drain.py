"""The Heroku drain: requests of 100 logplex frames to two statsd collectors.

``python -m tests.bench.drain [--seconds S] [--clients C] [--json]``

- *parsing and counting*: the source and the sink's encoder in this process, no network: frames/s
  and CPU µs per frame, for a typical mix (5 of 100 lines are Heroku errors, 70 router lines) and
  for a body of errors only (every line parsed and counted);
- *served*: ``logfwd serve`` in its own process sending to two real statsd daemons, driven by
  ``--clients`` keep-alive connections from this process (a lean client: one ``sendall`` and a few
  reads a request, in threads), so the server has its core to itself when the machine is idle:
  requests/s, frames/s, the server's CPU per frame (its user + system time from /proc), how many
  cores it used, and the clients' CPU per request.
"""

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from . import procs

sys.path.insert(0, str(procs.ROOT / "tests"))  # the statsd daemon helpers and the documented frames
from logplex_frames import ROUTER_H12, ROUTER_INFO, body  # noqa: E402
from servers_statsd import run_statsd  # noqa: E402

FRAMES = 100
PASSWORD = "bench-password"
AUTH = "Basic " + base64.b64encode(f"logplex:{PASSWORD}".encode()).decode()
APP_LINE = "Completed 200 OK in 12ms (Views: 3.1ms | ActiveRecord: 1.2ms)"
MIXES = {
    "typical (5% errors)": [("heroku", "router", ROUTER_INFO)] * 70 + [("app", "web.1", APP_LINE)] * 25
                          + [("heroku", "router", ROUTER_H12)] * 3 + [("heroku", "web.1", "Error R14 (Memory quota exceeded)")] * 2,
    "errors only": [("heroku", "router", ROUTER_H12.replace("H12", f"H{10 + i % 20}")) for i in range(FRAMES)],
}


def parsing(seconds: float) -> list[dict]:
    from logfwd.coerce import Secret
    from logfwd.deadline import NO_DEADLINE
    from logfwd.sinks.statsd.sink import StatsdSink
    from logfwd.sources.logplex.seen import RecentFrames
    from logfwd.sources.logplex.source import LogplexSource
    credentials = {"bench": Secret(f"logplex:{PASSWORD}")}
    sink = StatsdSink([("127.0.0.1", 8125), ("127.0.0.1", 8126)])  # encode only: nothing is sent
    rows = []
    for mix, lines in MIXES.items():
        data = body(lines)
        frames = RecentFrames()
        requests = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - wall < seconds:
            headers = {"Content-Type": "application/logplex-1", "Logplex-Msg-Count": str(FRAMES),
                       "Logplex-Frame-Id": uuid.uuid4().hex, "Authorization": AUTH}
            source = LogplexSource({"method": "POST", "path": "/bench/logs", "headers": headers, "body": data},
                                   credentials=credentials, frames=frames)
            for unit in source.units(NO_DEADLINE, sink.encode):
                unit.done()
            assert source.answer()["statusCode"] == 200
            requests += 1
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows.append({"mix": mix, "frames_per_s": round(requests * FRAMES / wall),
                     "cpu_us_per_frame": round(cpu / (requests * FRAMES) * 1e6, 2),
                     "frames_per_cpu_s": round(requests * FRAMES / cpu)})
    return rows


def parsing_with_a_log_sink(seconds: float) -> dict:
    """The typical mix through ``sink=statsd,lumberjack`` (a tee; encoding only, nothing is sent):
    every line is parsed and becomes an event, JSON for Lumberjack, besides the counters."""
    from logfwd.deadline import NO_DEADLINE
    from logfwd.plugs import Context, plug
    from logfwd.settings import load_settings
    from logfwd.tee import build_sink
    settings = load_settings({"source": "logplex", "sink": "statsd,lumberjack",
                              "logplex_credentials": f"bench:logplex:{PASSWORD}",
                              "statsd_cluster": "127.0.0.1:8125,127.0.0.1:8126", "logstash_hosts": "127.0.0.1:5044"}, {})
    tee = build_sink(settings, Context())
    data, requests = body(MIXES["typical (5% errors)"]), 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        headers = {"Content-Type": "application/logplex-1", "Logplex-Msg-Count": str(FRAMES),
                   "Logplex-Frame-Id": uuid.uuid4().hex, "Authorization": AUTH}
        request = {"method": "POST", "path": "/bench/logs", "headers": headers, "body": data}
        source = plug("source", "logplex").build(settings, Context(event=request))
        for unit in source.units(NO_DEADLINE, tee.encode):
            unit.done()
        assert source.answer()["statusCode"] == 200
        requests += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tee.close()
    return {"mix": "typical, to statsd and lumberjack", "frames_per_s": round(requests * FRAMES / wall),
            "cpu_us_per_frame": round(cpu / (requests * FRAMES) * 1e6, 2),
            "frames_per_cpu_s": round(requests * FRAMES / cpu)}


def _request(data: bytes) -> bytes:
    head = (f"POST /bench/logs HTTP/1.1\r\nHost: bench\r\nContent-Type: application/logplex-1\r\n"
            f"Logplex-Msg-Count: {FRAMES}\r\nLogplex-Frame-Id: {uuid.uuid4().hex.upper()}\r\n"
            f"Authorization: {AUTH}\r\nContent-Length: {len(data)}\r\n\r\n")
    return head.encode() + data


def _client(port: int, data: bytes, until: float, answers: list) -> None:
    ok = failed = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        reader = sock.makefile("rb")
        while time.monotonic() < until:
            sock.sendall(_request(data))
            status = int(reader.readline().split()[1])
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)
            ok, failed = (ok + 1, failed) if status == 200 else (ok, failed + 1)
    answers.append((ok, failed))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served(seconds: float, clients: int, work: Path) -> list[dict]:
    rows = []
    with run_statsd() as first, run_statsd() as second:
        argv = [sys.executable, "-m", "logfwd", "serve", "--port", "0", "-p", "source=logplex", "-p", "sink=statsd",
                "-p", f"logplex_credentials=bench:logplex:{PASSWORD}",
                "-p", f"statsd_cluster={first.address},{second.address}"]
        env = os.environ | {"PYTHONPATH": str(procs.ROOT / "actions")}
        log = work / "serve.log"
        with open(log, "wb") as errors:
            server = subprocess.Popen(argv, cwd=procs.ROOT, env=env, stderr=errors, stdout=subprocess.DEVNULL)
        try:
            port = _port_of(log, server)
            for mix, lines in MIXES.items():
                data = body(lines)
                cpu, answers = _cpu_seconds(server.pid), []
                client_cpu = time.process_time()  # the clients' threads: this process, not the server's
                started = time.monotonic()
                threads = [threading.Thread(target=_client, args=(port, data, started + seconds, answers))
                           for _ in range(clients)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                wall, cpu = time.monotonic() - started, _cpu_seconds(server.pid) - cpu
                client_cpu = time.process_time() - client_cpu
                ok, failed = sum(a[0] for a in answers), sum(a[1] for a in answers)
                rows.append({"mix": mix, "clients": clients, "requests_per_s": round(ok / wall),
                             "frames_per_s": round(ok * FRAMES / wall), "failed": failed,
                             "server_cpu_us_per_frame": round(cpu / max(1, ok * FRAMES) * 1e6, 2),
                             "requests_per_server_cpu_s": round(ok / cpu) if cpu else None,
                             # below 1.0: the server waited for a core (a loaded machine) or for the clients
                             "server_cores_used": round(cpu / wall, 2),
                             "client_cpu_us_per_request": round(client_cpu / max(1, ok) * 1e6)})
        finally:
            server.terminate()
            server.wait(timeout=10)
    return rows


def _port_of(log: Path, server: subprocess.Popen) -> int:
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up:
        text = log.read_text(errors="replace")
        if " at http://" in text:
            return int(text.split(" at http://", 1)[1].split(":", 1)[1].split()[0])
        if server.poll() is not None:
            raise procs.PeerError(f"logfwd serve exited with {server.returncode}: {text[-2000:]}")
        time.sleep(0.05)
    raise procs.PeerError("logfwd serve did not say where it listens within 30 s")


def run(seconds: float = 5.0, clients: int = 4, work: Path | None = None) -> dict:
    import tempfile
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as folder:
        return {"frames_per_request": FRAMES, "parsing": parsing(seconds),
                "parsing_with_a_log_sink": parsing_with_a_log_sink(seconds),
                "served": served(seconds, clients, work or Path(folder)),
                "load_average": [round(x, 2) for x in os.getloadavg()], "cores": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.drain", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--clients", type=int, default=4, help="keep-alive connections to the server")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.seconds, args.clients)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{os.cpu_count()} cores, load average {result['load_average']}")
    print("| parsing and counting | frames/s | CPU µs/frame | frames per CPU-second |\n|---|---|---|---|")
    for row in [*result["parsing"], result["parsing_with_a_log_sink"]]:
        print(f"| {row['mix']} | {row['frames_per_s']:,} | {row['cpu_us_per_frame']} | {row['frames_per_cpu_s']:,} |")
    print(f"\n| served, {args.clients} connections | requests/s | frames/s | server CPU µs/frame "
          "| requests per server CPU-second | server cores used | client CPU µs/request | failed |\n"
          "|---|---|---|---|---|---|---|---|")
    for row in result["served"]:
        print(f"| {row['mix']} | {row['requests_per_s']:,} | {row['frames_per_s']:,} | "
              f"{row['server_cpu_us_per_frame']} | {row['requests_per_server_cpu_s']:,} | "
              f"{row['server_cores_used']} | {row['client_cpu_us_per_request']} | {row['failed']} |")


if __name__ == "__main__":
    main()
