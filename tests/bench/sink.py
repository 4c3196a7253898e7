"""Sink throughput: the same events, the same receiver, four clients, alternating, several rounds.

- ``logfwd``: our ``LumberjackSink`` at its defaults, one ``send`` of every event (it cuts windows
  of 2048 and keeps 2 in flight);
- ``logfwd, send per window``: the same sink given one window per ``send``, as the pipeline calls it
  (so only one window is ever in flight);
- ``pylogbeat``: one connection per window (it numbers events across windows, which only works
  against a receiver that echoes the highest sequence number, so a fresh connection per window is
  the only correct way to use it), zlib at its fixed default level 6;
- ``receiver ceiling``: a no-op client sending the same windows pre-encoded (level 3) over a raw
  socket, 2 in flight: the receiver's own rate, which bounds every client above.

The receiver is ``logfwd receive`` in its own process, writing every event to a file; after each trial
the file must have gained exactly the events sent (then it is emptied).
"""

import os
import socket
import time
from pathlib import Path
from statistics import median
from typing import Callable

import pylogbeat

from logfwd.codecs.lumberjack import encode_window
from logfwd.sinks.lumberjack.sink import LumberjackSink

from . import procs, workload

WINDOW = 2048
HOST = "127.0.0.1"
CLIENTS = ("logfwd", "logfwd, send per window", "pylogbeat", "receiver ceiling")


def run(events: int, rounds: int, work: Path) -> dict:
    payloads = workload.payloads(events)
    windows = [payloads[i : i + WINDOW] for i in range(0, len(payloads), WINDOW)]
    encoded = [encode_window(window, 3) for window in windows]
    payload_bytes = sum(map(len, payloads))
    out = work / "sink-received.jsonl"
    trials: dict[str, list[dict]] = {name: [] for name in CLIENTS}
    ratios = []
    with procs.receiver(out, work) as (port, receiver_pid):
        senders: dict[str, Callable[[], None]] = {
            "logfwd": lambda: _logfwd(port, [payloads]),
            "logfwd, send per window": lambda: _logfwd(port, windows),
            "pylogbeat": lambda: _pylogbeat(port, windows),
            "receiver ceiling": lambda: _raw(port, encoded),
        }
        _trial(senders["logfwd"], out, len(payloads), receiver_pid)  # warm-up: page cache, allocator
        for round_ in range(rounds):
            order = CLIENTS[round_ % len(CLIENTS):] + CLIENTS[:round_ % len(CLIENTS)]  # rotate who goes first
            for name in order:
                trials[name].append(_trial(senders[name], out, len(payloads), receiver_pid))
            # Same events, same round: the ratio of rates is the inverse ratio of times.
            ratios.append(trials["pylogbeat"][-1]["seconds"] / trials["logfwd"][-1]["seconds"])
    clients = {}
    for name, runs in trials.items():
        rate = median(len(payloads) / t["seconds"] for t in runs)
        clients[name] = {
            "events_per_s": round(rate),
            "mb_per_s": round(rate * payload_bytes / len(payloads) / 1e6, 1),
            "client_cpu_pct": round(median(t["client_cpu_pct"] for t in runs)),
            # CPU per event barely depends on what else the machine runs; the rates above do.
            "client_cpu_us_per_event": round(median(t["client_cpu_s"] for t in runs) * 1e6 / len(payloads), 2),
            "receiver_cpu_pct": round(median(t["receiver_cpu_pct"] for t in runs)),
            "receiver_cpu_us_per_event": round(median(t["receiver_cpu_s"] for t in runs) * 1e6 / len(payloads), 2),
            "seconds": [round(t["seconds"], 4) for t in runs],
            "all_delivered": all(t["delivered"] == len(payloads) for t in runs),
        }
    return {
        "events": len(payloads),
        "rounds": rounds,
        "window": WINDOW,
        "event_bytes_mean": round(payload_bytes / len(payloads), 1),
        "wire_bytes_per_event_level3": round(sum(map(len, encoded)) / len(payloads), 1),
        "receiver": "logfwd receive (separate process, writes every event to a file)",
        "clients": clients,
        "ratio_vs_pylogbeat": round(median(ratios), 2),
        "ratios": [round(r, 2) for r in ratios],
        # Client CPU per event, pylogbeat's over ours: what the ratio becomes once the receiver keeps up.
        "cpu_ratio_vs_pylogbeat": round(clients["pylogbeat"]["client_cpu_us_per_event"]
                                        / clients["logfwd"]["client_cpu_us_per_event"], 2),
    }


def _trial(send: Callable[[], None], out: Path, expected: int, receiver_pid: int) -> dict:
    os.truncate(out, 0)
    receiver_cpu = procs.cpu_seconds(receiver_pid)
    cpu, started = time.process_time(), time.perf_counter()
    send()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    receiver_cpu = procs.cpu_seconds(receiver_pid) - receiver_cpu
    with open(out, "rb") as file:  # the receiver writes and flushes before it ACKs
        delivered = file.read().count(b"\n")
    if delivered != expected:
        raise AssertionError(f"the receiver stored {delivered} events, {expected} were sent")
    return {"seconds": seconds, "delivered": delivered, "client_cpu_s": cpu, "client_cpu_pct": 100 * cpu / seconds,
            "receiver_cpu_s": receiver_cpu, "receiver_cpu_pct": 100 * receiver_cpu / seconds}


def _logfwd(port: int, batches: list[list[bytes]]) -> None:
    sink = LumberjackSink([(HOST, port)])
    try:
        for batch in batches:
            sink.send(batch)
    finally:
        sink.close()


def _pylogbeat(port: int, windows: list[list[bytes]]) -> None:
    for window in windows:
        with pylogbeat.PyLogBeatClient(HOST, port, timeout=60) as client:
            client.send(window)


def _raw(port: int, encoded: list[bytes], in_flight: int = 2) -> None:
    """Pre-encoded windows, ``in_flight`` at a time; only counts the 6-byte ACKs that come back."""
    with socket.create_connection((HOST, port), timeout=60) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sent = acked = 0
        pending = b""
        while acked < len(encoded):
            while sent < len(encoded) and sent - acked < in_flight:
                sock.sendall(encoded[sent])
                sent += 1
            data = sock.recv(4096)
            if not data:
                raise ConnectionError("the receiver closed the connection")
            pending += data
            while len(pending) >= 6:
                frame, pending = pending[:6], pending[6:]
                if frame[:2] != b"2A":
                    raise ConnectionError(f"unexpected frame {frame!r}")
                if int.from_bytes(frame[2:], "big"):  # 0 would be a keepalive
                    acked += 1
