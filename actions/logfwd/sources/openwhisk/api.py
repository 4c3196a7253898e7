"""A small client for the OpenWhisk REST API: the reads the forwarder needs, nothing else.

Every call goes through one ``requests.Session`` (connections are reused; see ``transport``) and one
retry policy: connection errors, timeouts, 429, 5xx and unreadable bodies are retried with backoff
until the attempts or the run's deadline run out. Answers that will not change by retrying (401, 403, 404, 400)
raise at once, with a message that names the host, the namespace and what to check. The API key is
never logged, never put in a message and never shown by ``repr``.

A deployment may lower ``max-list-limit`` below 200 for every collection: the 400 that a larger
``limit`` gets names the server's maximum, which ``page_limit`` then keeps for the rest of the run.
"""

import logging
from urllib.parse import quote

import requests

from ... import https
from ...codecs.jsonbytes import loads
from ...deadline import NO_DEADLINE, Deadline
from ...errors import ConfigError, NotFoundError, SourceError, SourceTransientError
from ...retry import RetryPolicy
from .answers import LimitTooLarge, answer_error, clip, plain_http_answer, server_error
from .transport import Transport

__all__ = ["OpenWhiskAPI", "MAX_LIMIT"]

log = logging.getLogger(__name__)

MAX_LIMIT = 200  # the most records one list request returns; above it the server answers 400


