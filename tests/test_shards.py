"""Shards: consistent hashing of action names, each shard's own checkpoint, and hand-over when the
shard count grows or shrinks (the emulator as OpenWhisk, the receiver as Logstash, real stores)."""

import random
import uuid
from collections import Counter

import pytest

from logfwd.checkpoints import open_store, shard_location
from logfwd.coerce import fraction_of
from logfwd.errors import CheckpointError, ConfigError
from logfwd.retry import NO_WAIT
from logfwd.runner import run_once
from logfwd.settings import load_settings
from logfwd.sources.openwhisk.cursor import ActionCursor
from logfwd.sources.openwhisk.handover import Entry, latest, resolve
from logfwd.sources.openwhisk.shards import Shard, owner
from logfwd_dev.emulator.producer import Producer

NAMES = [f"svc{i}/action-{i * 7919 % 1000}" for i in range(2000)]


def moved_share(before: int, after: int) -> float:
    return sum(owner(name, before) != owner(name, after) for name in NAMES) / len(NAMES)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 8])
def test_growing_by_one_shard_moves_about_one_in_n_plus_one_and_only_to_the_new_shard(count):
    moved = [name for name in NAMES if owner(name, count) != owner(name, count + 1)]
    assert all(owner(name, count + 1) == count + 1 for name in moved)
    assert abs(len(moved) / len(NAMES) - 1 / (count + 1)) < 0.04


def test_every_shard_gets_a_fair_share_and_the_answer_never_changes():
    counts = Counter(owner(name, 4) for name in NAMES)
    assert sorted(counts) == [1, 2, 3, 4] and min(counts.values()) > len(NAMES) / 4 * 0.85
    assert owner("hello", 4) == owner("hello", 4) and Shard(owner("hello", 4), 4).owns("hello")


@pytest.mark.parametrize("raw, expected", [("2/4", (2, 4)), (" 1/1 ", (1, 1)), ("", None), (None, None)])
def test_the_shard_parameter_reads_i_of_n(raw, expected):
    assert fraction_of("shard", raw) == expected


@pytest.mark.parametrize("raw", ["0/4", "5/4", "2", "a/b", "2/4/8", True, "-1/2"])
def test_a_bad_shard_parameter_is_named_with_an_example(raw):
    with pytest.raises(ConfigError, match="parameter 'shard'.*i/N.*e.g. 2/4"):
        fraction_of("shard", raw)


def test_shard_one_keeps_the_unsharded_location_and_the_others_sit_beside_it():
    assert shard_location("state/checkpoint.json", 1, "file") == "state/checkpoint.json"
    assert shard_location("state/checkpoint.json", 3, "file") == "state/checkpoint.shard-3.json"
    assert shard_location("checkpoint", 2, "file") == "checkpoint.shard-2"
    assert shard_location("logfwd-checkpoint", 2, "couchdb") == "logfwd-checkpoint-shard-2"
    assert shard_location("logfwd:checkpoint", 2, "redis") == "logfwd:checkpoint:shard-2"


def test_the_furthest_position_wins_with_every_id_delivered_at_or_after_it():
    old = ActionCursor(1000, {"a": 1000, "b": 1500})
    new = ActionCursor(1400, {"c": 1400, "d": 2000})
    assert latest([old, new]) == ActionCursor(1400, {"b": 1500, "c": 1400, "d": 2000})
    assert latest([]) is None


def test_a_moved_action_is_carried_until_its_new_owner_saved_a_position_at_least_as_far():
    mine = {"a": Entry(ActionCursor(5000, {"x": 5100})), "b": Entry(ActionCursor(100))}
    owns = {"b"}.__contains__  # "a" moved away
    fresh_owner_not_run = [{}]
    owned, carried = resolve(mine, fresh_owner_not_run, ["a", "b"], owns)
    assert carried == {"a": ActionCursor(5000, {"x": 5100})} and owned == {"b": ActionCursor(100)}
    behind = [{"a": Entry(ActionCursor(4000))}]
    assert "a" in resolve(mine, behind, ["a", "b"], owns)[1]
    only_carried_elsewhere = [{"a": Entry(ActionCursor(6000), carried=True)}]
    assert "a" in resolve(mine, only_carried_elsewhere, ["a", "b"], owns)[1]
    taken_over = [{"a": Entry(ActionCursor(5000, {"x": 5100}))}]
    assert resolve(mine, taken_over, ["a", "b"], owns)[1] == {}


def test_an_activation_checkpoint_shard_must_be_named_after_shard_one():
    with pytest.raises(ConfigError, match="parameter 'shard'.*NAME-3"):
        open_store("activation", api=object(), self_action="/guest/logfwd/forward", shard=(3, 4))
    store = open_store("activation", api=object(), self_action="/guest/logfwd/forward-3", shard=(3, 4))
    assert store.describe() == "activation result of logfwd/forward-3"


# --- hand-over against the emulator and the receiver -----------------------------------------------

