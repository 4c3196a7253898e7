"""The zero-infrastructure default on OpenWhisk: the checkpoint travels in the forwarder's own result.

Each run returns its checkpoint in its activation result (a run that fails returns the one it
loaded); the next run lists the forwarder's own activations (newest first, as far back as they go)
and takes the newest one that reported a readable checkpoint. Nothing here can hold a lease, and the
list view lags, so an overlapping or quick next run may start from an older checkpoint: it re-sends
(same ``@metadata._id``), it never loses. The checkpoint can only be saved at the end of a run.

Summaries are listed, and records read one by one: the newest ``READ_FIRST`` runs whatever they
answered, older ones only if they succeeded (a failed run carries an older checkpoint at best).
If the forwarder has earlier runs but none carries a checkpoint, it does not start over silently:
``load`` raises, naming the range a fresh start would skip, unless ``start_over`` is set.
"""

import logging
from datetime import datetime, timezone

from ..errors import CheckpointError, LogfwdError
from ..sources.openwhisk.pager import Pager
from ..sources.openwhisk.selection import normalize
from .base import NoLease

log = logging.getLogger(__name__)

RESULT_KEY = "checkpoint"
READ_FIRST = 20  # the newest runs read whatever their status; older failed ones are passed over
_FAR_FUTURE = 2**53  # an upto that covers every start


class ActivationStore(NoLease):
    def __init__(self, api, self_action: str, *, exclude: str | None = None, start_over: bool = False):
        self.api = api
        self.name = normalize(self_action)  # /ns/pkg/action -> pkg/action, as the list's name filter wants
        self.exclude = exclude  # the running activation itself
        self.start_over = start_over
        self.document: dict | None = None

    def load(self) -> dict | None:
        """The newest readable checkpoint among our own runs; ``None`` if there are no earlier runs
        (or none has one, with ``start_over``).

        If the runs cannot be read (the API fails), that is an error, not "none": starting over from
        the initial lookback would jump over a backlog. The checkpoint found is also what this run
        returns if it fails before saving, so the next run still finds it.
        """
        pager = Pager(self._page, self._count, lambda: self.api.page_limit, log.warning)
        unreadable = runs = read = 0
        oldest = None
        try:
            for page in pager.newest_first(0, _FAR_FUTURE):
                for summary in page:
                    activation_id = summary.get("activationId") if isinstance(summary, dict) else None
                    if not activation_id or activation_id == self.exclude:
                        continue
                    runs += 1
                    oldest = summary.get("start", oldest)
                    if read >= READ_FIRST and summary.get("statusCode", 0) != 0:
                        continue
                    read += 1
                    document, failed = self._checkpoint_of(activation_id)
                    unreadable += failed
                    if document is not None:
                        self.document = document
                        return document
        except LogfwdError as exc:
            raise CheckpointError(f"cannot list the forwarder's own activations to find its checkpoint ({exc}); "
                                  "not starting over, the next run tries again") from None
        if unreadable:
            raise CheckpointError(f"{unreadable} of the forwarder's activations could not be read and no "
                                  "other one has a checkpoint; not starting over, the next run tries again")
        if runs and not self.start_over:
            since = _when(oldest)
            raise CheckpointError(
                f"the forwarder has {runs} earlier runs (the oldest started {since}) but none of them carries a "
                "checkpoint (runs that failed before reading one, or results past the platform's retention); "
                f"starting over would skip what the monitored actions logged from about {since} up to now minus "
                "initial_lookback. To start anyway, set start_over=true, with initial_lookback (seconds) as "
                "far back as the first run should read")
        return None

    def _page(self, since: int, upto: int, skip: int) -> list:
        return self.api.list_activations(self.name, since=since, upto=upto, limit=self.api.page_limit, skip=skip,
                                         docs=False)

    def _count(self, since: int, upto: int) -> int:
        return self.api.count_activations(self.name, since=since, upto=upto)

    def _checkpoint_of(self, activation_id: str) -> tuple[dict | None, int]:
        """The checkpoint in one run's result (or None), and 1 if the run could not be read."""
        try:
            record = self.api.get_activation(activation_id)
        except LogfwdError as exc:
            log.warning("cannot read activation %s (%s); trying an older one", activation_id, exc)
            return None, 1
        result = (record.get("response") or {}).get("result") if isinstance(record, dict) else None
        document = result.get(RESULT_KEY) if isinstance(result, dict) else None
        return (document if isinstance(document, dict) else None), 0

    def save(self, document: dict) -> None:
        # Kept for the entry point, which returns it as part of the activation result.
        self.document = document

    def result_fields(self) -> dict:
        return {RESULT_KEY: self.document} if self.document is not None else {}

    def describe(self) -> str:
        return f"activation result of {self.name}"


def _when(start) -> str:
    if not isinstance(start, int) or isinstance(start, bool):
        return "at an unknown time"
    return datetime.fromtimestamp(start / 1000, timezone.utc).isoformat(timespec="seconds")
