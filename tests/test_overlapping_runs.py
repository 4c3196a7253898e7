"""Overlapping alarm runs with a durable store: the lease keeps a second run out, a crashed run's lease
expires, and the next run continues from the last saved checkpoint. Real Redis and CouchDB servers, the
emulator as OpenWhisk and the receiver as Logstash."""

import time
import uuid

import pytest

from logfwd.checkpoints import open_store
from logfwd.retry import NO_WAIT
from logfwd.runner import run_once
from logfwd.settings import load_settings


@pytest.fixture(params=["redis", "couchdb"])
def checkpoint_url(request) -> str:
    name = f"overlap-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        return request.getfixturevalue("redis_server").url("redis", f"/0?key={name}")
    return request.getfixturevalue("couchdb_server").url("couchdb+http", f"/{name}")


def forward(emulator, receiver, clock, checkpoint_url) -> dict:
    settings = load_settings({"apihost": emulator.url, "api_key": emulator.api_key, "actions": "hello",
                              "logstash_hosts": "127.0.0.1:%d" % receiver.address[1], "logstash_tls": "false",
                              "checkpoint": checkpoint_url, "initial_lookback": "3600"}, {}, None)
    return run_once(settings, clock=clock, retry=NO_WAIT)


def add_activations(emulator, clock, count: int) -> None:
    for i in range(count):
        emulator.add_activation("hello", start_ms=int(clock.now * 1000) + i * 1000, lines=2)
    clock.now += 300  # the next run comes when these records are settled (past the overlap window)


def delivered(receiver) -> list[str]:
    return [event["@metadata"]["_id"] for event in receiver.events]


def produced(emulator) -> set[str]:
    return {f"guest/{a['activationId']}:{i}" for a in emulator.produced() for i in range(a["lines"])}


def test_a_run_that_finds_a_live_lease_forwards_nothing_and_says_until_when(emulator, receiver, clock,
                                                                           checkpoint_url):
    add_activations(emulator, clock, 5)
    busy = open_store(checkpoint_url)
    busy.acquire_lease("busy-run", 60)

    skipped = forward(emulator, receiver, clock, checkpoint_url)
    assert skipped["ok"] and "another run holds the lease until" in skipped["skipped"]
    assert skipped["events"] == 0 and receiver.events == []
    assert open_store(checkpoint_url).load() is None

    busy.release_lease("busy-run")
    done = forward(emulator, receiver, clock, checkpoint_url)
    assert done["ok"] and "skipped" not in done
    assert sorted(delivered(receiver)) == sorted(produced(emulator))


def test_after_a_crashed_run_the_next_continues_from_the_last_saved_checkpoint(emulator, receiver, clock,
                                                                              checkpoint_url):
    add_activations(emulator, clock, 4)
    assert forward(emulator, receiver, clock, checkpoint_url)["events"] == 8
    add_activations(emulator, clock, 3)
    crashed = open_store(checkpoint_url)
    crashed.acquire_lease("crashed-run", 0.5)  # it dies holding the lease: nobody releases it
    time.sleep(0.8)

    resumed = forward(emulator, receiver, clock, checkpoint_url)
    assert resumed["ok"] and "skipped" not in resumed and resumed["events"] == 6
    assert sorted(delivered(receiver)) == sorted(produced(emulator))  # nothing lost, nothing twice
