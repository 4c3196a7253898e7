"""Activation records shaped like OpenWhisk's, kept compact and rendered to JSON on demand.

An ``Activation`` holds only what varies (ids, times, status, a log seed); ``full_record`` and
``summary`` turn it into the exact JSON the controller answers with: the full record as
``WhiskActivation.toExtendedJson`` (``response`` without ``statusCode``, plus ``success`` and
``status``), the summary as the CouchDB ``activations`` view emits it (no logs, no response, a
numeric ``statusCode``).
"""

import json
from dataclasses import dataclass

from . import loglines

__all__ = ["ActionSpec", "Activation", "STATUSES", "DEFAULT_CATALOG", "full_record", "summary", "result"]

# Index = the controller's statusCode.
STATUSES = ("success", "application error", "action developer error", "whisk internal error")


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action (or a trigger) the emulator pretends to run. ``path`` is ``name`` or ``pkg/name``."""

    path: str
    kind: str = "python:3.11"  # a runtime kind, "sequence" or "trigger"
    memory: int = 256
    timeout: int = 60_000
    version: str = "0.0.1"
    components: tuple[str, ...] = ()  # sequences: component action paths
    rule_action: str = ""  # triggers: the action its rule fires
    updated: int = 1_700_000_000_000

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def package(self) -> str:
        return self.path.rpartition("/")[0]

    @property
    def is_action(self) -> bool:
        return self.kind != "trigger"

    def limits(self) -> dict:
        return {"concurrency": 1, "logs": 10, "memory": self.memory, "timeout": self.timeout}


DEFAULT_CATALOG = (
    ActionSpec("hello", "python:3.11", updated=1_700_000_000_000),
    ActionSpec("shop/checkout", "nodejs:18", 256, 30_000, "0.0.7", updated=1_700_000_100_000),
    ActionSpec("shop/cart", "nodejs:18", 128, 10_000, "0.0.12", updated=1_700_000_200_000),
    ActionSpec("etl/ingest", "python:3.10", 512, 300_000, "0.1.3", updated=1_700_000_300_000),
    ActionSpec("shop/order-flow", "sequence", components=("shop/cart", "shop/checkout"), updated=1_700_000_400_000),
    ActionSpec("every-minute", "trigger", rule_action="hello", updated=1_700_000_500_000),
)


@dataclass(slots=True, eq=False)
class Activation:
    """One activation. Logs are either generated (``seed``, ``line_count``, ``marker``) or given."""

    activation_id: str
    spec: ActionSpec
    start: int  # epoch ms
    end: int  # epoch ms
    status: int = 0  # index into STATUSES
    wait_time: int = 0
    init_time: int = 0  # > 0 only on a cold start
    seed: int = 0
    line_count: int = 0
    marker: str | None = None
    lines: list[str] | None = None  # explicit log entries, stored verbatim
    cause: str | None = None
    component_ids: tuple[str, ...] = ()  # sequences: the logs are these ids
    fired: str | None = None  # triggers: the id of the activation the rule started
    binding: str | None = None  # "ns/binding" when invoked through a package binding
    timed_out: bool = False
    result: dict | None = None
    extra: dict | None = None  # top-level fields merged into the full record
    seq: int = 0  # insertion order, breaks ties between equal starts
    stored_at: int = 0  # epoch ms the record is written (0: at its end); GET by id works from then
    visible_at: int = 0  # epoch ms from which list queries see it

    @property
    def list_name(self) -> str:
        """What the ``name`` filter matches: ``pkg/name``, ``name``, or the binding's ``pkg/name``."""
        if self.binding:
            return f"{self.binding.partition('/')[2]}/{self.spec.name}"
        return self.spec.path

    @property
    def has_text_logs(self) -> bool:
        """False for sequences (their logs are component ids) and triggers (rule results)."""
        return self.lines is not None or not (self.component_ids or self.fired is not None)

    def logs(self, namespace: str) -> list[str]:
        if self.lines is not None:
            return self.lines
        if self.component_ids:
            return list(self.component_ids)
        if self.fired is not None:
            rule = f"{namespace}/forward-{self.spec.name}"
            action = f"{namespace}/{self.spec.rule_action}"
            entry = {"statusCode": 0, "success": True, "activationId": self.fired, "rule": rule, "action": action}
            return [json.dumps(entry, separators=(",", ":"))]
        return loglines.render_lines(self.seed, self.line_count, self.start, self.end - self.start, self.marker)

    def text_line_count(self) -> int:
        """How many log lines are log text (0 for sequences and triggers)."""
        if self.lines is not None:
            return len(self.lines)
        return self.line_count if self.has_text_logs else 0


