"""The OpenWhisk REST API over the store: request in, (status, JSON body) out, no I/O.

Behaviour follows the Apache OpenWhisk controller (``Activations.scala``, ``RestAPIs.scala``,
``ErrorResponse.scala``, ``Entitlement.scala``):

- errors are ``{"error": ..., "code": <transaction id>}`` and every answer carries ``X-Request-ID``;
- a missing or wrong API key is a 401; another namespace than the key's own is a 403
  ``The supplied authentication is not authorized to access '<ns>'.``;
- a malformed query parameter is a 400 worded as Akka words it:
  ``The query parameter 'limit' was malformed:\\nThe value '201' is not in the range of 0 to 200 for activations.``;
- ``max_limit`` bounds every collection (actions too); ``since`` after ``upto`` is a 500.

The ``Platform`` options add the rest of the real timing and paging (see ``platform.py``).
"""

import base64
import binascii
import os
import random
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from logfwd.codecs.jsonbytes import dumps
from . import records
from .platform import Platform
from .records import ActionSpec
from .store import ActivationStore

__all__ = ["Api", "Reply", "fault_reply", "DEFAULT_LIST_LIMIT", "MAX_LIST_LIMIT"]

DEFAULT_LIST_LIMIT = 30
MAX_LIST_LIMIT = 200
ENCODED_BYTES = 512 << 20  # encoded records kept: a 100,000-activation backlog of 10 lines takes ~190 MB
_ACTIVATION_ID = re.compile(r"[0-9a-f]{32}")
_NO_AUTH = "The resource requires authentication, which was not supplied with the request"
_BAD_AUTH = "The supplied authentication is invalid"
_NOT_FOUND = "The requested resource does not exist."
_NO_ROUTE = "The requested resource could not be found."
_INTERNAL = "Internal server error."
_NO_LOGS = "Logs are not available."
_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    records: int = 0  # activation records in the body, for the serving statistics
    lines: int = 0  # log lines in the body