ACTIONS = [f"team{i}/job{i}" for i in range(12)]
INTERVAL, OVERLAP = 60, 360


@pytest.fixture(params=["file", "redis", "couchdb"])
def checkpoint(request, tmp_path) -> str:
    name = f"shards-{uuid.uuid4().hex[:12]}"
    if request.param == "file":
        return f"file:{tmp_path}/checkpoint.json"
    if request.param == "redis":
        return request.getfixturevalue("redis_server").url("redis", f"/0?key={name}")
    return request.getfixturevalue("couchdb_server").url("couchdb+http", f"/{name}")


def run_shard(emulator, receiver, clock, checkpoint, shard: str | None) -> dict:
    params = {"apihost": emulator.url, "api_key": emulator.api_key, "actions": ",".join(ACTIONS),
              "logstash_hosts": "127.0.0.1:%d" % receiver.address[1], "logstash_tls": "false",
              "checkpoint": checkpoint, "initial_lookback": "600", "overlap": str(OVERLAP)}
    if shard:
        params["shard"] = shard
    summary = run_once(load_settings(params, {}, None), clock=clock, retry=NO_WAIT)
    assert summary["ok"], summary
    return summary


def test_growing_and_shrinking_the_shard_count_loses_nothing_and_re_sends_only_within_the_overlap(
        emulator, receiver, clock, checkpoint):
    """Layouts change mid-stream, with shards of the new count running in every order, and stragglers
    still running the old count for one more interval (a deployment is never atomic)."""
    sent_at, produced = change_layouts(emulator, receiver, clock, checkpoint, stragglers=True)
    assert set(sent_at) == set(produced)  # nothing lost, nothing invented
    resent = {event_id: times for event_id, times in sent_at.items() if len(times) > 1}
    # A re-send reads only what the old owner's last save had in its live range: within the overlap.
    for event_id, times in resent.items():
        assert produced[event_id] / 1000 >= times[-1] - OVERLAP - INTERVAL, (event_id, times)
    assert len(resent) < len(produced) * 0.25


def test_when_every_shard_runs_the_new_count_a_hand_over_re_sends_nothing(emulator, receiver, clock, tmp_path):
    sent_at, produced = change_layouts(emulator, receiver, clock, f"file:{tmp_path}/cp.json", stragglers=False)
    assert set(sent_at) == set(produced)
    assert [event_id for event_id, times in sent_at.items() if len(times) > 1] == []


def change_layouts(emulator, receiver, clock, checkpoint, stragglers: bool):
    """Forwards a steady stream through shard counts 1 (unsharded), 2, 3, 5, 2, 1, 4, 1 (unsharded), four
    intervals each; returns (event id -> when each delivery of it happened, event id -> its start ms)."""
    rng = random.Random(7)
    producer = Producer(emulator.invoke, random.Random(11), clock, rate=0.5, actions=ACTIONS,
                        max_duration=90, lines=2)
    layouts = [None, 2, 3, 5, 2, 1, 4, None]  # None: the unsharded forwarder
    sent_at: dict[str, list[float]] = {}  # event id -> the clock of each run that delivered it

    def run(shard):
        before = len(receiver.events)
        run_shard(emulator, receiver, clock, checkpoint, shard)
        for event in receiver.events[before:]:
            sent_at.setdefault(event["@metadata"]["_id"], []).append(clock.now)

    previous = None
    for layout in layouts:
        for step in range(4):
            clock.now += INTERVAL
            producer.step()
            shards = [None] if layout is None else [f"{i}/{layout}" for i in range(1, layout + 1)]
            if stragglers and step == 0 and previous is not None:  # stragglers: the old layout's shards, once more
                shards += [None] if previous is None else [f"{i}/{previous}" for i in range(1, previous + 1)]
            rng.shuffle(shards)
            for shard in shards:
                run(shard)
        previous = layout
    clock.now += OVERLAP + INTERVAL  # everything settled; the last layout reads it all
    run(None)

    produced = {f"guest/{a['activationId']}:{i}": a["start"] for a in emulator.produced() for i in range(a["lines"])}
    assert len(produced) > 1000
    return sent_at, produced


class ForwarderRuns:
    """Each forwarder action's own activation results, newest first (what the activation store reads)."""

    page_limit = 200

    def __init__(self, results: dict[str, list[dict]], failing: str | None = None):
        self.results, self.failing, self.listed = results, failing, []

    def _runs(self, name, since, upto):  # run i started at 1000 - i ms: newest first
        runs = [{"activationId": f"{name}#{i}", "start": 1000 - i} for i in range(len(self.results.get(name, [])))]
        return [run for run in runs if since <= run["start"] <= upto]

    def list_activations(self, name, *, since, upto, limit, skip=0, docs):
        self.listed.append(name)
        if name == self.failing:
            from logfwd.errors import SourceTransientError
            raise SourceTransientError("503 after 5 attempts")
        return self._runs(name, since, upto)[skip:skip + limit]

    def count_activations(self, name, *, since, upto):
        return len(self._runs(name, since, upto))

    def get_activation(self, activation_id):
        name, _, i = activation_id.partition("#")
        return {"response": {"result": self.results[name][int(i)]}}