def _annotations(act: Activation, namespace: str) -> list[dict]:
    spec = act.spec
    path = f"{namespace}/{spec.path}"
    if spec.kind == "trigger":
        return [{"key": "path", "value": path}]
    notes = []
    if act.cause is not None:
        notes.append({"key": "causedBy", "value": "sequence"})
    if spec.kind == "sequence":
        notes.append({"key": "topmost", "value": True})
    if act.binding:
        notes.append({"key": "binding", "value": act.binding})
    notes += [
        {"key": "path", "value": path},
        {"key": "waitTime", "value": act.wait_time},
        {"key": "kind", "value": spec.kind},
        {"key": "timeout", "value": act.timed_out},
        {"key": "limits", "value": spec.limits()},
    ]
    if act.init_time:
        notes.append({"key": "initTime", "value": act.init_time})
    return notes


def _result_value(act: Activation) -> dict:
    if act.result is not None:
        return act.result
    if act.status == 0:
        if act.spec.kind == "trigger":
            return {"fired": act.start}
        return {"ok": True, "activation": act.activation_id[:8], "items": act.seed % 97}
    if act.status == 1:
        return {"error": f"payment declined for order #{act.seed % 100000}: insufficient funds"}
    if act.status == 2:
        if act.timed_out:
            return {"error": f"The action exceeded its time limits of {act.spec.timeout} milliseconds."}
        return {"error": "The action did not produce a valid response and exited unexpectedly."}
    return {"error": "Failed to provision resources to run the action."}


def result(act: Activation) -> dict:
    """The ``response`` object as the API shows it (also the body of ``/result``)."""
    value = _result_value(act)
    return {
        "result": value,
        "size": len(json.dumps(value, separators=(",", ":"))),
        "status": STATUSES[act.status],
        "success": act.status == 0,
    }


def full_record(act: Activation, namespace: str, external_logs: bool = False, bare_triggers: bool = False) -> dict:
    """The full record, as ``GET .../activations/{id}`` and ``docs=true`` lists return it.

    ``bare_triggers``: a trigger's record as the controller writes it (``Triggers.scala``): its end is
    epoch 0, so there is no ``end`` and no ``duration``, and it has no annotations.
    """
    record = {
        "namespace": namespace,
        "name": act.spec.name,
        "subject": namespace,
        "activationId": act.activation_id,
        "start": act.start,
        "end": act.end,
        "duration": act.end - act.start,
        "response": result(act),
        # An external log store (Elasticsearch, Splunk...) leaves the stored record without its logs.
        "logs": [] if external_logs and act.has_text_logs else act.logs(namespace),
        "version": act.spec.version,
        "publish": False,
        "annotations": _annotations(act, namespace),
    }
    if act.cause is not None:
        record["cause"] = act.cause
    if act.extra:
        record.update(act.extra)
    if bare_triggers and act.spec.kind == "trigger":
        _strip_trigger(record)
    return record


def _strip_trigger(record: dict) -> None:
    del record["end"], record["duration"]
    record["annotations"] = []
    record.pop("statusCode", None)


def summary(act: Activation, namespace: str, bare_triggers: bool = False) -> dict:
    """The summary a ``docs=false`` list returns: no logs, no response, a numeric statusCode."""
    record = {
        "namespace": namespace,
        "name": act.spec.name,
        "version": act.spec.version,
        "publish": False,
        "annotations": _annotations(act, namespace),
        "activationId": act.activation_id,
        "start": act.start,
        "end": act.end,
        "duration": act.end - act.start,
        "statusCode": act.status,
    }
    if act.cause is not None:
        record["cause"] = act.cause
    if bare_triggers and act.spec.kind == "trigger":
        _strip_trigger(record)
    return record