class BadParameter(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(f"The query parameter '{name}' was malformed:\n{message}")


def new_transaction_id() -> str:
    return os.urandom(16).hex()


def _json(status: int, value, tid: str, **counts) -> Reply:
    body = dumps(value)  # compact, as the controller writes it; orjson: a page in 0.5 ms instead of 4
    return Reply(status, body, headers={"X-Request-ID": tid}, **counts)


def _error(status: int, message: str, tid: str, headers: dict | None = None) -> Reply:
    reply = _json(status, {"error": message, "code": tid}, tid)
    reply.headers.update(headers or {})
    return reply


def _nginx(status: int, reason: str) -> Reply:
    title = f"{status} {reason}"
    body = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>"
            "\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
    return Reply(status, body.encode(), "text/html")


def fault_reply(kind: str) -> Reply:
    """What a throttling controller, a failing controller or a failing front answers."""
    tid = new_transaction_id()
    if kind == "429":
        return _error(429, "Too many requests in the last minute (count: 121, allowed: 120).", tid)
    if kind == "503":
        return _error(503, "System is overloaded, try again later.", tid)
    if kind == "500":
        return _error(500, _INTERNAL, tid)
    if kind == "504":
        return _nginx(504, "Gateway Time-out")
    return Reply(502, _BAD_GATEWAY_HTML, "text/html")


class Api:
    """Answers ``GET /api/v1/...`` for one namespace and one API key."""

    def __init__(self, store: ActivationStore, catalog: dict[str, ActionSpec], *, namespace: str, api_key: str,
                 max_limit: int = MAX_LIST_LIMIT, platform: Platform = Platform(), rng: random.Random | None = None):
        self.store, self.catalog = store, catalog
        self.namespace, self.api_key = namespace, api_key
        self.max_limit, self.platform = max_limit, platform
        self.external_logs = platform.log_store != "inline"
        self._rng = rng or random.Random()
        self._encoded: dict = {}  # activation -> (its full record's JSON, its log lines)
        self._encoded_bytes = 0
        self._encoding = threading.Lock()

    def record(self, act) -> dict:
        return records.full_record(act, self.namespace, self.external_logs, self.platform.bare_triggers)

    def encoded_record(self, act) -> tuple[bytes, int]:
        """The JSON of ``act``'s full record and its number of log lines, encoded once and kept.

        A stored record never changes (its logs are rendered from its seed), so what is served is the
        same; only the emulator's CPU is saved: rendering the lines again for every page cost it ~2.4 us
        a line, more than the forwarder spends reading them, on the same cores. Kept up to
        ``ENCODED_BYTES`` (then forgotten all at once and encoded again as asked)."""
        found = self._encoded.get(act)
        if found is None:
            record = self.record(act)
            found = dumps(record), len(record["logs"])
            with self._encoding:  # pages are served on several threads: the bound stays exact
                if act not in self._encoded:
                    self._encoded_bytes += len(found[0])
                self._encoded[act] = found
                if self._encoded_bytes > ENCODED_BYTES:
                    self._encoded.clear()
                    self._encoded_bytes = 0
        return found

    def handle(self, target: str, authorization: str | None) -> tuple[str, Reply]:
        """Route one GET; returns an endpoint label (for statistics) and the reply."""
        tid = new_transaction_id()
        url = urlsplit(target)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if parts[:2] != ["api", "v1"]:
            return "other", _error(404, _NO_ROUTE, tid)
        rest = parts[2:]
        if not rest or rest == [""]:
            return "info", _json(200, {"description": "OpenWhisk API (logfwd emulator)", "api_version": "1.0.0",
                                       "api_version_path": "v1"}, tid)
        denied = self._authenticate(authorization, tid)
        if denied:
            return "unauthorized", denied
        if rest == ["namespaces"]:
            return "namespaces", _json(200, [self.namespace], tid)
        if len(rest) < 3 or rest[0] != "namespaces" or rest[2] not in ("activations", "actions"):
            return "other", _error(404, _NO_ROUTE, tid)
        namespace, collection, tail = rest[1], rest[2], rest[3:]
        if namespace not in ("_", self.namespace):
            resource = "/".join([namespace, *tail[:1]])
            message = f"The supplied authentication is not authorized to access '{resource}'."
            return "forbidden", _error(403, message, tid)
        query = dict(reversed(parse_qsl(url.query, keep_blank_values=True)))  # the first value wins
        try:
            if collection == "actions" and not tail:
                return "actions.list", self._actions(query, tid)
            if collection == "actions" and len(tail) <= 2:
                return "actions.get", self._action("/".join(tail), tid)
            if collection == "activations" and not tail:
                return "activations.list", self._activations(query, tid)
            if collection == "activations" and len(tail) <= 2:
                return self._activation(tail, tid)
        except BadParameter as error:
            return f"{collection}.list", _error(400, str(error), tid)
        return "other", _error(404, _NO_ROUTE, tid)

    def _authenticate(self, authorization: str | None, tid: str) -> Reply | None:
        challenge = {"WWW-Authenticate": 'Basic realm="whisk rest service"'}
        if not authorization or not authorization.startswith("Basic "):
            return _error(401, _NO_AUTH, tid, challenge)
        try:
            supplied = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return _error(401, _BAD_AUTH, tid, challenge)
        uuid, _, key = supplied.partition(":")
        expected_uuid, _, expected_key = self.api_key.partition(":")
        if (uuid, key) != (expected_uuid, expected_key):
            return _error(401, _BAD_AUTH, tid, challenge)
        return None

    def _activations(self, query: dict[str, str], tid: str) -> Reply:
        collection = "activations"
        skip = _skip(query, collection)
        limit = _limit(query, collection, self.max_limit)
        count, docs = _boolean(query, "count"), _boolean(query, "docs")
        name = _name(query)
        since, upto = _epoch(query, "since"), _epoch(query, "upto")
        if count and docs:
            return _error(400, "The parameter 'docs' is not permitted with 'count'.", tid)
        if since is not None and upto is not None and since > upto:
            return _error(500, _INTERNAL, tid)  # the controller fails building the view query
        if self.platform.skip_timeout and skip >= self.platform.skip_timeout:
            # CouchDB walks every skipped row: the controller's request times out.
            return fault_reply(self._rng.choice(("500", "504")))
        if count:
            return _json(200, {"activations": self.store.count(name, since, upto, skip)}, tid)
        page = self.store.page(name, since, upto, skip, limit)
        if docs:  # WhiskStore leaves out, silently, a document it cannot parse
            found = [self.encoded_record(a) for a in page if not self.platform.unparseable(a.activation_id)]
            body = b"[" + b",".join(record for record, _ in found) + b"]"  # what dumps writes for the list
            return Reply(200, body, headers={"X-Request-ID": tid}, records=len(found),
                         lines=sum(lines for _, lines in found))
        summaries = [records.summary(a, self.namespace, self.platform.bare_triggers) for a in page]
        return _json(200, summaries, tid, records=len(page))


    def _activation(self, tail: list[str], tid: str) -> tuple[str, Reply]:
        activation_id, what = tail[0], (tail[1] if len(tail) > 1 else "")
        endpoint = f"activations.{what or 'get'}"
        if what not in ("", "logs", "result"):
            return "other", _error(404, _NO_ROUTE, tid)
        if not _ACTIVATION_ID.fullmatch(activation_id):
            return endpoint, _error(400, "The activation id is not valid.", tid)
        act = self.store.get(activation_id)
        if act is None:
            return endpoint, _error(404, _NOT_FOUND, tid)
        if what == "logs":
            logs = self._logs(act)
            return endpoint, _json(200, {"logs": logs}, tid, lines=len(logs))
        if what == "result":
            return endpoint, _json(200, records.result(act), tid)
        record = self.record(act)
        return endpoint, _json(200, record, tid, records=1, lines=len(record["logs"]))

    def _logs(self, act) -> list[str]:
        """What ``/logs`` answers for each kind of log store."""
        store = self.platform.log_store
        if store == "unavailable" and act.has_text_logs:
            return [_NO_LOGS]  # LogDriverLogStore: the logs went to the container's log driver
        if store == "delayed" and act.has_text_logs:
            filled_at = act.stored_at + self.platform.logs_delay * 1000  # fed by an agent, later
            if self.store.clock() * 1000 < filled_at:
                return []
        return act.logs(self.namespace)

    def _actions(self, query: dict[str, str], tid: str) -> Reply:
        """Actions newest update first, package actions included (as the CouchDB view emits them)."""
        skip = _skip(query, "actions")
        limit = _limit(query, "actions", self.max_limit)
        specs = sorted((s for s in self.catalog.values() if s.is_action), key=lambda s: s.updated, reverse=True)
        if _boolean(query, "count"):
            return _json(200, {"actions": max(0, len(specs) - skip)}, tid)
        return _json(200, [self._action_entry(s) for s in specs[skip : skip + limit]], tid)

    def _action(self, path: str, tid: str) -> Reply:
        """``GET .../actions/{[pkg/]name}``: the action, with a sequence's components as
        ``/ns/[pkg/]action`` names in ``exec.components``."""
        spec = self.catalog.get(path)
        if spec is None or not spec.is_action:
            return _error(404, _NOT_FOUND, tid)
        entry = self._action_entry(spec)
        if spec.kind == "sequence":
            entry["exec"] = {"kind": "sequence", "components": [f"/{self.namespace}/{c}" for c in spec.components]}
        else:
            entry["exec"] = {"kind": spec.kind, "binary": spec.kind.startswith("python")}
        return _json(200, entry, tid)

    def _action_entry(self, spec: ActionSpec) -> dict:
        namespace = f"{self.namespace}/{spec.package}" if spec.package else self.namespace
        return {
            "namespace": namespace,
            "name": spec.name,
            "version": spec.version,
            "publish": False,
            "annotations": [{"key": "exec", "value": spec.kind}, {"key": "provide-api-key", "value": False}],
            "limits": spec.limits(),
            "exec": {"binary": spec.kind.startswith("python")},  # zip actions are binary
            "updated": spec.updated,
        }


def _integer(query: dict, name: str, collection: str,
             complaint: str = "The value '{value}' is not an integer for {collection}.") -> int | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BadParameter(name, complaint.format(value=value, collection=collection)) from None


def _limit(query: dict, collection: str, maximum: int) -> int:
    n = _integer(query, "limit", collection)
    if n is None:
        return DEFAULT_LIST_LIMIT
    if n == 0:
        return maximum
    if not 0 < n <= maximum:
        raise BadParameter("limit", f"The value '{n}' is not in the range of 0 to {maximum} for {collection}.")
    return n


def _skip(query: dict, collection: str) -> int:
    n = _integer(query, "skip", collection)
    if n is not None and n < 0:
        raise BadParameter("skip", f"The value '{n}' is not greater than or equal to 0 for {collection}.")
    return n or 0


def _boolean(query: dict, name: str) -> bool:
    value = query.get(name, "false").lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0", ""):
        return False
    raise BadParameter(name, f"'{query[name]}' is not a valid Boolean value")


def _epoch(query: dict, name: str) -> int | None:
    return _integer(query, name, "", "Parameter is not a valid value for epoch seconds: {value}")


def _name(query: dict) -> str | None:
    value = query.get("name", "").strip().strip("/")
    if not value:
        return None
    if len(value.split("/")) > 2 or "" in value.split("/"):
        raise BadParameter("name", f"Parameter may be a 'simple' name or 'package-name/simple' name: {value}")
    return value
