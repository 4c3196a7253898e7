"""One contract for every checkpoint store, each against a real backend the tests start themselves.

Every test gets a fresh, empty place (a file, a CouchDB database, a Redis key, a forwarder action in
the OpenWhisk emulator) and opens as many store instances on it as it needs: each instance stands for
one forwarder run. The activation store cannot swap or lease (the platform records each run's result);
it takes part in the tests that apply to it and in the ones that show what it does instead.
"""

import random
import time
import uuid
from dataclasses import dataclass, field
from itertools import count
from typing import Callable, Iterator
from urllib.parse import quote

import pytest

from logfwd.checkpoints import CheckpointStore, open_store
from logfwd_dev.emulator.server import DEFAULT_API_KEY, Emulator
from logfwd.errors import CheckpointError, ConflictError, LeaseHeldError
from logfwd.retry import NO_WAIT
from logfwd.sources.openwhisk.api import OpenWhiskAPI
from logfwd.sources.openwhisk.cursor import encode_seen

ALL = ["file", "couchdb", "redis", "activation"]
WITH_SWAP = ["file", "couchdb", "redis"]  # compare-and-swap on save
WITH_LEASE = ["couchdb", "redis"]
WITHOUT_LEASE = ["file", "activation"]
WITH_CREDENTIALS = ["couchdb", "redis"]


@dataclass
class Place:
    """One fresh checkpoint location, and how a run opens a store on it."""

    kind: str
    url: str  # the ``checkpoint`` parameter
    options: dict = field(default_factory=dict)  # what else open_store needs
    end_run: Callable[[CheckpointStore], None] = lambda store: None  # what the platform does after a run
    host: str | None = None
    username: str | None = None
    password: str | None = None
    bare_url: str | None = None  # ``url`` without the credentials
    opened: list = field(default_factory=list)

    def open(self, **overrides) -> CheckpointStore:
        store = open_store(self.url, **(self.options | overrides))
        assert isinstance(store, CheckpointStore)
        self.opened.append(store)
        return store


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def place(request, tmp_path) -> Iterator[Place]:
    kind, name = request.param, f"contract-{uuid.uuid4().hex[:12]}"
    if kind == "file":
        place = Place(kind, f"file:{tmp_path / 'state' / 'checkpoint.json'}")
    elif kind == "couchdb":
        server = request.getfixturevalue("couchdb_server")
        place = Place(kind, server.url("couchdb+http", f"/{name}"), host=f"{server.host}:{server.port}",
                      username=server.username, password=server.password,
                      bare_url=server.url("couchdb+http", f"/{name}", credentials=False))
    elif kind == "redis":
        server = request.getfixturevalue("redis_server")
        place = Place(kind, server.url("redis", f"/1?key={name}"), host=f"{server.host}:{server.port}",
                      username=server.username, password=server.password,
                      bare_url=server.url("redis", f"/1?key={name}", credentials=False))
    elif kind == "activation":
        place = _activation_place(request.getfixturevalue("emulator"), name)
    else:
        raise AssertionError(f"no place for store kind {kind}")
    yield place
    for store in place.opened:
        store.close()


def _activation_place(emulator: Emulator, action: str) -> Place:
    """The forwarder is ``action``; ending a run records its result, as OpenWhisk does."""
    api = OpenWhiskAPI(emulator.url, DEFAULT_API_KEY, emulator.namespace, retry=NO_WAIT)
    starts = count(int(time.time() * 1000))

    def end_run(store) -> None:
        emulator.add_activation(action, start_ms=next(starts), duration_ms=1, lines=0,
                                result={"ok": True} | store.result_fields())

    return Place("activation", "activation", {"api": api, "self_action": f"/{emulator.namespace}/{action}"},
                 end_run=end_run)


def stores(kinds: list[str]):
    return pytest.mark.parametrize("place", kinds, indirect=True)


