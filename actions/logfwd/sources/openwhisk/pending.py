"""Activations whose logs are not in the log store yet.

Deployments that keep logs outside the record (Elasticsearch, Splunk, a log driver) return records
with empty ``logs``, and ``/activations/{id}/logs`` may answer ``[]`` or ``["Logs are not
available."]`` until an agent has shipped them, or forever. Such an activation is not marked as
delivered. In the live range it is simply listed again by the next run; once the cursor must move
past it, it waits by id in the checkpoint and is asked for again on later runs, up to ``logs_wait``
seconds after that; then one marker event says that its logs never came, under its own ``_id``
(``<namespace>/<activationId>:logs-unavailable``), and it is counted.
"""

from ...codecs.owlog import format_time_ns
from .events import RecordEvents, activation_events

__all__ = ["NOT_AVAILABLE", "logs_arrived", "looks_inline", "marker_events"]

NOT_AVAILABLE = "Logs are not available."  # what LogDriverLogStore answers


def logs_arrived(logs: list) -> bool:
    return bool(logs) and logs != [NOT_AVAILABLE]


def looks_inline(record: dict) -> bool:
    """A record that carries log text itself: this deployment keeps logs in the record, so an empty
    ``logs`` there means the activation logged nothing (sequences and triggers carry ids and rule
    results, never text, so they prove nothing)."""
    logs = record.get("logs")
    if not isinstance(logs, list) or not logs or not isinstance(logs[0], str):
        return False
    return logs[0][:1].isdigit() and logs[0] != NOT_AVAILABLE


def marker_events(record: dict, *, fields, wait_seconds: float) -> RecordEvents:
    """The one event that stands for logs that never came. Built only from the record, so a re-sent
    marker is the same event."""
    shared = activation_events(record, fields=fields, logs=[]).shared
    namespace = record.get("namespace") if isinstance(record.get("namespace"), str) else "_"
    start = record.get("start") if isinstance(record.get("start"), int) else 0
    line = {
        "@timestamp": format_time_ns(start * 1_000_000),
        "message": (f"logfwd: the logs of this activation were not available from the log store within "
                    f"{wait_seconds:g} s; they were not forwarded"),
        "stream": "stderr",
        "logfwd": {"logs_unavailable": True},
        "@metadata": {"_id": f"{namespace}/{record['activationId']}:logs-unavailable"},
    }
    return RecordEvents([line], shared)
