"""The emulator's platform options do what the real controller does (docs/openwhisk-timing.md)."""

import random
import subprocess
import sys

import pytest
import requests

from logfwd_dev.emulator import DEFAULT_API_KEY, Emulator
from logfwd_dev.emulator.platform import Platform
from logfwd_dev.emulator.records import ActionSpec

from fakes import T0

NOW_MS = int(T0 * 1000)
CATALOG = (
    ActionSpec("hello", timeout=60_000),
    ActionSpec("shop/cart", timeout=10_000),
    ActionSpec("shop/checkout", timeout=30_000),
    ActionSpec("shop/order-flow", "sequence", components=("shop/cart", "shop/checkout")),
    ActionSpec("every-minute", "trigger", rule_action="hello"),
)


@pytest.fixture
def http():
    with requests.Session() as session:
        session.auth = tuple(DEFAULT_API_KEY.split(":", 1))
        yield session


def emulator(clock, seed=1, **options):
    options.setdefault("catalog", CATALOG)
    return Emulator(clock=clock, rng=random.Random(seed), **options)


def listed(http, emu, **params):
    reply = http.get(f"{emu.url}/api/v1/namespaces/_/activations", params=params, timeout=10)
    return reply


def test_stale_index_answers_from_the_index_as_of_the_previous_query(clock, http):
    with emulator(clock, platform=Platform(stale_index=True)) as emu:
        listed(http, emu)  # the index is up to date as of now
        emu.add_activation("hello", start_ms=NOW_MS + 1000, duration_ms=1000)
        clock.now += 5
        assert listed(http, emu).json() == []  # answered from the index before the update
        assert len(listed(http, emu).json()) == 1  # the previous query updated it
        assert listed(http, emu, count="true").json() == {"activations": 1}


def test_late_records_end_up_to_twice_the_time_limit_after_start_and_are_stored_after_log_collection(clock):
    platform = Platform(late_records=True, log_collection=20.0)
    with emulator(clock, platform=platform) as emu:
        for i in range(400):
            emu.invoke("hello", NOW_MS + i, max_duration_ms=60_000, lines=1)
        produced = emu.produced()
    spans = [a["end"] - a["start"] for a in produced]
    assert max(spans) > 60_000 and max(spans) <= 2 * 60_000
    collect = [a["storedAt"] - a["end"] for a in produced]
    assert max(collect) > 10_000 and max(collect) <= 20_000 and min(collect) >= 0


def test_a_sequence_record_is_stored_after_its_components(clock):
    with emulator(clock, platform=Platform(late_records=True, log_collection=5.0)) as emu:
        for i in range(20):
            emu.invoke("shop/order-flow", NOW_MS + i * 10, max_duration_ms=20_000, lines=1)
        activations = {a.activation_id: a for a in emu.store.all()}
    sequences = [a for a in activations.values() if a.component_ids]
    assert len(sequences) == 20
    for top in sequences:
        parts = [activations[i] for i in top.component_ids]
        assert top.stored_at > max(p.stored_at for p in parts) and top.start <= parts[0].start


def test_ties_come_by_id_descending_or_in_a_new_order_every_time(clock, http):
    with emulator(clock, platform=Platform(ties="id")) as emu:
        ids = [emu.add_activation("hello", start_ms=NOW_MS - 5000)["activationId"] for _ in range(30)]
        assert [r["activationId"] for r in listed(http, emu, limit=0).json()] == sorted(ids, reverse=True)
    with emulator(clock, platform=Platform(ties="elasticsearch")) as emu:
        for _ in range(30):
            emu.add_activation("hello", start_ms=NOW_MS - 5000)
        orders = {tuple(r["activationId"] for r in listed(http, emu, limit=10).json()) for _ in range(5)}
        assert len(orders) > 1  # the same request, a different first page


def test_unparseable_records_are_left_out_of_docs_pages_but_counted(clock, http):
    with emulator(clock, platform=Platform(drop_rate=0.2)) as emu:
        for i in range(200):
            emu.add_activation("hello", start_ms=NOW_MS - 10_000 + i)
        unlisted = sum(a["unlisted"] for a in emu.produced())
        assert 10 < unlisted < 80
        assert len(listed(http, emu, limit=200, docs="true").json()) == 200 - unlisted  # a short page
        assert len(listed(http, emu, limit=200).json()) == 200  # summaries come from the view: all there
        assert listed(http, emu, count="true").json() == {"activations": 200}


def test_the_list_limit_applies_to_every_collection_and_since_after_upto_is_a_500(clock, http):
    with emulator(clock, max_limit=50) as emu:
        for url in (f"{emu.url}/api/v1/namespaces/_/activations", f"{emu.url}/api/v1/namespaces/_/actions"):
            reply = http.get(url, params={"limit": 200}, timeout=10)
            assert reply.status_code == 400 and "not in the range of 0 to 50" in reply.json()["error"]
        reply = listed(http, emu, since=NOW_MS, upto=NOW_MS - 1)
        assert reply.status_code == 500 and reply.json()["error"] == "Internal server error."


def test_a_large_skip_times_out(clock, http):
    with emulator(clock, platform=Platform(skip_timeout=100)) as emu:
        assert listed(http, emu, skip=99).status_code == 200
        statuses = {listed(http, emu, skip=100).status_code for _ in range(12)}
        assert statuses == {500, 504}


@pytest.mark.parametrize("store, before, after", [
    ("external", 3, 3),
    ("delayed", 0, 3),
    ("unavailable", ["Logs are not available."], ["Logs are not available."]),
])
def test_log_stores(clock, http, store, before, after):
    with emulator(clock, platform=Platform(log_store=store, logs_delay=30.0)) as emu:
        record = emu.add_activation("hello", start_ms=NOW_MS - 5000, lines=3)
        assert record["logs"] == []
        url = f"{emu.url}/api/v1/namespaces/_/activations/{record['activationId']}/logs"

        def logs():
            body = http.get(url, timeout=10).json()["logs"]
            return body if isinstance(before, list) else len(body)

        assert logs() == before
        clock.now += 40
        assert logs() == after


def test_bare_trigger_records_have_no_end_duration_annotations_or_status_code(clock, http):
    with emulator(clock, platform=Platform(bare_triggers=True)) as emu:
        emu.invoke("every-minute", NOW_MS - 30_000, max_duration_ms=100, lines=1)
        clock.now += 5
        [trigger] = [r for r in listed(http, emu, docs="true").json() if r["name"] == "every-minute"]
        assert "end" not in trigger and "duration" not in trigger and trigger["annotations"] == []
        [summary] = [r for r in listed(http, emu).json() if r["name"] == "every-minute"]
        assert "statusCode" not in summary and "end" not in summary


def test_server_errors_add_500_and_504_to_the_injected_faults(clock, http):
    with emulator(clock, platform=Platform(server_errors=True), fail_rate=1.0) as emu:
        statuses = {listed(http, emu).status_code for _ in range(60)}
    assert statuses == {429, 500, 502, 503, 504}


def test_the_command_line_takes_the_platform_options():
    command = [sys.executable, "-m", "logfwd", "emulate", "--port", "0", "--duration", "0", "--real-platform",
               "--ties", "id", "--drop-rate", "0.5", "--seed-activations", "0", "--rate", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "apihost=http://127.0.0.1:" in done.stdout
    bad = subprocess.run(command[:-6] + ["--drop-rate", "1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--drop-rate" in bad.stderr
