"""A run with several sinks (``tee.py``) against in-memory fakes: each sink gets every event, a unit is
done only once all of them took it, a sink that fails is named and does not keep the others from
their share, and nothing is lost in either sink whatever fails."""

import json
import random

import pytest

from logfwd.batcher import Batcher
from logfwd.deadline import Deadline
from logfwd.errors import DeliveryError
from logfwd.pipeline import forward
from logfwd.plugs import ACKNOWLEDGED, BEST_EFFORT, WRITTEN
from logfwd.sources.openwhisk.source import OpenWhiskSource
from logfwd.tee import Tee, weakest

from fakes import FakeAPI, FakeClock, FakeSink, MemoryStore
from test_pipeline import T0, expected_ids


def ids(sink) -> list[str]:
    return [json.loads(p)["@metadata"]["_id"] for p in sink.received]


def events(*names) -> list[dict]:
    return [{"message": name, "@metadata": {"_id": name}} for name in names]


def test_each_sink_gets_its_own_encoding_of_every_event():
    a, b = FakeSink(), FakeSink()
    b.encode = lambda evs: [e["message"].upper().encode() for e in evs]
    tee = Tee([("a", a), ("b", b)])
    tee.send(tee.encode(events("x", "y")), Deadline())
    assert ids(a) == ["x", "y"] and b.received == [b"X", b"Y"]
    assert tee.per_sink()["a"]["events"] == tee.per_sink()["b"]["events"] == 2
    tee.send(tee.encode.only(["b"])(events("z")), Deadline())  # a re-send for one sink only
    assert ids(a) == ["x", "y"] and b.received == [b"X", b"Y", b"Z"]


def test_a_failing_sink_is_named_and_the_others_still_take_their_share():
    a, b, c = FakeSink(), FakeSink(), FakeSink()
    tee = Tee([("a", a), ("b", b), ("c", c)])
    b.fail_next = 1  # b takes its first payload of the send, then fails
    payloads = tee.encode(events("1")) + tee.encode(events("2"))  # a1 b1 c1 a2 b2 c2, by unit
    payloads = sorted(payloads, key=lambda p: p[0])  # as one record's payloads come: a1 a2 b1 b2 c1 c2
    with pytest.raises(DeliveryError) as failed:
        tee.send(payloads, Deadline())
    assert str(failed.value) == "sink b: receiver went away"
    assert ids(a) == ids(c) == ["1", "2"] and ids(b) == ["1"]  # c was sent after b failed
    assert failed.value.acked_by == {"a": 6, "b": 3, "c": 6}  # b's payload "2" is at position 3
    assert failed.value.acked == 3 and failed.value.took_whole(6) == ["a", "c"]


def test_a_unit_is_done_only_when_every_sink_took_it_and_partly_says_which_did():
    a, b = FakeSink(), FakeSink()
    tee = Tee([("a", a), ("b", b)])
    batcher = Batcher(tee, Deadline(), max_events=100)
    done, partly = [], []
    for name in ("1", "2", "3"):
        batcher.add(tee.encode(events(name)), lambda n=name: done.append(n), lambda took, n=name: partly.append((n, took)))
    batcher.flush()
    batcher.add(tee.encode(events("4")), lambda: done.append("4"), lambda took: partly.append(("4", took)))
    b.fail_next = 0
    with pytest.raises(DeliveryError, match="sink b"):
        batcher.flush()
        batcher.drain()
    assert done == ["1", "2", "3"] and partly == [("4", ["a"])]
    assert batcher.events_sent == 6  # two payloads (one per sink) for each unit done


def test_the_guarantee_is_the_weakest_and_the_summary_says_what_each_sink_took():
    assert weakest([ACKNOWLEDGED, BEST_EFFORT, WRITTEN]) == BEST_EFFORT
    assert weakest([ACKNOWLEDGED, WRITTEN]) == WRITTEN
    clock = FakeClock(T0 / 1000)
    api, a, b = FakeAPI(clock), FakeSink(), FakeSink()
    b.guarantee = WRITTEN
    for i in range(5):
        api.add("hello", T0 - 2_000_000 + i * 1000, lines=2)
    clock.now += 10
    summary = forward(OpenWhiskSource(api, ("hello",), clock=clock, initial_lookback=3600, overlap=360.0),
                      Tee([("a", a), ("b", b)]), MemoryStore(), clock=clock)
    assert summary["ok"] and summary["guarantee"] == WRITTEN and summary["records"] == 5
    assert summary["sink"] == "a: fake + b: fake"
    assert {name: took["events"] for name, took in summary["sinks"].items()} == {"a": 10, "b": 10}
    assert summary["events"] == 20  # payloads over both sinks


