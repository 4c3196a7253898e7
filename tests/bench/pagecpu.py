"""``python -m tests.bench.pagecpu [--pages N] [--rounds R] [--profile]``: the CPU of one API page request.

One ``OpenWhiskAPI.list_activations`` of a full page (200 records x 10 lines, ~380 KB) from ``logfwd
emulate`` running as a separate process, as the forwarder asks for it (name, since/upto, limit, skip).
The figure is this process's CPU (``time.process_time``) per request, best of the rounds; the part of it
that is decoding the page (orjson, the same bytes decoded alone) is shown beside it, so the rest is the
request: requests, urllib3, http.client, the client's own wrapper and the retry policy.
``--profile`` prints cProfile's top functions of one round instead (their clock is wall time).
"""

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

import requests

from logfwd.codecs.jsonbytes import loads
from logfwd.gcpace import fewer_collections
from logfwd.sources.openwhisk.api import MAX_LIMIT, OpenWhiskAPI
from logfwd_dev.emulator import DEFAULT_API_KEY

from . import end_to_end, procs

ACTION = "hello"
ACTIVATIONS = 1_000  # five pages of one action
SKIPS = range(0, ACTIVATIONS - MAX_LIMIT + 1, MAX_LIMIT)


def measure(api: OpenWhiskAPI, pages: int, rounds: int) -> dict:
    upto = int(time.time() * 1000)
    since = upto - int(2 * end_to_end.SPAN * 1000)

    def page(n: int) -> list:
        return api.list_activations(ACTION, since=since, upto=upto, limit=MAX_LIMIT, skip=SKIPS[n % len(SKIPS)])

    assert len(page(0)) == MAX_LIMIT, "the emulator's backlog is shorter than a page"
    for n in range(len(SKIPS)):  # warm: connection open, every page served once
        page(n)
    best = min(_cpu(page, pages) for _ in range(rounds)) / pages
    user, _, key = DEFAULT_API_KEY.partition(":")
    response = requests.get(f"{api.base}/namespaces/_/activations", auth=(user, key), timeout=30,
                            params={"name": ACTION, "limit": MAX_LIMIT, "docs": "true"})
    body = response.content
    decode = min(_cpu(lambda n: loads(body), pages) for _ in range(rounds)) / pages
    return {"page_bytes": len(body), "request_us": round(1e6 * best), "decode_us": round(1e6 * decode),
            "rest_us": round(1e6 * (best - decode)), "page": page}


def _cpu(work, times: int) -> float:
    """CPU seconds of ``work(0) ... work(times - 1)``, each result freed before the next (as a pass does)."""
    started = time.process_time()
    for n in range(times):
        work(n)
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50, help="page requests a round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one round instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="logfwd-pagecpu-") as work, \
            procs.emulator([ACTION], ACTIVATIONS, end_to_end.LINES, end_to_end.SPAN, Path(work)) as (url, _):
        api = OpenWhiskAPI(url, DEFAULT_API_KEY)
        try:
            with fewer_collections():  # the collector's pace of a pass (gcpace.py)
                result = measure(api, args.pages, args.rounds)
                if args.profile:
                    profiler = cProfile.Profile(time.process_time)
                    profiler.runcall(_cpu, result["page"], args.pages)
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
                    return 0
        finally:
            api.close()
    print(f"a page of {MAX_LIMIT} records ({result['page_bytes']:,} bytes): {result['request_us']:,} us of CPU a "
          f"request, of which decoding {result['decode_us']:,} and the rest {result['rest_us']:,} "
          f"(best of {args.rounds} rounds of {args.pages})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
