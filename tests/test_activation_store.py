"""The activation-result store finds its checkpoint however far back it is, never starts over
silently, never because the API failed, and carries its checkpoint forward when a run fails."""

import pytest

from logfwd.checkpoints.activation import READ_FIRST, ActivationStore
from logfwd.errors import CheckpointError, SourceTransientError

T0 = 1_700_000_000_000


class OwnRuns:
    """The forwarder's own activations as the list API shows them: newest first by start, ``since`` and
    ``upto`` inclusive, ``limit`` at most ``page_limit``; ``broken`` ids fail to read."""

    def __init__(self, results, broken=(), listing_fails=False, page_limit=200):
        # results: id -> result, oldest first; one run a minute
        self.runs = [{"activationId": i, "start": T0 + n * 60_000,
                      "statusCode": 0 if "checkpoint" in r and "error" not in r else 1}
                     for n, (i, r) in enumerate(results.items())]
        self.results, self.broken, self.listing_fails = results, set(broken), listing_fails
        self.page_limit = page_limit
        self.requests = 0

    def _window(self, since, upto):
        return [r for r in reversed(self.runs) if since <= r["start"] <= upto]

    def list_activations(self, name, *, since, upto, limit, skip=0, docs):
        assert name == "logfwd/forward" and not docs and 0 < limit <= self.page_limit
        self.requests += 1
        if self.listing_fails:
            raise SourceTransientError("503 after 5 attempts")
        return [dict(r) for r in self._window(since, upto)[skip:skip + limit]]

    def count_activations(self, name, *, since, upto):
        self.requests += 1
        return len(self._window(since, upto))

    def get_activation(self, activation_id):
        self.requests += 1
        if activation_id in self.broken:
            raise SourceTransientError("503")
        return {"response": {"result": self.results[activation_id]}}


def store(api, **options):
    return ActivationStore(api, "/guest/logfwd/forward", exclude="running", **options)


def test_the_newest_run_with_a_checkpoint_wins_and_is_carried_forward():
    api = OwnRuns({"old": {"checkpoint": {"n": 1}}, "good": {"checkpoint": {"n": 2}}, "failed": {"error": "x"},
                   "running": {}})
    s = store(api)
    assert s.load() == {"n": 2}
    assert s.result_fields() == {"checkpoint": {"n": 2}}  # returned even if this run fails before saving
    s.save({"n": 3})
    assert s.result_fields() == {"checkpoint": {"n": 3}}


def test_no_earlier_run_means_a_first_run():
    assert store(OwnRuns({"running": {}})).load() is None


def test_earlier_runs_without_any_checkpoint_stop_with_the_range_and_the_parameter():
    api = OwnRuns({"a": {"error": "bad redeploy"}, "b": {"error": "bad redeploy"}})
    with pytest.raises(CheckpointError) as err:
        store(api).load()
    message = str(err.value)
    assert "2 earlier runs" in message and "2023-11-14T22:13:20+00:00" in message  # the oldest run's start
    assert "would skip" in message and "start_over=true" in message and "initial_lookback" in message
    assert store(api, start_over=True).load() is None


def test_150_failed_runs_in_a_row_do_not_hide_the_checkpoint_before_them():
    results = {"good": {"checkpoint": {"n": 7}}}
    results.update((f"failed{i}", {"error": "the API was down"}) for i in range(150))
    api = OwnRuns(results, page_limit=50)
    s = store(api)
    assert s.load() == {"n": 7}
    assert s.result_fields() == {"checkpoint": {"n": 7}}
    # The newest runs are read one by one; older failed ones are passed over by their listed status.
    pages = -(-151 // 50) + 1
    assert api.requests <= READ_FIRST + 1 + 2 * pages


def test_an_api_failure_is_an_error_not_a_first_run():
    with pytest.raises(CheckpointError, match="not starting over"):
        store(OwnRuns({}, listing_fails=True)).load()
    with pytest.raises(CheckpointError, match="could not be read"):
        store(OwnRuns({"a": {"checkpoint": {}}}, broken={"a"})).load()


def test_an_unreadable_newer_run_falls_back_to_an_older_checkpoint():
    assert store(OwnRuns({"old": {"checkpoint": {"n": 1}}, "new": {}}, broken={"new"})).load() == {"n": 1}


# -- through the OpenWhisk entry, against the emulator ----------------------------------------------


@pytest.fixture
def platform(monkeypatch):
    """The emulator as OpenWhisk (real time: main() reads the clock), a receiver, and ``invoke`` that
    runs the action and stores its activation with its result, as the platform does."""
    import random
    import time
    import uuid

    from logfwd.entries.openwhisk import main
    from logfwd_dev.emulator.server import Emulator
    from logfwd_dev.receiver.server import Receiver

    with Emulator(rng=random.Random(9)) as emulator, Receiver() as receiver:
        environ = {"__OW_API_HOST": emulator.url, "__OW_API_KEY": emulator.api_key, "__OW_NAMESPACE": "guest",
                   "__OW_ACTION_NAME": "/guest/logfwd/forward"}
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        good = {"actions": "hello", "logstash_hosts": f"127.0.0.1:{receiver.address[1]}", "logstash_tls": "false",
                "namespace": "guest"}

        def invoke(params):
            activation_id = uuid.uuid4().hex
            monkeypatch.setenv("__OW_ACTIVATION_ID", activation_id)
            monkeypatch.setenv("__OW_DEADLINE", str(int(time.time() * 1000) + 60_000))
            started = int(time.time() * 1000)
            result = main(dict(params))
            emulator.add_activation("logfwd/forward", start_ms=started, duration_ms=5, lines=0, result=result,
                                    activation_id=activation_id,
                                    status="application error" if "error" in result else "success")
            return result

        yield emulator, receiver, good, invoke


def test_a_run_that_fails_returns_the_checkpoint_it_loaded(platform):
    import time

    emulator, receiver, good, invoke = platform
    emulator.add_activation("hello", start_ms=int(time.time() * 1000) - 30_000, lines=2)
    first = invoke(good)
    assert "error" not in first and first["records"] == 1
    emulator.add_activation("hello", start_ms=int(time.time() * 1000) - 5000, lines=2)
    failed = invoke({**good, "logstash_hosts": "127.0.0.1:1"})  # the receiver is unreachable
    assert "error" in failed and failed["checkpoint"]["source"] == first["checkpoint"]["source"]


def test_150_failed_runs_through_the_entry_then_the_old_checkpoint_is_found(platform):
    import time

    emulator, receiver, good, invoke = platform
    now_ms = int(time.time() * 1000)
    emulator.add_activation("hello", start_ms=now_ms - 30_000, lines=2)
    assert invoke(good)["records"] == 1
    for _ in range(150):  # a bad redeploy: every run fails before it can read a checkpoint
        assert "error" in invoke({**good, "logstash_hosts": ""})
    emulator.add_activation("hello", start_ms=int(time.time() * 1000) - 5000, lines=3)
    fixed = invoke(good)
    assert "error" not in fixed and fixed["records"] == 1  # only the new one: the cursor was found
    assert len(receiver.events) == 5
