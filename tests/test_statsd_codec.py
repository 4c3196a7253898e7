"""The statsd line codec and the collector routing, as tables: no sockets."""

import zlib

import pytest

from logfwd.codecs.statsd import counters_and_timers, metric_name, pack, sanitize
from logfwd.sinks.statsd.routing import ConsistentRing, Crc32Modulo


@pytest.mark.parametrize("name, clean", [
    ("heaven.heroku.errors.H12", "heaven.heroku.errors.H12"),
    ("my app/errors", "my_app-errors"),
    ("a\tb\n c", "a_b_c"),
    ("caf\u00e9:|@#x", "cafx"),
    ("k;tag=v-1_2", "k;tag=v-1_2"),
])
def test_names_are_sanitized_as_statsd_does(name, clean):
    assert sanitize(name) == clean


def test_counters_are_summed_per_name_and_timers_kept():
    metrics = [("a.H12", "c", 1), ("a.ms", "ms", 30001), ("a.R14", "c", 1), ("a.H12", "c", 1),
               ("a/H12", "c", 3), ("a.ms", "ms", -1), ("???", "c", 1)]
    assert counters_and_timers(metrics) == [b"a.H12:2|c", b"a.R14:1|c", b"a-H12:3|c", b"a.ms:30001|ms", b"a.ms:0|ms"]


def test_an_unknown_metric_type_is_refused():
    with pytest.raises(ValueError, match="'g' is not c or ms"):
        counters_and_timers([("a", "g", 1)])


@pytest.mark.parametrize("lines, size, packets", [
    ([], 1432, []),
    ([b"a:1|c"], 1432, [b"a:1|c"]),
    ([b"a:1|c", b"b:2|c"], 11, [b"a:1|c\nb:2|c"]),   # exactly full: 5 + 1 + 5
    ([b"a:1|c", b"b:2|c"], 10, [b"a:1|c", b"b:2|c"]),
    ([b"a:1|c", b"x" * 20, b"b:2|c"], 10, [b"a:1|c", b"x" * 20, b"b:2|c"]),  # too long: alone
])
def test_lines_are_packed_up_to_the_packet_size(lines, size, packets):
    assert pack(lines, size) == packets


def test_many_lines_fill_1432_byte_packets():
    lines = [b"heaven.heroku.errors.H%02d:%d|c" % (i % 90 + 10, i) for i in range(500)]
    packets = pack(lines)
    assert all(len(p) <= 1432 for p in packets) and len(packets) > 1
    assert all(len(p) + 1 + len(lines[0]) > 1432 for p in packets[:-1])   # none could take another line
    assert b"\n".join(packets).split(b"\n") == lines


def test_a_line_is_routed_by_its_name():
    assert metric_name(b"a.b:1|c:2|c") == b"a.b"


def test_crc32_mod_n_reproduces_the_seeds_routing():
    # logplex-statsd sent heaven.heroku.errors.R89 to :8126 and R99, L99, H12 to :8127.
    route = Crc32Modulo(["127.0.0.1:8126", "127.0.0.1:8127"])
    assert {code: route.collector(b"heaven.heroku.errors." + code) for code in (b"R89", b"R99", b"L99", b"H12")} \
        == {b"R89": 0, b"R99": 1, b"L99": 1, b"H12": 1}
    assert route.collector(b"x") == zlib.crc32(b"x") % 2


def _names(count):
    return [b"app%d.heroku.errors.H%02d" % (i, i % 90 + 10) for i in range(count)]


def test_the_ring_moves_names_only_to_the_new_collector():
    names = _names(5000)
    before = ConsistentRing([f"10.0.0.{i}:8125" for i in range(3)])
    after = ConsistentRing([f"10.0.0.{i}:8125" for i in range(4)])
    moved = [n for n in names if before.collector(n) != after.collector(n)]
    assert all(after.collector(n) == 3 for n in moved)   # none moves between old collectors
    assert 0 < len(moved) < len(names) / 2
    assert {before.collector(n) for n in names} == {0, 1, 2}


def test_one_collector_gets_everything():
    for routing in (ConsistentRing, Crc32Modulo):
        assert {routing(["h:1"]).collector(n) for n in _names(100)} == {0}
    with pytest.raises(ValueError):
        ConsistentRing([])
