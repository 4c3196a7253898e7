"""The contract every source keeps, run against each registered source over a real stand-in for its
platform: every good record becomes events in order; a bad record is reported by name and never takes
the rest down; an empty input is a quiet, successful run; nothing is confirmed before delivery."""

import json

import pytest
from source_harnesses import HARNESSES

from logfwd.codecs.jsonbytes import json_payloads
from logfwd.deadline import Deadline
from logfwd.plugs import PUSHED, SOURCES, plug

MESSAGES = [f"line {i}" for i in range(7)]


def test_every_registered_source_has_a_harness():
    assert set(SOURCES) <= set(HARNESSES), "add the new source's harness to tests/source_harnesses.py"


@pytest.fixture(params=sorted(HARNESSES))
def harness(request):
    return HARNESSES[request.param]


def drain(harness, source, confirm: bool = True) -> list[dict]:
    """Every event of the run, in order; each unit confirmed (``done``) as a sink would."""
    if plug("source", harness.name).mode != PUSHED:
        source.open(None)  # a pulled source's first run: no checkpoint yet
    events = []
    for unit in source.units(Deadline(), json_payloads):
        events += [json.loads(payload) for payload in unit.payloads]
        if confirm and unit.done:
            unit.done()
    source.close()
    return events


def test_every_record_becomes_events(harness):
    with harness.source(MESSAGES) as source:
        events = drain(harness, source)
        summary = source.summary()
    assert sorted(e["message"] for e in events) == sorted(MESSAGES)
    assert all(e["@metadata"]["_id"] for e in events) and len({e["@metadata"]["_id"] for e in events}) == len(events)
    assert summary["records"] == len(MESSAGES) and not source.errors


def test_a_bad_record_is_reported_and_the_rest_goes_on(harness):
    with harness.source(MESSAGES, bad=True) as source:
        events = drain(harness, source)
    assert {e["message"] for e in events} >= set(MESSAGES)
    assert len(source.errors) == 1 and "record" in source.errors[0], source.errors


def test_an_empty_input_is_a_quiet_successful_run(harness):
    with harness.source([]) as source:
        events = drain(harness, source)
        summary = source.summary()
    assert events == [] and summary["records"] == 0 and not source.errors


def test_nothing_is_confirmed_before_delivery(harness):
    pushed = plug("source", harness.name).mode == PUSHED
    with harness.source(MESSAGES) as source:
        drain(harness, source, confirm=False)
        summary = source.summary()
        if pushed:
            answer = source.answer()
        else:  # the next run, from this run's checkpoint, gets every record again
            source.open(json.loads(json.dumps(source.checkpoint())))
            again = drain(harness, source)
    assert summary["records"] == 0 and summary["more"]
    if pushed:
        assert answer and answer != {"batchItemFailures": []}, answer  # the platform is told to retry
    else:
        assert sorted(e["message"] for e in again) == sorted(MESSAGES)