class OpenWhiskAPI:
    """Reads activation records and action lists of one namespace."""

    def __init__(
        self,
        apihost: str,
        api_key: str,
        namespace: str = "_",
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        verify: bool | str = True,
        deadline: Deadline = NO_DEADLINE,
    ):
        self.host = _base_host(apihost)
        self._scheme_given = "://" in (apihost or "")
        self.base = f"{self.host}/api/v1"
        self.namespace = namespace or "_"
        self._auth = _basic_auth(api_key)
        self._secrets = tuple(s for s in (api_key, self._auth[1]) if s)
        self._namespace_path = f"/namespaces/{quote(self.namespace, safe='')}"
        self._transport = Transport(session if session is not None else https.session(), self.base, self._auth,
                                    verify, own_session=session is None)
        self._retry = retry
        self._timeout = timeout
        self._deadline = deadline
        self.requests_made = 0  # HTTP requests sent, retries included (for the benchmark)
        self.page_limit = MAX_LIMIT  # the server's largest list limit, once a 400 has named it

    def __repr__(self) -> str:
        return f"OpenWhiskAPI({self.describe()})"

    @property
    def actions_url(self) -> str:
        """The actions listing's URL, for messages about what it answered."""
        return f"{self.base}{self._namespace_path}/actions"

    def describe(self) -> str:
        """Where this client reads from, fit for logs: ``https://host/api/v1 namespace _``."""
        return f"{self.base} namespace {self.namespace}"

    def list_activations(
        self,
        name: str | None = None,
        *,
        since: int | None = None,
        upto: int | None = None,
        limit: int = MAX_LIMIT,
        skip: int = 0,
        docs: bool = True,
    ) -> list[dict]:
        """Activation records, newest ``start`` first. ``since``/``upto``: inclusive epoch ms on ``start``."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
            raise ConfigError("limit", f"must be an integer from 0 to {MAX_LIMIT}, got {limit!r}")
        params = self._filters(name, since, upto)
        params.update(limit=limit, skip=_non_negative("skip", skip), docs="true" if docs else "false")
        records = self._list(f"{self._namespace_path}/activations", params, subject=_subject(name))
        return _expect(records, list, self._endpoint(f"{self._namespace_path}/activations"))

    def count_activations(
        self, name: str | None = None, *, since: int | None = None, upto: int | None = None
    ) -> int:
        """How many activations match (same filters as ``list_activations``)."""
        params = self._filters(name, since, upto)
        params["count"] = "true"
        path = f"{self._namespace_path}/activations"
        body = _expect(self._get(path, params, subject=_subject(name)), dict, self._endpoint(path))
        count = body.get("activations")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise SourceError(f"{self._endpoint(path)} answered a count without a number: {clip(str(body))}")
        return count

    def get_activation(self, activation_id: str) -> dict:
        """The full record of one activation (read by id: no index delay)."""
        path = f"{self._namespace_path}/activations/{_activation_path(activation_id)}"
        record = self._get(path, {}, subject=f"activation '{activation_id}'")
        return _expect(record, dict, self._endpoint(path))

    def activation_logs(self, activation_id: str) -> list[str]:
        """The log lines of one activation, for deployments that keep logs outside the record."""
        path = f"{self._namespace_path}/activations/{_activation_path(activation_id)}/logs"
        body = self._get(path, {}, subject=f"activation '{activation_id}'")
        body = _expect(body, dict, self._endpoint(path))
        return _expect(body.get("logs"), list, self._endpoint(path) + " field 'logs'")

    def info(self) -> dict:
        """The API's self-description (``GET /api/v1``, no key needed): is it there at all?"""
        return _expect(self._get("", {}, subject=None), dict, self._endpoint(""))

    def list_namespaces(self) -> list[str]:
        """The namespaces the key may read (``GET /namespaces``)."""
        return _expect(self._get("/namespaces", {}, subject=None), list, self._endpoint("/namespaces"))

    def action_exists(self, name: str) -> bool:
        """Does ``name`` (``action`` or ``package/action``) exist? (``GET /actions/{name}``, code omitted.)"""
        path = f"{self._namespace_path}/actions/{quote(name, safe='/')}"
        try:
            _expect(self._get(path, {"code": "false"}, subject=_subject(name)), dict, self._endpoint(path))
        except NotFoundError:
            return False
        return True

    def list_actions(self) -> list[dict]:
        """Every action of the namespace, all pages (``limit`` and ``skip``) until a short one."""
        path = f"{self._namespace_path}/actions"
        actions: list[dict] = []
        while True:
            page = self._list(path, {"limit": self.page_limit, "skip": len(actions)}, subject=None)
            page = _expect(page, list, self._endpoint(path))
            if actions and page and page[0] == actions[-self.page_limit]:
                # A server that ignores skip would page forever.
                raise SourceError(f"{self._endpoint(path)} returned the same page twice: it ignores 'skip'")
            actions.extend(page)
            if len(page) < self.page_limit:
                return actions

    def get_action(self, name: str) -> dict:
        """One action (``name`` or ``package/name``): its limits, and a sequence's components."""
        path = f"{self._namespace_path}/actions/{quote(name, safe='/')}"
        return _expect(self._get(path, {}, subject=f"action '{name}'"), dict, self._endpoint(path))

    def close(self) -> None:
        self._transport.session.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def _endpoint(self, path: str) -> str:
        return f"GET {self.base}{path}"

    def _filters(self, name: str | None, since: int | None, upto: int | None) -> dict:
        params: dict = {}
        if name:
            params["name"] = name
        if since is not None:
            params["since"] = _non_negative("since", since)
        if upto is not None:
            params["upto"] = _non_negative("upto", upto)
        return params

    def _list(self, path: str, params: dict, *, subject: str | None) -> object:
        """A list request with ``limit`` no larger than the server allows, learnt from its 400."""
        if params["limit"] > self.page_limit:
            params = {**params, "limit": self.page_limit}
        try:
            return self._get(path, params, subject=subject)
        except LimitTooLarge as error:
            if not 0 < error.maximum < params["limit"]:
                raise
            log.info("%s allows at most %d records a page; paging with that", self.host, error.maximum)
            self.page_limit = error.maximum
            return self._get(path, {**params, "limit": error.maximum}, subject=subject)

    def _get(self, path: str, params: dict, *, subject: str | None) -> object:
        """GET one endpoint through the retry policy; the JSON body, or the error that explains why not."""
        endpoint = self._endpoint(path)
        attempts = 0

        def attempt() -> object:
            nonlocal attempts
            attempts += 1
            try:
                return self._attempt(path, params, endpoint, subject)
            except SourceTransientError as error:
                log.warning("attempt %d failed: %s", attempts, error)
                raise

        try:
            return self._retry.call(attempt, self._deadline)
        except SourceTransientError as error:
            if attempts <= 1:
                raise
            raise SourceTransientError(f"{error} (gave up after {attempts} attempts)") from error

    def _attempt(self, path: str, params: dict, endpoint: str, subject: str | None) -> object:
        timeout = self._deadline.budget(self._timeout)
        if timeout <= 0:
            raise SourceTransientError(f"{endpoint}: no time left before the run's deadline")
        self.requests_made += 1
        try:
            response = self._transport.get(path, params, timeout)
            body = _whole_body(response) if response.status_code == 200 else response.content
        except https.CABundleMissing as error:
            raise SourceError(f"{endpoint}: cannot verify {self.host}: {error}") from None
        except requests.exceptions.SSLError as error:
            if plain_http_answer(error):
                assumed = "" if self._scheme_given else " (apihost names no scheme, so https was assumed)"
                raise SourceError(
                    f"{endpoint}: {self.host} answers plain HTTP, not HTTPS{assumed}. If that API really is "
                    f"plain HTTP (a local emulator), write apihost={self.host.replace('https://', 'http://', 1)}"
                ) from None
            raise SourceError(
                f"{endpoint}: TLS verification failed ({self._clean(error)}). Check the API host name and "
                "its certificate; only for a test host with a self-signed one, set api_verify to false"
            ) from None
        except requests.RequestException as error:
            # Connection errors, timeouts, and bodies cut off mid-transfer: a retry usually gets through.
            raise SourceTransientError(f"{endpoint}: {type(error).__name__}: {self._clean(error)}") from None

        status = response.status_code
        if status == 200:
            try:
                return loads(body)
            except ValueError:
                # An HTML page from a proxy or a cut-off body: a retry usually gets a whole one.
                text = self._clean(clip(body.decode(response.encoding or "utf-8", "replace")))
                message = f"{endpoint} answered 200 with a body that is not JSON: {text!r}"
                raise SourceTransientError(message) from None
        raise answer_error(status, self._clean(server_error(response)), self.host, self.namespace, endpoint, subject)

    def _clean(self, error: object) -> str:
        """Text fit for an error message: the API key is masked should any peer echo it back."""
        text = str(error)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _base_host(apihost: str) -> str:
    """``scheme://host[:port]`` from ``__OW_API_HOST``-style values, with or without a scheme."""
    given = (apihost or "").strip()
    scheme, sep, host = given.partition("://")
    if not sep:
        scheme, host = "https", given
    host = host.rstrip("/")
    if not host:
        raise ConfigError("apihost", "names no host", "Give the API host, e.g. openwhisk.example.com")
    if any(c in host for c in "?# \t\r\n"):
        raise ConfigError("apihost", f"'{given}' has a query, a fragment or a space, which an API host has not",
                          "Give scheme://host[:port] only, e.g. https://openwhisk.example.com")
    if scheme.lower() not in ("http", "https"):
        raise ConfigError("apihost", f"'{given}' is not an http(s) address", "Use https://HOST or just HOST")
    return f"{scheme.lower()}://{host}"