def checkpoint(actions: int = 3, ids: int = 4000, seed: int = 7) -> dict:
    """A realistic OpenWhisk checkpoint: per action a position and the delivered ids, packed in base64."""
    rng = random.Random(seed)
    since = 1_700_000_000_000
    document = {"type": "openwhisk", "namespace": "guest", "actions": {}}
    for index in range(actions):
        seen = {f"{rng.getrandbits(128):032x}": since + rng.randrange(600_000) for _ in range(ids)}
        document["actions"][f"shop/ação-{index}"] = {"since": since, "seen": encode_seen(since, seen)}
    return document


# --- load and save ---


@stores(ALL)
def test_an_empty_place_loads_as_none(place):
    assert place.open().load() is None


@stores(ALL)
def test_a_saved_checkpoint_of_hundreds_of_kilobytes_loads_unchanged(place):
    document = checkpoint()
    assert len(str(document)) > 200_000
    first = place.open()
    first.load()
    first.save(document)
    place.end_run(first)
    assert place.open().load() == document


@stores(ALL)
def test_each_run_loads_what_the_run_before_it_saved(place):
    for run in range(3):
        store = place.open()
        expected = checkpoint(actions=1, ids=5, seed=run - 1) if run else None
        assert store.load() == expected
        store.save(checkpoint(actions=1, ids=5, seed=run))
        place.end_run(store)


@stores(WITH_SWAP)
def test_one_run_may_save_several_times(place):
    store = place.open()
    store.load()
    for seed in range(3):
        store.save(checkpoint(actions=1, ids=5, seed=seed))
    assert place.open().load() == checkpoint(actions=1, ids=5, seed=2)


@stores(WITH_SWAP)
@pytest.mark.parametrize("existing", [None, {"run": "setup"}], ids=["on-empty", "on-existing"])
def test_a_save_over_another_runs_save_is_refused(place, existing):
    if existing:
        setup = place.open()
        setup.load()
        setup.save(existing)
    first, second = place.open(), place.open()
    assert first.load() == second.load() == existing
    first.save({"run": "first"})
    with pytest.raises(ConflictError):
        second.save({"run": "second"})
    assert place.open().load() == {"run": "first"}


@stores(WITH_SWAP)
def test_a_run_that_loaded_after_the_other_saved_can_save(place):
    first, second = place.open(), place.open()
    first.load(), second.load()
    first.save({"run": "first"})
    with pytest.raises(ConflictError):
        second.save({"run": "second"})
    assert second.load() == {"run": "first"}
    second.save({"run": "second"})
    assert place.open().load() == {"run": "second"}


def test_overlapping_runs_on_the_activation_store_fall_back_to_an_older_checkpoint_never_a_lost_one(emulator):
    """No swap: both runs' results are recorded and the newest wins. Its position is one a run really
    delivered up to, so the worst case is re-sending what the other run sent (same ids), never a gap."""
    place = _activation_place(emulator, f"contract-{uuid.uuid4().hex[:12]}")
    setup = place.open()
    setup.save({"run": "setup"})
    place.end_run(setup)
    first, second = place.open(), place.open()
    assert first.load() == second.load() == {"run": "setup"}
    first.save({"run": "first"})
    second.save({"run": "second"})
    place.end_run(first)
    place.end_run(second)
    assert place.open().load() == {"run": "second"}


# --- lease ---


@stores(WITH_LEASE)
def test_a_live_lease_keeps_a_second_run_out_and_says_until_when(place):
    holder, other = place.open(), place.open()
    assert holder.supports_lease
    holder.acquire_lease("run-1", 30)
    with pytest.raises(LeaseHeldError) as held:
        other.acquire_lease("run-2", 30)
    assert time.time() < held.value.until <= time.time() + 31
    assert "run-1" in str(held.value) and place.host in str(held.value)