def test_with_the_activation_store_a_shard_reads_the_other_forwarders_results_and_saves_its_count():
    shard1 = {"shards": 1, "source": {"type": "openwhisk", "actions": {}}}
    api = ForwarderRuns({"logfwd/forward": [{"checkpoint": shard1}],
                         "logfwd/forward-2": [{"checkpoint": {"source": {"type": "openwhisk", "mine": 1}}}]})
    store = open_store("activation", api=api, self_action="/guest/logfwd/forward-2", activation_id="now", shard=(2, 2))
    assert store.load() == {"source": {"type": "openwhisk", "mine": 1, "peers": [shard1["source"]]}}
    assert api.listed == ["logfwd/forward-2", "logfwd/forward"]
    store.save({"source": {"type": "openwhisk"}})
    assert store.result_fields() == {"checkpoint": {"source": {"type": "openwhisk"}, "shards": 2}}


def test_a_shard_whose_peer_cannot_be_read_does_not_forward_and_names_the_peer():
    api = ForwarderRuns({}, failing="logfwd/forward")
    store = open_store("activation", api=api, self_action="/guest/logfwd/forward-2", shard=(2, 2))
    with pytest.raises(CheckpointError, match="checkpoint of shard 1 .*503.*not forwarding"):
        store.load()


def test_an_unsharded_forwarder_reads_no_other_checkpoint_unless_a_shard_saved_its_own(tmp_path):
    path = tmp_path / "checkpoint.json"
    store = open_store(f"file:{path}")
    assert store.load() is None
    store.save({"source": {"type": "openwhisk"}})
    assert "shards" not in path.read_text()  # saved exactly as before sharding existed
    (tmp_path / "checkpoint.shard-2.json").write_text('{"shards": 2, "source": {"n": 2}}')
    assert open_store(f"file:{path}").load() == {"source": {"type": "openwhisk"}}
    path.write_text('{"shards": 2, "source": {"n": 1}}')  # shard 1 of 2 saved it last: shrinking back
    assert open_store(f"file:{path}").load() == {"shards": 2, "source": {"n": 1, "peers": [{"n": 2}]}}


def test_pending_activations_travel_with_the_position_and_keep_their_earliest_wait():
    from logfwd.sources.openwhisk.handover import encode, parse

    old = ActionCursor(1000, {"a": 1000}, None, {"f" * 32: 500, "e" * 32: 700})
    new = ActionCursor(1400, {"c": 1400}, 1400, {"f" * 32: 900})
    document = {"type": "openwhisk", "namespace": "_", "actions": {"x": encode(old)}}
    assert parse(document, "_")["x"].cursor == old
    assert latest([old, new]).pending == {"f" * 32: 500, "e" * 32: 700}
    document["actions"]["x"]["pending"] = {"f" * 32: "soon"}
    with pytest.raises(ValueError, match="'pending' of 'x'"):
        parse(document, "_")


def test_an_activation_waiting_for_its_logs_is_delivered_by_the_shard_the_action_moves_to(receiver, clock, tmp_path):
    """'hello' waits for its logs in the unsharded checkpoint; after growing to 2 shards it belongs to
    shard 2, which must take the wait over from shard 1's checkpoint and deliver the lines once they came."""
    from logfwd_dev.emulator import Emulator
    from logfwd_dev.emulator.platform import Platform

    assert owner("hello", 2) == 2
    with Emulator(clock=clock, rng=random.Random(5), platform=Platform(log_store="delayed", logs_delay=600.0)) as emu:
        params = {"apihost": emu.url, "api_key": emu.api_key, "actions": "hello",
                  "logstash_hosts": "127.0.0.1:%d" % receiver.address[1], "logstash_tls": "false",
                  "checkpoint": f"file:{tmp_path}/checkpoint.json", "overlap": "120", "logs_wait": "3600"}
        waiting = emu.add_activation("hello", start_ms=int(clock.now * 1000) - 5_000, lines=4)["activationId"]

        def run(shard=None):
            summary = run_once(load_settings({**params, **({"shard": shard} if shard else {})}, {}, None),
                               clock=clock, retry=NO_WAIT)
            assert summary["ok"], summary
            return summary

        clock.now += 200  # settled, logs still not there: it waits by id in the checkpoint
        assert run()["logs_pending"] == 1
        clock.now += 60
        assert run("2/2")["logs_pending"] == 1 and run("1/2")["logs_pending"] == 0
        assert not receiver.events
        clock.now += 600  # the logs came
        assert run("2/2")["events"] == 4
        assert run("1/2")["events"] == 0
    assert {e["@metadata"]["_id"] for e in receiver.events} == {f"guest/{waiting}:{i}" for i in range(4)}
