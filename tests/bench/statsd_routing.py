"""The share of metric names that move to another collector when a statsd cluster grows, for both
routings: ``python -m tests.bench.statsd_routing [--names N]``.

Names are the drain's own: ``<app>.heroku.errors.<code>`` over 2,000 apps and Heroku's 40 codes.
Collectors are ``10.<k>.0.<i>:8125``; the ring's share depends on where its 40 points per collector
fall, so it is measured over 20 clusters (k = 0..19): mean, min and max. With perfect spreading, growing from N to N+1 collectors moves
1/(N+1) of the names on a ring and N/(N+1) with crc32 mod n.
"""

import argparse
import json

from logfwd.sinks.statsd.routing import ROUTINGS

CODES = [f"H{n}" for n in (*range(10, 29), 31, 32, 80, 81, 82, 83, 99)] + \
        [f"R{n}" for n in (10, 12, 13, 14, 15, 16, 17, 99)] + [f"L{n}" for n in range(10, 16)]
GROWTHS = ((2, 3), (10, 11))


def names(count: int) -> list[bytes]:
    return [f"app{i // len(CODES)}.heroku.errors.{CODES[i % len(CODES)]}".encode() for i in range(count)]


def moved_share(routing: str, before: int, after: int, keys: list[bytes], cluster: int = 0) -> float:
    old = ROUTINGS[routing]([f"10.{cluster}.0.{i}:8125" for i in range(1, before + 1)])
    new = ROUTINGS[routing]([f"10.{cluster}.0.{i}:8125" for i in range(1, after + 1)])
    return sum(old.collector(key) != new.collector(key) for key in keys) / len(keys)


def run(count: int = 40_000, clusters: int = 20) -> list[dict]:
    keys = names(count)
    rows = []
    for before, after in GROWTHS:
        for routing in ROUTINGS:
            shares = [moved_share(routing, before, after, keys, k) for k in range(clusters)]
            rows.append({"routing": routing, "from": before, "to": after, "names": count, "clusters": clusters,
                         "moved_mean": round(sum(shares) / len(shares), 4), "moved_min": round(min(shares), 4),
                         "moved_max": round(max(shares), 4), "ideal_ring": round(1 / after, 4)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.statsd_routing", description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=40_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(args.names)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| routing | collectors | names moved: mean (min-max over 20 clusters) | 1/(N+1) |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['routing']} | {row['from']} -> {row['to']} | {row['moved_mean']:.1%} "
              f"({row['moved_min']:.1%}-{row['moved_max']:.1%}) | {row['ideal_ring']:.1%} |")


if __name__ == "__main__":
    main()
