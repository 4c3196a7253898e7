"""The drain benchmarks still run (tiny sizes; no timing is asserted): every request answered 200, and
the routing measurement's crc32 figures are what arithmetic says."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.bench is a namespace package under the root

from tests.bench import drain, statsd_routing  # noqa: E402


def test_the_drain_benchmark_serves_every_request(tmp_path):
    result = drain.run(seconds=0.3, clients=1, work=tmp_path)
    assert [row["mix"] for row in result["parsing"]] == list(drain.MIXES)
    assert all(row["frames_per_s"] > 0 and row["cpu_us_per_frame"] > 0 for row in result["parsing"])
    assert all(row["requests_per_s"] > 0 and row["failed"] == 0 for row in result["served"]), result["served"]


def test_the_routing_measurement_covers_both_routings_and_growths():
    rows = statsd_routing.run(count=3000, clusters=2)
    shares = {(row["routing"], row["from"]): row["moved_mean"] for row in rows}
    assert set(shares) == {("consistent", 2), ("crc32-mod-n", 2), ("consistent", 10), ("crc32-mod-n", 10)}
    # crc32 mod n keeps a name only when crc mod N == crc mod N+1: 1/3 of them from 2 to 3, 1/11 from 10 to 11
    assert abs(shares[("crc32-mod-n", 2)] - 2 / 3) < 0.03 and abs(shares[("crc32-mod-n", 10)] - 10 / 11) < 0.03
    assert shares[("consistent", 2)] < 0.5 and shares[("consistent", 10)] < 0.2
