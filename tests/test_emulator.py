"""The OpenWhisk emulator against a real loopback server, queried with requests."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from logfwd_dev.emulator import DEFAULT_API_KEY, Emulator, format_line, format_time
from logfwd_dev.emulator.loglines import COLLECTION_FAILED, DEVELOPER_ERROR, TRUNCATED
from logfwd_dev.emulator.producer import Producer

from fakes import T0

NOW = T0  # the shared fake clock's starting point, epoch seconds
NOW_MS = int(NOW * 1000)
LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z)( +)(stdout|stderr): (.*)", re.S)
HEX32 = re.compile(r"[0-9a-f]{32}")
ACTIONS = ["hello", "shop/checkout", "shop/cart", "etl/ingest"]


@pytest.fixture
def emu(clock):
    with Emulator(clock=clock, rng=random.Random(42)) as emulator:
        yield emulator


@pytest.fixture
def http():
    with requests.Session() as session:
        session.auth = tuple(DEFAULT_API_KEY.split(":", 1))
        yield session


def activations(http, emu, **params):
    return http.get(f"{emu.url}/api/v1/namespaces/_/activations", params=params, timeout=10)


def assert_error(reply, status, message):
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error", "code"}
    assert message in body["error"]
    assert body["code"] == reply.headers["X-Request-ID"]


# -- list parameters ---------------------------------------------------------------------------


def test_limit_bounds_default_and_zero(emu, http):
    emu.seed(ACTIONS, 250, span_s=3600)
    assert len(activations(http, emu).json()) == 30
    assert len(activations(http, emu, limit=0).json()) == 200
    assert len(activations(http, emu, limit=200).json()) == 200
    assert len(activations(http, emu, limit=7).json()) == 7
    expected = "The value '201' is not in the range of 0 to 200 for activations."
    assert_error(activations(http, emu, limit=201), 400, expected)
    assert activations(http, emu, limit=201).json()["error"].endswith(expected)
    assert_error(activations(http, emu, limit=-1), 400, "The value '-1' is not in the range of 0 to 200")
    assert_error(activations(http, emu, limit="ten"), 400, "The value 'ten' is not an integer for activations.")


def test_skip_pages_cover_everything_once_newest_first(emu, http):
    emu.seed(ACTIONS, 450, span_s=600)
    pages = [activations(http, emu, limit=200, skip=skip).json() for skip in (0, 200, 400, 600)]
    assert [len(p) for p in pages] == [200, 200, 50, 0]
    records = [r for page in pages for r in page]
    ids = [r["activationId"] for r in records]
    assert len(ids) == len(set(ids)) == emu.stats()["activations"]
    starts = [r["start"] for r in records]
    assert starts == sorted(starts, reverse=True)
    assert len(set(starts)) < len(starts), "the seed gives some activations the same start millisecond"
    assert_error(activations(http, emu, skip=-1), 400, "The value '-1' is not greater than or equal to 0")


def test_since_and_upto_are_inclusive_on_start(emu, http):
    for offset in range(6):
        emu.add_activation("hello", start_ms=NOW_MS - 60_000 + offset, duration_ms=50_000 - offset * 1000)
    got = activations(http, emu, since=NOW_MS - 59_999, upto=NOW_MS - 59_997).json()
    assert [r["start"] for r in got] == [NOW_MS - 59_997, NOW_MS - 59_998, NOW_MS - 59_999]
    assert activations(http, emu, since=NOW_MS).json() == []
    assert_error(activations(http, emu, since="yesterday"), 400, "not a valid value for epoch seconds: yesterday")


def test_docs_true_gives_full_records_and_false_summaries(emu, http):
    emu.seed(ACTIONS, 20, span_s=600)
    full = activations(http, emu, docs="true", limit=5).json()
    summaries = activations(http, emu, docs="false", limit=5).json()
    assert [r["activationId"] for r in full] == [r["activationId"] for r in summaries]
    for record in full:
        assert {"logs", "response", "subject", "annotations", "duration"} <= set(record)
        assert record["logs"] and all(LINE.fullmatch(line) for line in record["logs"])
        assert record["response"]["success"] == (record["response"]["status"] == "success")
    for record in summaries:
        assert "logs" not in record and "response" not in record
        assert {"activationId", "name", "namespace", "start", "end", "duration", "statusCode",
                "annotations", "version", "publish"} <= set(record)


def test_count_and_count_with_docs(emu, http):
    emu.seed(ACTIONS, 40, span_s=600)
    assert activations(http, emu, count="true").json() == {"activations": 40}
    assert activations(http, emu, count="true", name="hello").json() == {"activations": 10}
    assert activations(http, emu, count="true", skip=35).json() == {"activations": 5}
    assert_error(activations(http, emu, count="true", docs="true"), 400,
                 "The parameter 'docs' is not permitted with 'count'.")


def test_name_filter_with_and_without_package(emu, http):
    emu.seed(ACTIONS, 40, span_s=600)
    checkout = activations(http, emu, name="shop/checkout", limit=0, docs="true").json()
    assert len(checkout) == 10
    assert all(r["name"] == "checkout" for r in checkout)
    assert all({"key": "path", "value": "guest/shop/checkout"} in r["annotations"] for r in checkout)
    assert activations(http, emu, name="checkout").json() == []  # a package action needs its package
    assert len(activations(http, emu, name="hello", limit=0).json()) == 10
    assert_error(activations(http, emu, name="a/b/c"), 400, "'simple' name or 'package-name/simple' name")
    bound = emu.add_activation("shop/checkout", start_ms=NOW_MS - 1000, binding="guest/myshop")
    assert [r["activationId"] for r in activations(http, emu, name="myshop/checkout").json()] == [
        bound["activationId"]
    ]  # invocations through a binding are listed under the binding's name
    assert len(activations(http, emu, name="shop/checkout", limit=0).json()) == 10


# -- auth and namespaces -----------------------------------------------------------------------


def test_wrong_or_missing_key_is_401_and_other_namespace_403(emu, http):
    url = f"{emu.url}/api/v1/namespaces/_/activations"
    uuid = DEFAULT_API_KEY.split(":")[0]
    assert_error(requests.get(url, auth=(uuid, "wrong"), timeout=10), 401, "The supplied authentication is invalid")
    missing = requests.get(url, timeout=10)
    assert_error(missing, 401, "requires authentication")
    assert missing.headers["WWW-Authenticate"].startswith("Basic")
    assert http.get(f"{emu.url}/api/v1/namespaces/guest/activations", timeout=10).status_code == 200
    other = http.get(f"{emu.url}/api/v1/namespaces/someone/activations", timeout=10)
    assert_error(other, 403, "The supplied authentication is not authorized to access 'someone'.")


# -- single activations ------------------------------------------------------------------------


def test_get_by_id_logs_and_result(emu, http):
    record = emu.add_activation("shop/cart", start_ms=NOW_MS - 5000, lines=4, status="application error")
    base = f"{emu.url}/api/v1/namespaces/_/activations/{record['activationId']}"
    assert http.get(base, timeout=10).json() == record
    assert http.get(f"{base}/logs", timeout=10).json() == {"logs": record["logs"]}
    result = http.get(f"{base}/result", timeout=10).json()
    assert result["status"] == "application error" and result["success"] is False
    assert result["size"] == len(json.dumps(result["result"], separators=(",", ":")))
    assert_error(http.get(f"{emu.url}/api/v1/namespaces/_/activations/{'0' * 32}", timeout=10), 404,
                 "The requested resource does not exist.")
    assert_error(http.get(f"{emu.url}/api/v1/namespaces/_/activations/nope", timeout=10), 400,
                 "The activation id is not valid.")


def test_external_logs_come_only_from_the_logs_endpoint(clock, http):
    with Emulator(clock=clock, rng=random.Random(1), external_logs=True) as emu:
        record = emu.add_activation("hello", start_ms=NOW_MS - 5000, lines=3)
        assert record["logs"] == []
        [listed] = activations(http, emu, docs="true").json()
        assert listed["logs"] == []
        logs = http.get(f"{emu.url}/api/v1/namespaces/_/activations/{record['activationId']}/logs",
                        timeout=10).json()["logs"]
        assert len(logs) == 3 and all(LINE.fullmatch(line) for line in logs)


def test_record_invisible_until_it_ends_and_listed_only_after_the_lag(clock, http):
    with Emulator(clock=clock, rng=random.Random(2), list_lag=2.0) as emu:
        emu.add_activation("hello", start_ms=NOW_MS - 30_000, duration_ms=1000)  # long finished
        late = emu.add_activation("etl/ingest", start_ms=NOW_MS - 60_000, duration_ms=70_000)  # ends in 10 s
        by_id = f"{emu.url}/api/v1/namespaces/_/activations/{late['activationId']}"

        def listed_ids():
            return [r["activationId"] for r in activations(http, emu, since=NOW_MS - 120_000).json()]

        assert http.get(by_id, timeout=10).status_code == 404
        assert late["activationId"] not in listed_ids()
        clock.now = NOW + 10.0  # ended: GET by id works, the list index has not caught up yet
        assert http.get(by_id, timeout=10).status_code == 200
        assert late["activationId"] not in listed_ids()
        clock.now = NOW + 12.0
        ids = listed_ids()
        assert ids[-1] == late["activationId"], "an old start shows up late, at its place by start"
        assert activations(http, emu, count="true").json() == {"activations": 2}


# -- actions -----------------------------------------------------------------------------------


def test_actions_listing_with_paging(emu, http):
    url = f"{emu.url}/api/v1/namespaces/_/actions"
    everything = http.get(url, timeout=10).json()
    names = {(a["namespace"], a["name"]) for a in everything}
    assert {("guest", "hello"), ("guest/shop", "checkout"), ("guest/etl", "ingest")} <= names
    assert ("guest", "every-minute") not in names  # triggers are not actions
    pages = [http.get(url, params={"limit": 2, "skip": skip}, timeout=10).json() for skip in range(0, 8, 2)]
    assert [a for page in pages for a in page] == everything
    kinds = {a["name"]: dict((n["key"], n["value"]) for n in a["annotations"])["exec"] for a in everything}
    assert kinds["order-flow"] == "sequence" and kinds["hello"] == "python:3.11"
    assert set(everything[0]["limits"]) == {"timeout", "memory", "logs", "concurrency"}
    assert_error(http.get(url, params={"limit": 201}, timeout=10), 400, "0 to 200 for actions.")


# -- faults and bookkeeping --------------------------------------------------------------------


def test_fault_injection_is_counted_by_kind(clock, http):
    with Emulator(clock=clock, rng=random.Random(3), fail_rate=1.0) as emu:
        replies = [activations(http, emu) for _ in range(40)]
        statuses = [r.status_code for r in replies]
        assert set(statuses) == {429, 502, 503}
        throttled = next(r for r in replies if r.status_code == 429)
        assert throttled.json()["error"].startswith("Too many requests in the last minute")
        stats = http.get(f"{emu.url}/emulator/stats", timeout=10).json()  # control endpoints never fail
        assert stats["faults"] == {"429": statuses.count(429), "502": statuses.count(502),
                                   "503": statuses.count(503), "slow": 0, "reset": 0}
        assert stats["requests"] == {"fault": 40}


def test_reset_faults_close_the_connection_without_an_answer(clock):
    with Emulator(clock=clock, rng=random.Random(4), reset_rate=1.0) as emu:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{emu.url}/api/v1/namespaces/_/activations", auth=tuple(DEFAULT_API_KEY.split(":", 1)),
                         timeout=10)
        assert emu.stats()["faults"]["reset"] == 1


def test_slow_faults_trip_client_timeouts(clock):
    with Emulator(clock=clock, rng=random.Random(4), slow_rate=1.0, slow_seconds=0.5) as emu:
        with pytest.raises(requests.Timeout):
            requests.get(f"{emu.url}/api/v1/namespaces/_/activations", auth=tuple(DEFAULT_API_KEY.split(":", 1)),
                         timeout=0.05)
        assert emu.stats()["faults"]["slow"] == 1


def test_produced_listing_matches_the_counters(emu, http):
    emu.seed(ACTIONS + ["shop/order-flow", "every-minute"], 60, span_s=600, lines=5)
    produced = http.get(f"{emu.url}/emulator/produced", timeout=10).json()
    stats = emu.stats()
    assert len(produced) == stats["activations"] > 60  # sequences and triggers add records
    assert sum(p["lines"] for p in produced) == stats["lines"]
    assert all(p["visibleAt"] == p["end"] for p in produced)  # no list lag here
    listed = {r["activationId"]: r for r in activations(http, emu, docs="true", limit=0).json()}
    assert set(listed) == {p["activationId"] for p in produced}
    for entry in produced:
        # Sequences list component ids and triggers rule results: no log text.
        text = entry["kind"] not in ("sequence", "trigger")
        assert entry["lines"] == (len(listed[entry["activationId"]]["logs"]) if text else 0)


def test_producer_starts_the_rate_with_bursts_in_one_millisecond(clock):
    calls = []
    producer = Producer(lambda *call: calls.append(call), random.Random(5), clock, rate=20, actions=["hello"],
                        max_duration=3.0, lines=4, burst=5, burst_every=10.0)
    clock.now += 2.0
    assert producer.step() == 40
    clock.now += 9.0
    assert producer.step() == 180 + 5
    burst = calls[-5:]
    assert len({start for _, start, _, _ in burst}) == 1
    assert all(name == "hello" and lines == 4 and cap == 3000 for name, _, cap, lines in calls)


def test_produce_runs_in_the_background_and_records_end_late(clock):
    with Emulator(clock=clock, rng=random.Random(6), list_lag=1.0) as emu:
        emu.produce(50, actions=["hello"], max_duration=4.0, lines=2)
        clock.now += 1.0
        deadline = time.monotonic() + 10
        while emu.stats()["activations"] < 50 and time.monotonic() < deadline:
            time.sleep(0.02)
        emu.stop_producing()
        produced = emu.produced()
        assert len(produced) >= 50
        assert all(p["end"] > p["start"] and p["visibleAt"] == p["end"] + 1000 for p in produced)


# -- records and log lines ---------------------------------------------------------------------


def test_log_lines_follow_the_platform_format():
    assert format_time(1_500_000_000_000_000_000) == "2017-07-14T02:40:00Z"
    assert format_time(1_500_000_000_120_000_000) == "2017-07-14T02:40:00.12Z"
    assert format_line(1_510_587_925_278_483_919, "stdout", "hello") == "2017-11-13T15:45:25.278483919Z stdout: hello"
    assert format_line(1_653_434_735_467_280_980, "stderr", "boom") == "2022-05-24T23:25:35.46728098Z  stderr: boom"


def test_generated_lines_have_one_or_several_spaces_markers_and_both_streams(clock):
    emu = Emulator(clock=clock, rng=random.Random(7))
    try:
        emu.seed(ACTIONS, 400, span_s=3600, lines=10)
        per_activation = [act.logs("guest") for act in emu.store.all()]
    finally:
        emu.stop()
    for logs in per_activation:  # times never go backwards within an activation
        times = [LINE.fullmatch(line).group(1).rstrip("Z").partition(".") for line in logs]
        keys = [(head, fraction.ljust(9, "0")) for head, _, fraction in times]
        assert keys == sorted(keys)
    matches = [LINE.fullmatch(line) for logs in per_activation for line in logs]
    assert all(matches)
    assert all(len(m.group(1)) + len(m.group(2)) == 31 for m in matches)  # time left-justified in 30
    assert {len(m.group(2)) for m in matches} >= {1, 2}
    assert {m.group(3) for m in matches} == {"stdout", "stderr"}
    messages = {m.group(4) for m in matches}
    assert DEVELOPER_ERROR in messages and (TRUNCATED in messages or COLLECTION_FAILED in messages)
    assert any(not m.isascii() for m in messages)


def test_record_shape_cold_starts_sequences_and_triggers(emu, http):
    cold = emu.add_activation("hello", start_ms=NOW_MS - 9000, cold=True, init_time=321)
    warm = emu.add_activation("hello", start_ms=NOW_MS - 8000)
    notes = lambda record: {n["key"]: n["value"] for n in record["annotations"]}  # noqa: E731
    assert notes(cold)["initTime"] == 321 and "initTime" not in notes(warm)
    assert {"path", "kind", "limits", "waitTime", "timeout"} <= set(notes(warm))
    assert HEX32.fullmatch(warm["activationId"]) and warm["duration"] == warm["end"] - warm["start"]
    emu.seed(["shop/order-flow", "every-minute"], 2, span_s=60)
    listed = {r["activationId"]: r for r in activations(http, emu, docs="true", limit=0).json()}
    sequence = next(r for r in listed.values() if r["name"] == "order-flow")
    assert notes(sequence)["kind"] == "sequence" and sequence["logs"]
    for component_id in sequence["logs"]:
        assert listed[component_id]["cause"] == sequence["activationId"]
        assert notes(listed[component_id])["causedBy"] == "sequence"
    trigger = next(r for r in listed.values() if r["name"] == "every-minute")
    rule = json.loads(trigger["logs"][0])
    assert rule["action"] == "guest/hello" and rule["activationId"] in listed


def test_a_docs_page_is_the_records_json_whether_encoded_now_or_kept(emu, http, monkeypatch):
    # The emulator keeps each record's JSON once encoded: a page read again, or read after the kept
    # records were forgotten, is byte for byte the JSON of the records as they are built now.
    from logfwd.codecs.jsonbytes import dumps
    from logfwd_dev.emulator import api as emulator_api

    emu.seed([*ACTIONS, "shop/order-flow", "every-minute"], 40, span_s=600)
    emu.add_activation("hello", start_ms=NOW_MS - 5000, lines=["plain", "", "  spaced  ", "caf\u00e9 \u2192"])
    page = lambda: activations(http, emu, docs="true", limit=200)  # noqa: E731
    expected = dumps([emu.api.record(a) for a in emu.store.page(None, None, None, 0, 200)])
    with monkeypatch.context() as patch:
        patch.setattr(emulator_api, "ENCODED_BYTES", 3000)  # a record or two kept, then all forgotten
        assert page().content == expected
        assert page().content == expected
        assert emu.api._encoded_bytes <= 3000 and len(emu.api._encoded) < 40
    first, again = page(), page()  # encoded and kept, then served as kept
    assert first.content == again.content == expected and len(first.json()) > 40
    assert emu.api._encoded_bytes == sum(len(dumps(r)) for r in first.json())


def test_seeding_is_reproducible_from_the_random_seed(clock):
    def ids(seed):
        emu = Emulator(clock=clock, rng=random.Random(seed))
        try:
            emu.seed(ACTIONS, 50, span_s=600)
            return [(a.activation_id, tuple(a.logs("guest"))) for a in emu.store.all()]
        finally:
            emu.stop()

    assert ids(8) == ids(8) != ids(9)


# -- the command -------------------------------------------------------------------------------


def test_cli_starts_prints_the_url_and_answers():
    logfwd = Path(sys.executable).with_name("logfwd")
    command = [str(logfwd), "emulate", "--port", "0", "--seed-activations", "25", "--rate", "0",
               "--list-lag", "0", "--random-seed", "1", "--actions", "hello,shop/cart"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = process.stdout.readline()
        match = re.fullmatch(r"OpenWhisk emulator on (http://127\.0\.0\.1:\d+) \(namespace guest\)\n", first)
        assert match, first + process.stderr.read() if process.poll() is not None else first
        assert process.stdout.readline() == f"API key: {DEFAULT_API_KEY}\n"
        assert process.stdout.readline() == f"apihost={match.group(1)}\n"
        reply = requests.get(f"{match.group(1)}/api/v1/namespaces/_/activations", params={"count": "true"},
                             auth=tuple(DEFAULT_API_KEY.split(":", 1)), timeout=10)
        assert reply.json() == {"activations": 25}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
