"""End to end: ``logfwd emulate`` holding N activations x 10 lines, the action run until drained.

Three processes, as in production: the emulator (the OpenWhisk API), the receiver (Logstash) and the
forwarder, each with its own interpreter. The forwarder is the action's entry (``actions/__main__.py``,
``main(params)`` with the platform's ``__OW_*`` variables) run again and again in one
``tests.bench.wire`` process (which only counts its socket bytes and CPU), as OpenWhisk runs an action
in a container of its Python runtime. Afterwards every produced line must be in the receiver's
file, by ``_id``. Before the passes, a bare ``requests`` loop reads the backlog once, to show what the
emulator can serve on its own (encoding each record, which it then keeps), and what reading and
decoding it costs alone.

A small backlog takes a fraction of a second, so the machine's load moves its rate a lot: it is
forwarded ``repeats`` times (each time from a fresh checkpoint, into an emptied receiver file, every
line checked), and the figures are those of the median pass; every pass's rate is kept.

The forwarder's CPU is reported as the platform reports a container's time. Init: the process's CPU
until the entry is imported (interpreter start, imports, what the entry prepares at import), which
OpenWhisk does at the container's /init and reports apart, as ``initTime`` (docs/performance.md, "Cold
start"). Cold: the first pass, the first activations of that process after its init. Warm: the median
of the later passes (what a reused container pays); ``cold extra ms``: cold minus warm. Like the
action's zip, which ships precompiled bytecode, the forwarder reads its modules precompiled
(logfwd's into their ``__pycache__``, whatever ``PYTHONDONTWRITEBYTECODE`` says; the standard library's
and the dependencies' where they were installed): compiling modules from source on every run is no cost
a deployed forwarder pays.
"""

import json
import math
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

from logfwd.codecs import jsonbytes
from logfwd_dev.emulator import DEFAULT_API_KEY

from . import procs, workload

LINES = 10
SPAN = 86_400.0  # the backlog's starts spread over the last day: nearly all of it in the settled range
LOOKBACK = 2 * 86_400  # the forwarder's first run reaches back past the oldest activation
TIME_LIMIT_MS = 300_000  # the action's (manifest.yaml): each activation's __OW_DEADLINE is this far ahead
SETTLE = 2.5  # seconds: a little more than the forwarder's default settle
MAX_RUNS = 20  # "until drained": a run that stops early leaves more for the next one
_ID = re.compile(rb'"_id":"([^"]+)"')


def run(sizes: list[int], work: Path, repeats: dict[int, int] | None = None) -> list[dict]:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(procs.ROOT / "actions")], check=True,
                   env=_forwarder_env(work), stdout=subprocess.DEVNULL)
    return [_one(size, work, (repeats or {}).get(size, 1)) for size in sizes]