@pytest.mark.parametrize("seed", range(6))
def test_nothing_is_lost_in_either_sink_whatever_fails(seed):
    """The pulled source's many runs (held pages compressed, windows split, runs cut by deadlines)
    with either sink failing part-way: both sinks end up with every line."""
    clock = FakeClock(T0 / 1000)
    api, a, b, store = FakeAPI(clock), FakeSink(), FakeSink(), MemoryStore()
    rng, failed = random.Random(seed), 0
    for _ in range(30):
        for _ in range(rng.choice([0, 3, 30, 250])):
            start = int(clock.now * 1000) - rng.randint(0, 60_000)
            api.add("hello", start, lines=rng.randint(0, 4), visible_after=rng.choice([0, 1, 30]))
        clock.now += rng.choice([1, 10, 60])
        if rng.random() < 0.4:
            rng.choice([a, b]).fail_next = rng.randint(0, 40)
        summary = forward(OpenWhiskSource(api, ("hello",), clock=clock, initial_lookback=3600, overlap=360.0),
                          Tee([("a", a), ("b", b)]), store, max_events=37, clock=clock)
        failed += any(error.startswith(("sink a: ", "sink b: ")) for error in summary.get("errors", []))
    clock.now += 400
    for _ in range(20):
        if not forward(OpenWhiskSource(api, ("hello",), clock=clock, initial_lookback=3600, overlap=360.0),
                       Tee([("a", a), ("b", b)]), store, clock=clock)["more"]:
            break
    assert failed >= 2  # the sinks did fail along the way
    assert expected_ids(api) <= set(ids(a)), "lost lines in sink a"
    assert expected_ids(api) <= set(ids(b)), "lost lines in sink b"


# --- choosing several sinks: the parameter `sink` -------------------------------------------------

DRAIN = {"source": "logplex", "logplex_credentials": "a:logplex:pw"}


def test_sink_takes_a_list_and_each_chosen_sinks_parameters_apply():
    from logfwd.errors import ConfigErrors
    from logfwd.settings import load_settings
    for given in ("statsd,lumberjack", " statsd , lumberjack ", '["statsd", "lumberjack"]', ["statsd", "lumberjack"]):
        settings = load_settings({**DRAIN, "sink": given, "statsd_cluster": "h:1", "logstash_hosts": "l:2"}, {})
        assert settings.sinks == ("statsd", "lumberjack") and settings.sink == "statsd,lumberjack"
        assert settings.warnings == ()
    with pytest.raises(ConfigErrors) as missing:  # every chosen sink's required parameters, all at once
        load_settings({**DRAIN, "sink": "statsd,lumberjack"}, {})
    assert [p.parameter for p in missing.value.problems] == ["statsd_cluster", "logstash_hosts"]


def test_a_bad_list_of_sinks_says_what_is_wrong():
    from logfwd.errors import ConfigError
    from logfwd.settings import load_settings
    base = {**DRAIN, "statsd_cluster": "h:1", "logstash_hosts": "l:2"}
    with pytest.raises(ConfigError, match=r"parameter 'sink': names sink 'statsd' twice"):
        load_settings({**base, "sink": "statsd,lumberjack,statsd"}, {})
    with pytest.raises(ConfigError, match=r"unknown sink 'lumberjak' \(did you mean 'lumberjack'\?\)\. Choose one of"):
        load_settings({**base, "sink": "statsd,lumberjak"}, {})
    with pytest.raises(ConfigError, match=r"sinks 'lumberjack' and 'tcp' both read 'logstash_hosts'"):
        load_settings({**base, "sink": "lumberjack,tcp"}, {})


def test_a_parameter_of_a_sink_not_in_the_tee_is_warned_about():
    from logfwd.settings import load_settings
    settings = load_settings({**DRAIN, "sink": "statsd,lumberjack", "statsd_cluster": "h:1", "logstash_hosts": "l:2",
                              "syslog_host": "s:3", "logstash_tsl": "false"}, {})
    assert settings.warnings == (
        "parameter 'syslog_host' belongs to sink 'syslog', not to source 'logplex' and sink 'statsd' and sink "
        "'lumberjack': ignored", "unknown parameter 'logstash_tsl' ignored; did you mean 'logstash_tls'?")


def test_run_help_and_the_parameter_reference_explain_several_sinks():
    from pathlib import Path

    from logfwd.cli.run import parameter_help
    assert "or several, comma-separated (e.g. statsd,lumberjack)" in parameter_help()
    reference = (Path(__file__).parent.parent / "docs" / "parameters.md").read_text()
    assert "or several, comma-separated (e.g. statsd,lumberjack)" in reference


def test_a_bug_in_one_sink_is_reported_as_that_sinks_failure_and_the_others_still_get_theirs():
    a, b = FakeSink(), FakeSink()

    def broken(payloads, deadline):
        raise KeyError("oops")

    a.send = broken
    tee = Tee([("a", a), ("b", b)])
    with pytest.raises(DeliveryError) as failed:
        tee.send(tee.encode(events("1")), Deadline())
    assert str(failed.value) == "sink a: unexpected error (KeyError: 'oops')"
    assert ids(b) == ["1"] and failed.value.took_whole(2) == ["b"]


def test_logfwd_run_prints_what_each_sink_took():
    from logfwd.cli.run import render
    summary = {"ok": False, "events": 15, "records": 9, "bytes": 900, "batches": 3, "seconds": 0.1,
               "sink": "statsd: ... + lumberjack: ...", "guarantee": "best-effort",
               "sinks": {"statsd": {"sink": "s", "guarantee": "best-effort", "events": 6, "bytes": 120, "batches": 2},
                         "lumberjack": {"sink": "l", "guarantee": "acknowledged", "events": 0, "bytes": 0,
                                        "batches": 0}},
               "errors": ["sink lumberjack: connection refused by 127.0.0.1:5044"]}
    lines = render(summary).splitlines()
    assert "  sink statsd (best-effort): 6 payloads, 120 bytes, 2 batches" in lines
    assert "  sink lumberjack (acknowledged): 0 payloads, 0 bytes, 0 batches" in lines
    assert lines[-1] == "  error: sink lumberjack: connection refused by 127.0.0.1:5044"
