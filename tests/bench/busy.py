"""Busy namespaces: one forwarder against a namespace producing activations continuously, and shards.

The emulator (with a producer) and the receiver run in a child process; the forwarder runs in this
process, so its CPU time and peak RSS are its own. The clock is a fake one, shared by both sides and
moved one schedule interval (60 s) between runs: the producer starts ``rate`` activations a second
over that interval (each visible only when it ends, up to 30 s later, so late records are common),
then the forwarder makes one pass, exactly as an alarm run would. The *pass time* is real wall time,
compared with the 60 s interval it must fit in. Nothing else about time is faked.

Figures per rate, over ``runs`` consecutive runs: lines forwarded, re-sent lines (an ``_id`` the
receiver already had), API bytes read (bodies, as the forwarder received them) against the bytes of the
records forwarded (each delivered activation's full record as the API serves it), pass time (median and
longest), the checkpoint's size (the activation store must stay under the 1 MB result limit), the
forwarder's peak RSS and its CPU per line.

The shards table: a rate at which one forwarder cannot finish a pass within its budget, forwarded by
1, 2 and 4 shards. Each run of each shard gets the same real-time budget (a stand-in for the schedule
interval: the clock here moves 60 s per run, so the budget scales the forwarder's speed, not the
platform's); shards run one after the other, as separate containers would run side by side, and an
interval's wall time is its slowest shard's pass.
"""

import multiprocessing
import re
import resource
import statistics
import time
from pathlib import Path

import requests

from logfwd.checkpoints import open_store
from logfwd.codecs.jsonbytes import dumps
from logfwd.deadline import Deadline
from logfwd.pipeline import forward
from logfwd.retry import RetryPolicy
from logfwd.sinks.lumberjack.sink import LumberjackSink
from logfwd.sources.openwhisk.api import OpenWhiskAPI
from logfwd.sources.openwhisk.shards import Shard
from logfwd.sources.openwhisk.source import MAX_SEEN, MAX_SEEN_DURABLE, OpenWhiskSource

INTERVAL = 60.0  # seconds between runs (the alarm's finest schedule)
LINES = 10
MAX_DURATION = 30.0  # activations run up to this long: their records appear that much after their start
T0 = 1_700_000_000.0
ACTIONS = [f"svc{i}/handler" for i in range(12)]
_ID = re.compile(rb'"_id":"[^"/]*/([0-9a-f]+):(\d+)"')


class _Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- the child: emulator, producer and receiver -------------------------------------------------------

def _peers(conn, rate: float, out: str, seed: int) -> None:
    import random

    from logfwd_dev.emulator.producer import Producer
    from logfwd_dev.emulator.records import full_record
    from logfwd_dev.emulator.server import Emulator
    from logfwd_dev.receiver.server import Receiver

    clock = _Clock(T0)
    with Emulator(clock=clock, rng=random.Random(seed)) as emulator, Receiver(out, validate=False) as receiver:
        producer = Producer(emulator.invoke, random.Random(seed + 1), clock, rate=rate, actions=ACTIONS,
                            max_duration=MAX_DURATION, lines=LINES)
        conn.send((emulator.url, emulator.api_key, receiver.address))
        ids: set[bytes] = set()
        offset = 0
        while True:
            command, value = conn.recv()
            if command == "step":
                clock.now = value
                conn.send(producer.step())
            elif command == "received":  # what arrived since the last call: lines, re-sent, record bytes
                with open(out, "rb") as file:
                    file.seek(offset)
                    data = file.read()
                offset += data.rfind(b"\n") + 1 if data else 0
                lines = resent = 0
                fresh: set[str] = set()
                for activation_id, index in _ID.findall(data[: data.rfind(b"\n") + 1]):
                    key = activation_id + b":" + index
                    lines += 1
                    if key in ids:
                        resent += 1
                    else:
                        ids.add(key)
                        fresh.add(activation_id.decode())
                acts = {a.activation_id: a for a in emulator.store.all() if a.activation_id in fresh}
                record_bytes = sum(len(dumps(full_record(a, emulator.namespace))) for a in acts.values())
                conn.send({"lines": lines, "resent": resent, "record_bytes": record_bytes})
            elif command == "missing":  # lines that were readable by the last run and never arrived
                conn.send(sum(1 for a in emulator.store.all()
                              if a.visible_at <= clock.now * 1000 and a.start <= value
                              for i in range(a.text_line_count()) if f"{a.activation_id}:{i}".encode() not in ids))
            else:
                conn.send(None)
                return


