"""The zero-infrastructure default on OpenWhisk: the checkpoint travels in the forwarder's own result.

Each run returns its checkpoint in its activation result; the next run lists the forwarder's own
activations (newest first) and takes the newest one that reported a readable checkpoint. Nothing
here can hold a lease, and the list view lags, so an overlapping or quick next run may start from an
older checkpoint: it re-sends (same ``@metadata._id``), it never loses.
"""

import logging

from ..errors import CheckpointError, LogfwdError
from ..sources.openwhisk.selection import normalize
from .base import NoLease

log = logging.getLogger(__name__)

RESULT_KEY = "checkpoint"
LOOK_BACK_RUNS = 100  # how many of our own newest runs to search for a checkpoint (summaries: small)


class ActivationStore(NoLease):
    def __init__(self, api, self_action: str, *, exclude: str | None = None):
        self.api = api
        self.name = normalize(self_action)  # /ns/pkg/action -> pkg/action, as the list's name filter wants
        self.exclude = exclude  # the running activation itself
        self.document: dict | None = None

    def load(self) -> dict | None:
        """The newest readable checkpoint among our own recent runs; ``None`` if none of them has one.

        If the runs cannot be read (the API fails), that is an error, not "none": starting over from
        the initial lookback would jump over a backlog. The checkpoint found is also what this run
        returns if it fails before saving, so the next run still finds it.
        """
        try:
            summaries = self.api.list_activations(self.name, limit=LOOK_BACK_RUNS, docs=False)
        except LogfwdError as exc:
            raise CheckpointError(f"cannot list the forwarder's own activations to find its checkpoint ({exc}); "
                                  "not starting over, the next run tries again") from None
        unreadable = 0
        for summary in summaries:
            activation_id = summary.get("activationId") if isinstance(summary, dict) else None
            if not activation_id or activation_id == self.exclude:
                continue
            try:
                record = self.api.get_activation(activation_id)
            except LogfwdError as exc:
                log.warning("cannot read activation %s (%s); trying an older one", activation_id, exc)
                unreadable += 1
                continue
            result = (record.get("response") or {}).get("result") if isinstance(record, dict) else None
            document = result.get(RESULT_KEY) if isinstance(result, dict) else None
            if isinstance(document, dict):
                self.document = document
                return document
        if unreadable:
            raise CheckpointError(f"{unreadable} of the forwarder's recent activations could not be read and no "
                                  "older one has a checkpoint; not starting over, the next run tries again")
        return None

    def save(self, document: dict) -> None:
        # Kept for the entry point, which returns it as part of the activation result.
        self.document = document

    def result_fields(self) -> dict:
        return {RESULT_KEY: self.document} if self.document is not None else {}

    def describe(self) -> str:
        return f"activation result of {self.name}"
