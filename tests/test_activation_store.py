"""The activation-result store never starts over because the API failed, and carries its checkpoint
forward when a run fails before saving."""

import pytest

from logfwd.checkpoints.activation import ActivationStore
from logfwd.errors import CheckpointError, SourceTransientError


class OwnRuns:
    """The forwarder's own activations, newest first; ``broken`` ids fail to read."""

    def __init__(self, results, broken=(), listing_fails=False):
        self.results, self.broken, self.listing_fails = results, set(broken), listing_fails

    def list_activations(self, name, *, limit, docs):
        assert name == "logfwd/forward" and not docs
        if self.listing_fails:
            raise SourceTransientError("503 after 5 attempts")
        return [{"activationId": i} for i in self.results][:limit]

    def get_activation(self, activation_id):
        if activation_id in self.broken:
            raise SourceTransientError("503")
        return {"response": {"result": self.results[activation_id]}}


def store(api):
    return ActivationStore(api, "/guest/logfwd/forward", exclude="running")


def test_the_newest_run_with_a_checkpoint_wins_and_is_carried_forward():
    api = OwnRuns({"running": {}, "failed": {"error": "x"}, "good": {"checkpoint": {"n": 2}}, "old": {"checkpoint": {"n": 1}}})
    s = store(api)
    assert s.load() == {"n": 2}
    assert s.result_fields() == {"checkpoint": {"n": 2}}  # returned even if this run fails before saving
    s.save({"n": 3})
    assert s.result_fields() == {"checkpoint": {"n": 3}}


def test_no_checkpoint_anywhere_means_a_first_run():
    assert store(OwnRuns({"a": {"error": "x"}})).load() is None


def test_an_api_failure_is_an_error_not_a_first_run():
    with pytest.raises(CheckpointError, match="not starting over"):
        store(OwnRuns({}, listing_fails=True)).load()
    with pytest.raises(CheckpointError, match="could not be read"):
        store(OwnRuns({"a": {"checkpoint": {}}}, broken={"a"})).load()


def test_an_unreadable_newer_run_falls_back_to_an_older_checkpoint():
    assert store(OwnRuns({"new": {}, "old": {"checkpoint": {"n": 1}}}, broken={"new"})).load() == {"n": 1}
