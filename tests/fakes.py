"""In-memory stand-ins for the OpenWhisk API, the sink and the checkpoint store (functional tests).

They follow the reference semantics closely enough for the pipeline: the list is newest first by
start, ``since``/``upto`` are inclusive on start, a record is listed only once it is visible.
"""

import copy
import uuid

from logfwd.codecs.jsonbytes import json_payloads
from logfwd.errors import ConflictError, DeliveryError


T0 = 1_700_000_000.0  # the tests' "now" (epoch seconds)


class FakeClock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeAPI:
    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.records: list[dict] = []   # each with a private "_visible" (epoch s)
        self.actions: list[dict] = []
        self.missing: set[str] = set()  # plain names that GET /actions/{name} does not find
        self.requests_made = 0
        self.page_limit = 200
        self.actions_url = "fake://actions"

    def add(self, name: str, start_ms: int, lines: int = 2, visible_after: float = 0.0, activation_id=None,
            logs=None) -> dict:
        record = {
            "activationId": activation_id or uuid.uuid4().hex,
            "name": name.split("/")[-1], "namespace": "guest", "start": start_ms, "end": start_ms + 10,
            "duration": 10, "response": {"status": "success", "success": True, "result": {}},
            "annotations": [{"key": "path", "value": f"guest/{name}"}, {"key": "kind", "value": "python:3.11"}],
            "logs": logs if logs is not None else [
                f"2023-11-14T22:13:20.{i:09d}Z stdout: line {i} of {name}" for i in range(lines)],
            "_visible": start_ms / 1000 + visible_after, "_path": name, "_start": start_ms,
        }
        self.records.append(record)
        return record

    def _visible(self, name):
        return [r for r in self.records if r["_path"] == name and r["_visible"] <= self.clock()]

    def _window(self, name, since, upto):
        rows = [r for r in self._visible(name)
                if (since is None or r["_start"] >= since) and (upto is None or r["_start"] <= upto)]
        # newest first; ties in a stable order, as a database index would give
        return sorted(rows, key=lambda r: (r["_start"], r["activationId"]), reverse=True)

    def count_activations(self, name=None, *, since=None, upto=None) -> int:
        self.requests_made += 1
        return len(self._window(name, since, upto))

    def list_activations(self, name=None, *, since=None, upto=None, limit=200, skip=0, docs=True):
        self.requests_made += 1
        assert 0 <= limit <= 200
        rows = self._window(name, since, upto)[skip:skip + (limit or 200)]
        return [{k: v for k, v in copy.deepcopy(r).items() if not k.startswith("_")} for r in rows]

    def activation_logs(self, activation_id):
        self.requests_made += 1
        return []

    def get_activation(self, activation_id):
        self.requests_made += 1
        [record] = [r for r in self.records if r["activationId"] == activation_id]
        return {k: v for k, v in copy.deepcopy(record).items() if not k.startswith("_")}

    def list_actions(self):
        self.requests_made += 1
        return self.actions

    def action_exists(self, name):
        self.requests_made += 1
        return name not in self.missing


class FakeSink:
    """Acknowledges everything, or fails as told: ``fail_next = k`` acks k payloads of the next
    window, then raises DeliveryError."""

    def __init__(self):
        self.received: list[bytes] = []
        self.fail_next: int | None = None
        self.batches_sent = 0

    guarantee = "acknowledged"
    encode = staticmethod(json_payloads)

    def send(self, payloads, deadline):
        if self.fail_next is not None:
            acked, self.fail_next = min(self.fail_next, len(payloads)), None
            self.received += payloads[:acked]
            raise DeliveryError("receiver went away", acked=acked)
        self.received += payloads
        self.batches_sent += 1

    def describe(self):
        return "fake"

    def close(self):
        pass


class MemoryStore:
    supports_lease = False

    def __init__(self):
        self.document = None
        self.version = 0
        self._seen = 0

    def load(self):
        self._seen = self.version
        return copy.deepcopy(self.document)

    def save(self, document):
        if self._seen != self.version:
            raise ConflictError("changed meanwhile")
        self.document = copy.deepcopy(document)
        self.version += 1
        self._seen = self.version

    def acquire_lease(self, owner, ttl):
        pass

    def release_lease(self, owner):
        pass

    def describe(self):
        return "memory"

    def result_fields(self):
        return {}

    def close(self):
        pass