def _forwarder_env(work: Path) -> dict:
    # Nothing from the user's own setup: no LOGFWD_* variables, no ~/.wskprops.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGFWD_", "__OW_", "PYTHONDONTWRITEBYTECODE"))}
    env["WSK_CONFIG_FILE"] = str(work / "no-wskprops")
    # Bytecode where Python keeps it (``__pycache__`` beside each module; logfwd's precompiled by ``run``),
    # not under a PYTHONPYCACHEPREFIX: with a prefix Python reads bytecode only from there, so the cold
    # pass compiled the standard library and requests, urllib3... from source: ~0.4 s no container pays.
    env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def _one(activations: int, work: Path, repeats: int) -> dict:
    actions = list(workload.ACTIONS)
    out = work / f"e2e-{activations}.jsonl"
    with procs.emulator(actions, activations, LINES, SPAN, work) as (url, emulator_pid), \
            procs.receiver(out, work) as (port, receiver_pid):
        seeded = time.time()
        produced = requests.get(f"{url}/emulator/produced", timeout=120).json()
        # Read first, so the emulator has encoded every record before the passes (it keeps each
        # record's JSON, as a real API serves records already stored): its encoding is its own cost,
        # not one to take from the forwarder on the shared cores. The rate is that of a second read,
        # as the passes read: records already encoded.
        _serving_rate(url, actions)
        serving = _serving_rate(url, actions)
        # A run reads up to ``now - settle`` (2 s by default): let the newest seeded start fall behind it.
        time.sleep(max(0.0, seeded + SETTLE - time.time()))
        with _Forwarder(work) as forwarder:
            init_cpu = forwarder.init_cpu
            passes = [_pass(forwarder, url, port, actions, work, f"{activations}-{n}", out, produced,
                            (emulator_pid, receiver_pid)) for n in range(repeats)]
    out.unlink()
    median = sorted(passes, key=lambda p: p["lines_per_s"])[len(passes) // 2]
    cold, warm = passes[0], sorted(passes[1:], key=lambda p: p["forwarder_cpu_seconds"])
    warm = warm[len(warm) // 2] if warm else None
    return {"activations": activations, **median, "repeats": repeats,
            "forwarder_init_cpu_ms": round(1000 * init_cpu),
            "forwarder_cold_cpu_us_per_line": cold["forwarder_cpu_us_per_line"],
            "forwarder_warm_cpu_us_per_line": warm["forwarder_cpu_us_per_line"] if warm else None,
            "forwarder_cold_extra_ms": (round(1000 * (cold["forwarder_cpu_seconds"] - warm["forwarder_cpu_seconds"]))
                                        if warm else None),
            "forwarder_process_cpu_us_per_line": round(1e6 * (init_cpu + cold["forwarder_cpu_seconds"]) / cold["lines"], 1)
                                                 if cold["lines"] else 0,
            "peak_rss_mb": max(p["peak_rss_mb"] for p in passes),
            "lines_per_s_each": [p["lines_per_s"] for p in passes],
            "all_passes_delivered": all(p["all_delivered"] and not p["duplicates"] for p in passes),
            "api_requests_per_1000": round(1000 * median["api_requests"] / activations, 2),
            "api_requests_allowed": math.ceil(activations / 200) + len(actions) * median["runs"],
            "emulator_serving_lines_per_s": serving["lines_per_s"],
            "api_read_cpu_us_per_line": serving["read_cpu_us_per_line"],
            "api_decode_cpu_us_per_line": serving["decode_cpu_us_per_line"]}


def _pass(forwarder: "_Forwarder", url: str, port: int, actions: list[str], work: Path, name: str, out: Path,
          produced: list[dict], pids: tuple[int, int]) -> dict:
    """Forward the whole backlog from a fresh checkpoint (runs until drained), and check what arrived."""
    os.truncate(out, 0)
    requests_before = requests.get(f"{url}/emulator/stats", timeout=30).json()["requests"]
    cpu_before = [procs.cpu_seconds(pid) for pid in pids]
    started_ms = time.time() * 1000
    runs = []
    while len(runs) < MAX_RUNS:
        runs.append(forwarder.run(url, port, actions, work, name))
        if not runs[-1]["summary"].get("more"):
            break
    emulator_cpu, receiver_cpu = (procs.cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before))
    requests_after = requests.get(f"{url}/emulator/stats", timeout=30).json()["requests"]
    by_endpoint = {endpoint: count - requests_before.get(endpoint, 0) for endpoint, count in requests_after.items()
                   if count > requests_before.get(endpoint, 0)}
    # The emulator may seed a few activations that are still running (a timed-out one runs for its whole
    # time limit): those are not in the backlog yet. Every line of the rest must arrive, and nothing else.
    backlog = [a for a in produced if a["visibleAt"] <= started_ms]
    expected = {f"guest/{a['activationId']}:{i}" for a in backlog for i in range(a["lines"])}
    possible = {f"guest/{a['activationId']}:{i}" for a in produced for i in range(a["lines"])}
    received = _received_ids(out)
    summaries = [r["summary"] for r in runs]
    lines = sum(s["events"] for s in summaries)
    seconds = sum(s["seconds"] for s in summaries)
    wall = sum(r["wall"] for r in runs)
    api = sum(s["api_requests"] for s in summaries)
    lumberjack = sum(r["wire"]["ports"].get(str(port), {}).get("sent", 0) for r in runs)
    api_bytes = sum(sum(c["received"] for p, c in r["wire"]["ports"].items() if p != str(port)) for r in runs)
    return {
        "lines": lines,
        "runs": len(runs),
        "not_yet_visible": len(produced) - len(backlog),
        "all_delivered": expected <= received["unique"] <= possible,
        "duplicates": received["lines"] - len(received["unique"]),
        "ok": all(s.get("ok") for s in summaries) and not summaries[-1].get("more"),
        "seconds": round(seconds, 3),
        "wall_seconds": round(wall, 3),
        "lines_per_s": round(lines / seconds) if seconds else 0,
        "api_requests": api,
        "api_requests_by_endpoint": by_endpoint,
        "lumberjack_bytes_per_line": round(lumberjack / lines, 1) if lines else 0,
        "event_bytes_per_line": round(sum(s["bytes"] for s in summaries) / lines, 1) if lines else 0,
        "api_bytes_per_line": round(api_bytes / lines, 1) if lines else 0,
        "peak_rss_mb": round(max(r["wire"]["peak_rss_kb"] for r in runs) / 1024, 1),
        "forwarder_cpu_seconds": round(sum(r["cpu"] for r in runs), 3),
        "forwarder_cpu_us_per_line": round(1e6 * sum(r["cpu"] for r in runs) / lines, 1) if lines else 0,
        "emulator_cpu_seconds": round(emulator_cpu, 3),
        "receiver_cpu_seconds": round(receiver_cpu, 3),
    }


class _Forwarder:
    """One ``tests.bench.wire`` process running the action entry: its init first, then one activation a call."""

    def __init__(self, work: Path):
        self.work = work
        self.stderr = open(work / "forwarder.err", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "tests.bench.wire"], cwd=procs.ROOT,
                                        env=_forwarder_env(work), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.stderr)
        # The process's CPU when the entry is imported, before its first activation (OpenWhisk's /init).
        try:
            self.init_cpu = json.loads(self._answer())["init_cpu"]
        except BaseException:
            self.__exit__()
            raise

    def run(self, url: str, port: int, actions: list[str], work: Path, name: str) -> dict:
        params = {"actions": ",".join(actions), "logstash_hosts": f"127.0.0.1:{port}", "logstash_tls": "false",
                  "checkpoint": f"file:{work / f'checkpoint-{name}.json'}", "initial_lookback": str(LOOKBACK)}
        # What OpenWhisk gives each activation (the API key: the provide-api-key annotation's default).
        env = {"__OW_API_HOST": url, "__OW_API_KEY": DEFAULT_API_KEY, "__OW_NAMESPACE": "guest",
               "__OW_ACTION_NAME": "/guest/logfwd/forward", "__OW_ACTIVATION_ID": uuid.uuid4().hex,
               "__OW_DEADLINE": str(int(time.time() * 1000) + TIME_LIMIT_MS)}
        started = time.perf_counter()
        self.process.stdin.write((json.dumps({"params": params, "env": env}) + "\n").encode())
        self.process.stdin.flush()
        wire = json.loads(self._answer())
        wall = time.perf_counter() - started
        if "error" in wire["result"]:
            raise RuntimeError(f"the action answered an error: {wire['result']['error']}"
                               f"{(self.work / 'forwarder.err').read_text()[-2000:]}")
        return {"summary": wire["result"], "wall": wall, "cpu": wire["cpu"], "wire": wire}

    def _answer(self) -> bytes:
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the forwarder process ended: {(self.work / 'forwarder.err').read_text()[-2000:]}")
        return answer

    def __enter__(self) -> "_Forwarder":
        return self

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.stderr.close()