class Peers:
    def __init__(self, rate: float, work: Path, seed: int = 5):
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.out = work / f"busy-{rate}-{time.monotonic_ns()}.jsonl"  # one receiver file a series
        self.process = context.Process(target=_peers, args=(child, rate, str(self.out), seed), daemon=True)
        self.process.start()
        self.url, self.api_key, self.receiver = self.conn.recv()

    def ask(self, command: str, value=None):
        self.conn.send((command, value))
        return self.conn.recv()

    def close(self) -> None:
        self.ask("stop")
        self.process.join(timeout=30)
        self.out.unlink(missing_ok=True)


# --- the forwarder: one pass -------------------------------------------------------------------------

def _pass(peers: Peers, clock: _Clock, checkpoint: str, shard: Shard | None, budget: float | None,
          max_seen: int) -> dict:
    counted = {"bytes": 0}
    session = requests.Session()
    session.hooks["response"].append(lambda response, *a, **k: counted.__setitem__(
        "bytes", counted["bytes"] + len(response.content)))
    deadline = Deadline(time.time() + budget if budget else None, grace=0.0)
    api = OpenWhiskAPI(peers.url, peers.api_key, "guest", session=session, retry=RetryPolicy(attempts=3),
                       deadline=deadline.for_work())
    source = OpenWhiskSource(api, ["*"], namespace="guest", overlap=360.0, settle=2.0, initial_lookback=600.0,
                             clock=clock, shard=shard, max_seen=max_seen)
    sink = LumberjackSink([peers.receiver], retry=RetryPolicy(attempts=3))
    store = open_store(checkpoint, shard=(shard.index, shard.count) if shard else None)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    try:
        summary = forward(source, sink, store, deadline=deadline, max_events=4096)
    finally:
        sink.close()
        source.close()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    saved = Path(checkpoint.removeprefix("file:"))
    if shard and shard.index > 1:
        saved = saved.with_name(f"{saved.stem}.shard-{shard.index}{saved.suffix}")
    return {"seconds": seconds, "cpu": (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime),
            "api_bytes": counted["bytes"], "events": summary["events"], "lag": summary.get("lag_seconds", 0.0),
            "ok": summary["ok"], "checkpoint_bytes": saved.stat().st_size if saved.exists() else 0,
            "more": summary["more"]}


