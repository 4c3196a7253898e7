"""The cursor's compact encoding, its split into settled and live ranges, and the actions list."""

import pytest

from logfwd.errors import ConfigError
from logfwd.sources.openwhisk.cursor import ActionCursor, ActionRun, decode_seen, encode_seen, fingerprint, share
from logfwd.sources.openwhisk.selection import select_actions

NOW = 1_700_000_000_000


def test_seen_ids_round_trip_compactly_as_fingerprints():
    since = NOW - 360_000
    seen = {fingerprint(f"{i * 0x9E3779B97F4A7C15 % 2**128:032x}"): since + i * 7 for i in range(1000)}
    seen["not-hex-vendor-id"] = since + 5
    seen["0123456789abcdef"] = since + (1 << 40)  # far from its neighbours: a long delta
    text = encode_seen(since, seen)
    assert decode_seen(since, text) == seen
    assert len(text) < 1000 * 10 * 4 / 3 + 100  # about 10 bytes an id before base64
    assert encode_seen(since, {}) == ""


def test_a_fingerprint_is_the_first_64_bits_of_a_hex_id_and_a_vendor_id_whole():
    assert fingerprint("0123456789abcdef" * 2) == "0123456789abcdef"
    assert fingerprint("0123456789ABCDEF" * 2) == "0123456789ABCDEF" * 2
    assert fingerprint("vendor-7") == "vendor-7"
    run = make_run(ActionCursor(NOW - 100_000))
    run.delivered("fedcba9876543210" + "0" * 16, NOW - 50_000, 1)
    assert run.has_seen("fedcba9876543210" + "0" * 16) and not run.has_seen("fedcba9876543211" + "0" * 16)


def test_a_fingerprint_of_a_fingerprint_is_itself_so_a_run_may_be_told_either():
    # The source takes each id's fingerprint once, for its dedupe, and marks the record delivered by it.
    for activation_id in ("0123456789abcdef" * 2, "0123456789ABCDEF" * 2, "vendor-7", "f" * 16, "a" * 31, "g" * 32):
        assert fingerprint(fingerprint(activation_id)) == fingerprint(activation_id)
    by_id, by_fingerprint = make_run(ActionCursor(NOW - 100_000)), make_run(ActionCursor(NOW - 100_000))
    for offset, activation_id in enumerate(("fedcba9876543210" * 2, "vendor-7", "0" * 32)):
        by_id.delivered(activation_id, NOW - 50_000 - offset, 1)
        by_fingerprint.delivered(fingerprint(activation_id), NOW - 50_000 - offset, 1)
    assert by_id.next_cursor(10) == by_fingerprint.next_cursor(10)


def test_a_checkpoint_of_the_first_format_still_reads_with_its_ids_as_fingerprints():
    # Format 1: 4-byte offset, a length byte with the hex-packed bit, the id (16 bytes for 32 hex digits).
    import base64
    import struct
    raw = struct.pack(">IB", 5, 0x80 | 16) + bytes.fromhex("ab" * 16) + struct.pack(">IB", 9, 3) + b"v-1"
    assert decode_seen(NOW, base64.b64encode(raw).decode()) == {"ab" * 8: NOW + 5, "v-1": NOW + 9}


def test_the_id_budget_goes_to_the_actions_that_need_it():
    assert share({"quiet": 10, "busy": 900, "busier": 5000}, 1000) == {"quiet": 10, "busy": 495, "busier": 495}
    assert share({"a": 10, "b": 20}, 1000) == {"a": 10, "b": 20}
    assert share({}, 1000) == {}


@pytest.mark.parametrize("text", ["%%%", "AAAA", "AAAAAAWq", "2:%%", "2:AQ==", "2:gA=="])
def test_malformed_seen_ids_are_rejected(text):
    with pytest.raises(ValueError):
        decode_seen(NOW, text)


def make_run(cursor=None, lookback=600_000):
    return ActionRun("a", cursor, now_ms=NOW, overlap_ms=360_000, settle_ms=2_000, lookback_ms=lookback)


def test_ranges_split_at_now_minus_overlap():
    run = make_run(ActionCursor(NOW - 1_000_000))
    assert run.settled_range() == (NOW - 1_000_000, NOW - 360_001)
    assert run.live_range() == (NOW - 360_000, NOW - 2_000)


def test_caught_up_has_only_a_live_range():
    run = make_run(ActionCursor(NOW - 100_000))
    assert run.settled_range() is None and run.live_range() == (NOW - 100_000, NOW - 2_000)


def test_next_cursor_after_a_complete_run_stops_at_the_boundary_and_keeps_live_ids():
    run = make_run(ActionCursor(NOW - 1_000_000))
    run.delivered("old", NOW - 900_000, 1)
    run.delivered("live", NOW - 10_000, 1)
    run.finish_settled()
    cursor = run.next_cursor(100)
    assert cursor.since == NOW - 360_000 and cursor.seen == {"live": NOW - 10_000}


def test_next_cursor_after_a_cut_run_keeps_its_place_inclusive():
    run = make_run(ActionCursor(NOW - 1_000_000))
    run.delivered("x", NOW - 900_000, 1)
    run.delivered("y", NOW - 900_000, 1)
    cursor = run.next_cursor(100)
    assert cursor.since == NOW - 900_000 and set(cursor.seen) == {"x", "y"}
    assert make_run(ActionCursor(NOW - 1_000_000)).next_cursor(100).since == NOW - 1_000_000


def test_a_long_settled_backlog_keeps_only_the_newest_millisecond():
    run = make_run(ActionCursor(NOW - 1_000_000))
    for i in range(5000):
        run.delivered(f"id{i}", NOW - 900_000 + i // 3, 1)
    assert len(run.seen) == 0 and len(run.through_ids) == 2  # ids 4998 and 4999 share the last start
    cursor = run.next_cursor(100)
    assert cursor.since == NOW - 900_000 + 1666 and set(cursor.seen) == {"id4998", "id4999"}


def test_seen_cap_forgets_the_oldest():
    run = make_run(ActionCursor(NOW - 100_000))
    for i in range(10):
        run.delivered(f"id{i}", NOW - 50_000 + i, 1)
    run.finish_settled()
    assert set(run.next_cursor(3).seen) == {"id7", "id8", "id9"}


LISTING = [{"name": "hello", "namespace": "guest"}, {"name": "forward", "namespace": "guest/logfwd"},
           {"name": "cart", "namespace": "guest/shop"}, {"name": "checkout", "namespace": "guest/shop"}]


def listing():
    return LISTING


@pytest.mark.parametrize("patterns, expected", [
    (["hello"], ["hello"]),
    (["shop/*"], ["shop/cart", "shop/checkout"]),
    (["*"], ["hello", "shop/cart", "shop/checkout"]),  # the forwarder itself is excluded
    (["*", "!shop/cart"], ["hello", "shop/checkout"]),
    (["*/*", "!shop/*"], []),
    (["/guest/hello", "hello"], ["hello"]),
])
def test_selection(patterns, expected):
    names, _ = select_actions(patterns, listing, "/guest/logfwd/forward")
    assert names == expected


def test_plain_names_need_no_listing():
    def no_listing():
        raise AssertionError("listed actions without a wildcard")
    assert select_actions(["a", "p/b"], no_listing)[0] == ["a", "p/b"]


def test_selection_warns_and_rejects():
    assert "matches no action" in select_actions(["nothere/*"], listing)[1][0]
    with pytest.raises(ConfigError, match="actions"):
        select_actions(["!hello"], listing)
    with pytest.raises(ConfigError, match="actions"):
        select_actions(["a/b/c"], listing)