def _received_ids(path: Path) -> dict:
    unique: set[str] = set()
    lines = 0
    with open(path, "rb") as file:
        for line in file:
            lines += 1
            match = _ID.search(line)
            if match:
                unique.add(match.group(1).decode())
    return {"lines": lines, "unique": unique}


def _serving_rate(url: str, actions: list[str]) -> dict:
    """Lines per second the emulator serves to a bare client: every page of every action, bodies unparsed.

    Also this client's CPU per line, which is the forwarder's first stage measured alone: reading the
    pages with ``requests`` in one read each (as the forwarder's API client does), and decoding them
    (``jsonbytes.loads``, timed apart, after the rate's clock)."""
    session = requests.Session()
    session.auth = tuple(DEFAULT_API_KEY.split(":", 1))
    served_before = session.get(f"{url}/emulator/stats", timeout=30).json()["served"]["lines"]
    bodies = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for action in actions:
        skip = 0
        while True:
            response = session.get(f"{url}/api/v1/namespaces/_/activations", timeout=120,
                                   params={"name": action, "limit": 200, "skip": skip, "docs": "true"})
            response.raise_for_status()
            bodies.append(b"".join(response.iter_content(chunk_size=None)))
            records = bodies[-1].count(b'"activationId"')
            skip += records
            if records < 200:
                break
    seconds, read_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    served = session.get(f"{url}/emulator/stats", timeout=30).json()["served"]["lines"] - served_before
    session.close()
    decode_started = time.process_time()
    for body in bodies:
        jsonbytes.loads(body)
    decode_cpu = time.process_time() - decode_started
    return {"lines_per_s": round(served / seconds), "read_cpu_us_per_line": round(1e6 * read_cpu / served, 2),
            "decode_cpu_us_per_line": round(1e6 * decode_cpu / served, 2)}