def _whole_body(response: requests.Response) -> bytes:
    """A 200's body in one read: requests' own ``content`` reads it in 10 KB chunks and joins them,
    ~0.5 ms of CPU on a 400 KB page. (A body a hook has read already comes back whole as well.)"""
    try:
        return b"".join(response.iter_content(chunk_size=None))
    finally:
        response.close()  # read whole, the connection is back in the pool already; cut off, it is closed




def _basic_auth(api_key: str) -> tuple[str, str]:
    user, sep, password = (api_key or "").partition(":")
    if not sep or not user or not password:
        raise ConfigError(
            "api_key",
            "is not of the form UUID:KEY",
            "Use the key that 'wsk property get --auth' shows (or AUTH in ~/.wskprops)",
        )
    return user, password


def _non_negative(parameter: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(parameter, f"must be a non-negative integer, got {value!r}")
    return value


def _activation_path(activation_id: str) -> str:
    if not isinstance(activation_id, str) or not activation_id:
        raise ConfigError("activation_id", f"must be a non-empty string, got {activation_id!r}")
    return quote(activation_id, safe="")


def _subject(name: str | None) -> str | None:
    return f"action '{name}'" if name else None


def _expect(value: object, kind: type, endpoint: str):
    if not isinstance(value, kind):
        got = type(value).__name__
        raise SourceError(f"{endpoint} answered a JSON {got} where {kind.__name__} was expected")
    return value
