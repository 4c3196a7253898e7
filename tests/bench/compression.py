"""Compression: CPU and bytes per event at each engine and level, on the sink benchmark's events.

In-process, one core: each window of ``WINDOW`` events is framed as the sink frames it, compressed by
each engine at each level (best of ``repeats``), and inflated again by the standard library's zlib (as
every receiver does) to check it round-trips. This table is what chose ``codecs.deflate``'s mapping.
"""

import time
import zlib

from logfwd.codecs import deflate
from logfwd.codecs.lumberjack import encode_window

from . import workload

WINDOW = 2048
ZLIB_LEVELS = (1, 3, 6, 9)
ISAL_LEVELS = (0, 1, 2, 3)


def run(events: int, repeats: int) -> dict:
    payloads = workload.payloads(events)
    # The uncompressed events of each window, exactly as they go into the C frame.
    frames = [encode_window(payloads[i : i + WINDOW], 0)[6:] for i in range(0, len(payloads), WINDOW)]
    engines = [("zlib", zlib.compress, ZLIB_LEVELS)]
    if deflate.isal_zlib is not None:
        engines.append(("isal", deflate.isal_zlib.compress, ISAL_LEVELS))
    rows = []
    for engine, compress, levels in engines:
        for level in levels:
            seconds, compressed = _best(lambda: [compress(frame, level) for frame in frames], repeats)
            inflate_seconds, inflated = _best(lambda: [zlib.decompress(c) for c in compressed], repeats)
            rows.append({
                "engine": engine,
                "level": level,
                "compress_us_per_event": round(seconds * 1e6 / len(payloads), 2),
                "wire_bytes_per_event": round(sum(map(len, compressed)) / len(payloads), 1),
                "inflate_us_per_event": round(inflate_seconds * 1e6 / len(payloads), 2),
                "round_trip": inflated == frames,
            })
    return {"events": len(payloads), "window": WINDOW, "repeats": repeats,
            "event_bytes_mean": round(sum(map(len, payloads)) / len(payloads), 1),
            "default_level_engine": deflate.ENGINE, "rows": rows}


def _best(work, repeats: int) -> tuple[float, list]:
    best, out = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        out = work()
        best = min(best, time.perf_counter() - started)
    return best, out
