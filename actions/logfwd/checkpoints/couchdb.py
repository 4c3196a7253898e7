"""The checkpoint as a CouchDB (or Cloudant) document, written with revision-based compare-and-swap.

``couchdb+https://[user:pass@]host[:port]/database[/docid]`` (``couchdb+http`` for a local server).
The checkpoint lives in ``{"checkpoint": ...}`` inside the document, so its own keys can never clash
with CouchDB's ``_id``/``_rev``. The lease is a second document, ``<docid>-lease``, holding an owner
and an expiry time; it is taken and handed over with the same ``_rev`` compare-and-swap. Its expiry is
judged by the runs' clocks, so it assumes hosts whose clocks agree to within seconds (NTP).
"""

import json
import re
import ssl
import time
from typing import Callable
from urllib.parse import quote, unquote, urlsplit

import requests

from .. import https
from ..errors import CheckpointError, CheckpointTransientError, ConfigError, ConflictError, LeaseHeldError
from ..deadline import NO_DEADLINE, Deadline
from ..retry import RetryPolicy
from .base import ElsewhereThanResult

DEFAULT_DOC_ID = "logfwd-checkpoint"
_DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_$()+/-]*$")  # CouchDB's rule for database names


class CouchDBStore(ElsewhereThanResult):
    supports_lease = True

    def __init__(self, base_url: str, database: str, doc_id: str = DEFAULT_DOC_ID, *,
                 username: str | None = None, password: str | None = None, verify: bool | str = True,
                 timeout: float = 30.0, retry: RetryPolicy = RetryPolicy(),
                 clock: Callable[[], float] = time.time, deadline: Deadline = NO_DEADLINE):
        """``base_url`` is ``http(s)://host[:port]`` without credentials; ``verify`` may name a CA bundle."""
        if not _DATABASE_NAME.match(database):
            raise ConfigError("checkpoint", f"'{database}' is not a valid CouchDB database name",
                              "Use lowercase letters, digits and _$()+-/, starting with a letter.")
        self.base_url = base_url.rstrip("/")
        self.database = database
        self.doc_id = doc_id
        self.host = urlsplit(self.base_url).netloc
        self._session = https.session()
        self._session.auth = (username, password or "") if username else None
        self._verify = verify
        self._timeout = timeout
        self._retry = retry
        self._deadline = deadline  # the run's hard deadline: a slow store must not outlive it
        self._clock = clock
        self._rev: str | None = None
        self._database_checked = False

    @classmethod
    def from_url(cls, url: str, *, username: str | None = None, password: str | None = None,
                 **options) -> "CouchDBStore":
        """Parse the ``checkpoint`` URL. ``username``/``password`` arguments win over the URL's."""
        parts = urlsplit(url)
        scheme = parts.scheme.removeprefix("couchdb+")
        if scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("checkpoint", "a CouchDB checkpoint URL needs a host",
                              "Write couchdb+https://HOST/DATABASE (couchdb+http for a local server).")
        segments = [unquote(s) for s in parts.path.strip("/").split("/")] if parts.path.strip("/") else []
        if not 1 <= len(segments) <= 2:
            raise ConfigError("checkpoint", f"the CouchDB URL for {parts.hostname} must name a database "
                              "and at most one document", "Write couchdb+https://HOST/DATABASE[/DOCID].")
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return cls(f"{scheme}://{netloc}", *segments,
                   username=username if username is not None else _unquoted(parts.username),
                   password=password if password is not None else _unquoted(parts.password), **options)

    def describe(self) -> str:
        scheme = urlsplit(self.base_url).scheme
        return f"couchdb+{scheme}://{self.host}/{self.database}/{self.doc_id}"

    def load(self) -> dict | None:
        self._ensure_database()
        body = self._get(self.doc_id)
        if body is None:
            self._rev = None
            return None
        document = body.get("checkpoint")
        if not isinstance(document, dict):
            raise CheckpointError(f"document '{self.doc_id}' in {self._where()} holds no checkpoint object; "
                                  "delete it to start from the initial lookback")
        self._rev = body["_rev"]
        return document

    def save(self, document: dict) -> None:
        self._ensure_database()
        body = {"checkpoint": document} | ({"_rev": self._rev} if self._rev else {})
        attempts = 0

        def put() -> requests.Response:
            nonlocal attempts
            attempts += 1
            return self._request("PUT", self.doc_id, json=body)

        response = self._retry.call(put, self._deadline)
        if response.status_code in (201, 202):
            self._rev = response.json()["rev"]
            return
        if response.status_code == 409:
            # After a retry the conflict may be our own first attempt, whose answer was lost.
            current = self._get(self.doc_id) if attempts > 1 else None
            if current is not None and current.get("checkpoint") == json.loads(json.dumps(document)):
                self._rev = current["_rev"]
                return
            raise ConflictError(f"the checkpoint in {self._where()} changed since this run read it "
                                "(another run?); not overwriting it")
        raise self._unexpected(response, "saving the checkpoint")

    def acquire_lease(self, owner: str, ttl: float) -> None:
        self._ensure_database()
        lease_id = f"{self.doc_id}-lease"
        for _ in range(3):  # a 409 means another run wrote the lease in between: look again
            now = self._clock()
            current = self._get(lease_id)
            if current and current.get("owner") != owner and current.get("until", 0) > now:
                until = float(current["until"])
                raise LeaseHeldError(f"another run ({current.get('owner')}) holds the lease on "
                                     f"{self._where()} until {_iso(until)}", until=until)
            body = {"owner": owner, "until": now + ttl} | ({"_rev": current["_rev"]} if current else {})
            response = self._retry.call(lambda: self._request("PUT", lease_id, json=body), self._deadline)
            if response.status_code in (201, 202):
                return
            if response.status_code != 409:
                raise self._unexpected(response, "taking the lease")
        raise CheckpointError(f"the lease on {self._where()} keeps changing under this run; try again later")

    def release_lease(self, owner: str) -> None:
        lease_id = f"{self.doc_id}-lease"
        current = self._get(lease_id)
        if current and current.get("owner") == owner:
            # 404/409 here mean the lease expired and another run took it: nothing of ours to release.
            self._retry.call(lambda: self._request("DELETE", lease_id, params={"rev": current["_rev"]}), self._deadline)

    def close(self) -> None:
        self._session.close()

    # --- HTTP ---

    def _where(self) -> str:
        return f"CouchDB database '{self.database}' at {self.host}"

    def _ensure_database(self) -> None:
        if self._database_checked:
            return
        if self._retry.call(lambda: self._request("HEAD", None), self._deadline).status_code == 404:
            response = self._retry.call(lambda: self._request("PUT", None), self._deadline)
            if response.status_code not in (201, 202, 412):  # 412: created meanwhile by another run
                raise self._unexpected(response, "creating the database")
        self._database_checked = True

    def _get(self, doc_id: str) -> dict | None:
        response = self._retry.call(lambda: self._request("GET", doc_id), self._deadline)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._unexpected(response, f"reading document '{doc_id}'")
        try:
            body = response.json()
        except ValueError:
            raise CheckpointError(f"{self._where()} answered document '{doc_id}' with a body that is "
                                  "not JSON; check that the URL points at CouchDB") from None
        if not isinstance(body, dict):
            raise CheckpointError(f"document '{doc_id}' in {self._where()} is not a JSON object")
        return body

    def _request(self, method: str, doc_id: str | None, **kwargs) -> requests.Response:
        """One HTTP request; raises for what no caller can handle (auth, TLS, network, 5xx)."""
        url = f"{self.base_url}/{quote(self.database, safe='')}"
        if doc_id is not None:
            url += f"/{quote(doc_id, safe='')}"
        try:
            response = self._session.request(method, url, timeout=max(0.1, self._deadline.budget(self._timeout)), verify=self._verify, **kwargs)
        except https.CABundleMissing as exc:
            raise CheckpointError(f"cannot verify CouchDB at {self.host}: {exc}") from None
        except requests.exceptions.SSLError as exc:
            raise CheckpointError(f"TLS handshake with CouchDB at {self.host} failed ({_root_cause(exc)}); "
                                  "check that the server speaks TLS (else use couchdb+http), that its "
                                  "certificate matches the host name and is signed by a trusted CA") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise CheckpointTransientError(f"cannot reach CouchDB at {self.host} ({_root_cause(exc)}); check "
                                           "the host and port in the checkpoint URL and that the server "
                                           "is running") from None
        status = response.status_code
        if status in (401, 403):
            raise CheckpointError(f"{self._where()} refused access (HTTP {status}: {_reason(response)}); "
                                  "check the username and password (in the checkpoint URL or parameters) "
                                  "and that this user may read and write the database")
        if status == 429 or status >= 500:
            raise CheckpointTransientError(f"{self._where()} answered HTTP {status}: {_reason(response)}")
        return response

    def _unexpected(self, response: requests.Response, doing: str) -> CheckpointError:
        return CheckpointError(f"{self._where()} answered HTTP {response.status_code} when {doing}: "
                               f"{_reason(response)}")


def _unquoted(text: str | None) -> str | None:
    return unquote(text) if text is not None else None


def _reason(response: requests.Response) -> str:
    """CouchDB's own ``error: reason`` words, else the start of the body."""
    try:
        body = response.json()
        return f"{body.get('error')}: {body.get('reason')}"
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason or "no body"


def _root_cause(exc: BaseException) -> str:
    """The innermost cause ("Connection refused"), not urllib3's nested wrapper text."""
    while exc.__cause__ is not None or (exc.__context__ is not None and not exc.__suppress_context__):
        exc = exc.__cause__ or exc.__context__
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message
    return ((exc.strerror if isinstance(exc, OSError) else None) or str(exc))[:200]


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