def _series(rate: float, runs: int, work: Path, shards: int | None = None, budget: float | None = None,
            store: str = "activation") -> dict:
    """``store``: whose id budget the forwarder gets (``activation``: the checkpoint must fit a 1 MB
    result; ``durable``: CouchDB, Redis or a file). The checkpoint itself is written to a file."""
    max_seen = MAX_SEEN if store == "activation" else MAX_SEEN_DURABLE
    peers = Peers(rate, work)
    clock = _Clock(T0)
    checkpoint = f"file:{work}/busy-{rate}-{shards}-{store}.json"
    rows = []
    try:
        for _ in range(runs):
            clock.now += INTERVAL
            peers.ask("step", clock.now)
            passes = [_pass(peers, clock, checkpoint, Shard(i, shards) if shards else None, budget, max_seen)
                      for i in range(1, (shards or 1) + 1)]
            got = peers.ask("received")
            rows.append({"seconds": max(p["seconds"] for p in passes), "cpu": sum(p["cpu"] for p in passes),
                         "api_bytes": sum(p["api_bytes"] for p in passes), "lag": max(p["lag"] for p in passes),
                         "checkpoint_bytes": max(p["checkpoint_bytes"] for p in passes),
                         "ok": all(p["ok"] for p in passes), **got})
        upto = int((clock.now - 2.0) * 1000)
        behind = peers.ask("missing", upto)  # readable by the last run, not forwarded yet (the lag)
        caught_up = []
        while budget and len(caught_up) < 50:  # then, without a budget, until every shard is through
            passes = [_pass(peers, clock, checkpoint, Shard(i, shards) if shards else None, None, max_seen)
                      for i in range(1, (shards or 1) + 1)]
            caught_up.append(peers.ask("received"))
            if not any(p["more"] for p in passes):
                break
        missing = peers.ask("missing", upto)
    finally:
        peers.close()
    lines = sum(r["lines"] for r in rows)
    new = lines - sum(r["resent"] for r in rows)
    record_bytes = sum(r["record_bytes"] for r in rows)
    times = [r["seconds"] for r in rows]
    return {
        "rate": rate, "runs": runs, "shards": shards or 1, "store": store, "max_seen": max_seen, "lines": lines, "new_lines": new,
        "missing_lines": missing, "behind_lines": behind,
        "catch_up_passes": len(caught_up), "catch_up_lines": sum(c["lines"] for c in caught_up), "resent_pct": round(100 * (lines - new) / max(1, lines), 2),
        "api_bytes": sum(r["api_bytes"] for r in rows), "record_bytes": record_bytes,
        "api_bytes_per_record_byte": round(sum(r["api_bytes"] for r in rows) / max(1, record_bytes), 2),
        "api_bytes_per_record_byte_each": [round(r["api_bytes"] / max(1, r["record_bytes"]), 2) for r in rows],
        "pass_seconds_each": [round(r["seconds"], 2) for r in rows],
        "pass_seconds_median": round(statistics.median(times), 3), "pass_seconds_max": round(max(times), 3),
        "pass_share_of_interval_max": round(max(times) / INTERVAL, 3),
        "checkpoint_kb_max": round(max(r["checkpoint_bytes"] for r in rows) / 1024, 1),
        "cpu_us_per_line": round(1e6 * sum(r["cpu"] for r in rows) / max(1, lines), 2),
        "lines_per_s": round(lines / max(1e-9, sum(times))),
        "lag_seconds_last": rows[-1]["lag"], "all_ok": all(r["ok"] for r in rows),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run(rates: list[float], durable_rates: list[float], runs: int, work: Path, shard_rate: float,
        shard_counts: list[int], shard_budget: float) -> dict:
    busy = [_series(rate, runs, work) for rate in rates]
    busy += [_series(rate, runs, work, store="durable") for rate in durable_rates]
    shards = [_series(shard_rate, runs, work, shards=n, budget=shard_budget) for n in shard_counts]
    return {"interval_s": INTERVAL, "lines_per_activation": LINES, "max_duration_s": MAX_DURATION,
            "actions": len(ACTIONS), "rates": busy, "shards": shards, "shard_budget_s": shard_budget,
            "clock": "fake: moved 60 s between runs; pass times, CPU and memory are real"}


def render(busy: dict, table) -> list[str]:
    columns = ["act/s", "shards", "id budget", "lines", "behind", "lost", "re-sent %", "API B / record B", "pass s median",
               "pass s max", "checkpoint KB", "CPU us/line", "lines/s", "lag s", "peak RSS MB"]

    def row(s: dict) -> list:
        return [s["rate"], s["shards"], f"{s['store']} ({s['max_seen']:,})", s["lines"], s["behind_lines"],
                s["missing_lines"],
                f"{s['resent_pct']:.2f}", f"{s['api_bytes_per_record_byte']:.2f}", f"{s['pass_seconds_median']:.2f}",
                f"{s['pass_seconds_max']:.2f}", s["checkpoint_kb_max"], f"{s['cpu_us_per_line']:.1f}",
                s["lines_per_s"], s["lag_seconds_last"], s["peak_rss_mb"]]

    return ["", f"5. Busy namespace: {busy['actions']} actions, {busy['lines_per_activation']} lines an activation, "
            f"activations up to {busy['max_duration_s']:.0f} s long, one run every {busy['interval_s']:.0f} s "
            f"({busy['rates'][0]['runs']} runs); {busy['clock']}; peak RSS is this process's so far",
            table(columns, [row(s) for s in busy["rates"]]),
            "", f"6. Shards at {busy['shards'][0]['rate']:.0f} activations/s, each run of each shard with "
            f"{busy['shard_budget_s']:.1f} s of real time (the interval's stand-in); shards run one after the other, "
            "an interval's pass time is its slowest shard's; lines/s = lines over the summed pass times; behind: "
            "lines readable by the last run and not forwarded yet; lost: still missing after catching up without "
            "a budget",
            table(columns, [row(s) for s in busy["shards"]])]


def targets(busy: dict, add) -> None:
    at_100 = next((s for s in busy["rates"] if s["rate"] == 100 and s["store"] == "activation"), None)
    if at_100:
        add("busy 100/s re-sent", "<= 1 % of lines", f"{at_100['resent_pct']:.2f} %", at_100["resent_pct"] <= 1)
        add("busy 100/s API bytes", "<= 1.5x the records forwarded", f"{at_100['api_bytes_per_record_byte']:.2f}x",
            at_100["api_bytes_per_record_byte"] <= 1.5)
        add("busy 100/s pass time", "< half the 60 s interval", f"{at_100['pass_seconds_max']:.1f} s at most",
            at_100["pass_share_of_interval_max"] < 0.5)
        add("busy 100/s memory", "<= 256 MB (the action's)", f"{at_100['peak_rss_mb']:.0f} MB",
            at_100["peak_rss_mb"] <= 256)
    every = busy["rates"] + busy["shards"]
    add("busy: nothing lost", "every line readable by the last run arrived",
        f"{sum(s['missing_lines'] for s in every)} missing", all(s["missing_lines"] == 0 for s in every))