@stores(WITH_LEASE)
def test_a_released_lease_can_be_taken(place):
    holder, other = place.open(), place.open()
    holder.acquire_lease("run-1", 30)
    holder.release_lease("run-1")
    other.acquire_lease("run-2", 30)
    with pytest.raises(LeaseHeldError):
        holder.acquire_lease("run-1", 30)


@stores(WITH_LEASE)
def test_only_the_holder_can_release_the_lease(place):
    holder, other = place.open(), place.open()
    holder.acquire_lease("run-1", 30)
    other.release_lease("run-2")
    with pytest.raises(LeaseHeldError):
        other.acquire_lease("run-2", 30)


@stores(WITH_LEASE)
def test_the_holder_can_renew_its_lease(place):
    holder = place.open()
    holder.acquire_lease("run-1", 30)
    place.open().acquire_lease("run-1", 60)  # the same owner, e.g. a retry after a lost answer
    with pytest.raises(LeaseHeldError) as held:
        place.open().acquire_lease("run-2", 30)
    assert held.value.until > time.time() + 31


@stores(WITH_LEASE)
def test_an_expired_lease_is_taken_over_and_the_checkpoint_is_kept(place):
    crashed = place.open()
    crashed.load()
    crashed.save({"run": "crashed"})
    crashed.acquire_lease("run-1", 0.5)  # and never releases it
    time.sleep(0.8)
    successor = place.open()
    successor.acquire_lease("run-2", 30)
    assert successor.load() == {"run": "crashed"}
    successor.save({"run": "successor"})
    crashed.release_lease("run-1")  # too late: it is no longer the holder's to release
    with pytest.raises(LeaseHeldError):
        place.open().acquire_lease("run-3", 30)


@stores(WITH_LEASE)
def test_the_lease_is_no_part_of_the_checkpoint(place):
    store = place.open()
    store.acquire_lease("run-1", 30)
    assert store.load() is None
    store.save({"run": "first"})
    store.release_lease("run-1")
    assert place.open().load() == {"run": "first"}


@stores(WITHOUT_LEASE)
def test_a_store_without_lease_accepts_lease_calls_and_holds_nothing(place):
    first, second = place.open(), place.open()
    assert first.supports_lease is False
    first.acquire_lease("run-1", 30)
    second.acquire_lease("run-2", 30)
    first.release_lease("run-1")
    second.release_lease("run-1")


# --- credentials and messages ---


@stores(ALL)
def test_describe_says_where_without_credentials(place):
    text = place.open().describe()
    assert text
    if place.host:
        assert place.host in text
        assert place.password not in text and quote(place.password, safe="") not in text


@stores(WITH_CREDENTIALS)
def test_wrong_credentials_get_a_clear_error_naming_the_host(place):
    wrong = f"wrong{uuid.uuid4().hex[:8]}"
    store = place.open(password=wrong)
    with pytest.raises(CheckpointError) as refused:
        store.load()
    message = str(refused.value)
    assert place.host in message and ("password" in message or "credentials" in message)
    assert wrong not in message and place.password not in message and quote(place.password, safe="") not in message


@stores(WITH_CREDENTIALS)
def test_credentials_may_come_as_parameters_instead_of_in_the_url(place):
    place.url = place.bare_url
    credentials = {"username": place.username, "password": place.password}
    store = place.open(**credentials)
    store.load()
    store.save({"run": "first"})
    assert place.open(**credentials).load() == {"run": "first"}


def test_file_store_clears_temporaries_left_by_a_killed_save(tmp_path):
    import os
    import time

    from logfwd.checkpoints.file import STALE_AFTER, FileStore

    stale, fresh = tmp_path / ".checkpoint.json.old1", tmp_path / ".checkpoint.json.new1"
    for leftover in (stale, fresh):
        leftover.write_text("{")
    old = time.time() - STALE_AFTER - 10
    os.utime(stale, (old, old))
    store = FileStore(tmp_path / "checkpoint.json")
    store.load()
    store.save({"a": 1})
    assert not stale.exists() and fresh.exists()  # a fresh one may belong to a run writing right now
