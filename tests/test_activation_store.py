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
