"""The zero-infrastructure default on OpenWhisk: the checkpoint travels in the forwarder's own result.

Each run returns its checkpoint in its activation result; the next run lists the forwarder's own
activations (newest first) and takes the newest one that reported a readable checkpoint. Nothing
here can hold a lease, and the list view lags, so an overlapping or quick next run may start from an
older checkpoint: it re-sends (same ``@metadata._id``), it never loses.
"""

import logging

from ..errors import LogfwdError
from .base import NoLease

log = logging.getLogger(__name__)

RESULT_KEY = "checkpoint"
LOOK_BACK_RUNS = 20  # how many of our own newest runs to search for a checkpoint


def action_path(qualified: str) -> str:
    """``/ns/pkg/action`` -> ``pkg/action`` (the ``name`` filter of the activations API)."""
    parts = qualified.strip("/").split("/")
    return "/".join(parts[1:]) if len(parts) > 1 else parts[0]


class ActivationStore(NoLease):
    def __init__(self, api, self_action: str, *, exclude: str | None = None):
        self.api = api
        self.name = action_path(self_action)
        self.exclude = exclude  # the running activation itself
        self.document: dict | None = None
        self.found_in: str | None = None

    def load(self) -> dict | None:
        """The newest readable checkpoint among our own recent runs; ``None`` (never an error) if none."""
        try:
            summaries = self.api.list_activations(self.name, limit=LOOK_BACK_RUNS, docs=False)
        except LogfwdError as exc:
            log.warning("cannot list the forwarder's own activations (%s); starting from the initial lookback", exc)
            return None
        for summary in summaries:
            activation_id = summary.get("activationId")
            if not activation_id or activation_id == self.exclude:
                continue
            try:
                record = self.api.get_activation(activation_id)
            except LogfwdError as exc:
                log.warning("cannot read activation %s (%s); trying an older one", activation_id, exc)
                continue
            result = (record.get("response") or {}).get("result")
            document = result.get(RESULT_KEY) if isinstance(result, dict) else None
            if isinstance(document, dict):
                self.found_in = activation_id
                return document
        return None

    def save(self, document: dict) -> None:
        # Kept for the entry point, which returns it as part of the activation result.
        self.document = document

    def result_fields(self) -> dict:
        return {RESULT_KEY: self.document} if self.document is not None else {}

    def describe(self) -> str:
        return f"activation result of {self.name}"
