"""The API client's GETs: one host, one key, one ``requests.Session``, the parts that never change
prepared once.

``Session.get`` merges the session's headers, parameters, hooks, cookies and settings into every
request anew and parses the whole URL again: ~120 us of CPU of the ~600 an API page cost besides its
decoding. For the client's own session those parts do not change within a run, except the cookies a
server might set, so they are prepared once (by requests itself, from the base URL) and each GET only
adds its path and query, then goes through ``Session.send``: the same adapter (the CA bundle read once,
see ``https``), proxies, timeouts, redirects, hooks and cookie jar as ``Session.get``. A session given
by the caller, which the caller may change at any time, and the client's own once it holds a cookie,
take ``Session.get`` on every request.
"""

from urllib.parse import urlencode

import requests

__all__ = ["Transport"]


class Transport:
    """``get(path, params, timeout)``: a streamed response of ``base + path?params``."""

    def __init__(self, session: requests.Session, base: str, auth: tuple[str, str], verify: bool | str,
                 *, own_session: bool):
        self.session = session
        self._base = base
        self._auth = auth
        # requests looks the proxy variables (a scan of os.environ) and the CA bundle variables up again
        # on every request: ~0.3 ms of CPU each. For this one host they are looked up once, here, as
        # requests would (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE ...), and the session then uses
        # what it is given.
        found = session.merge_environment_settings(base + "/", {}, None, verify, None)
        session.trust_env = False
        self._proxies, self._verify = found["proxies"], found["verify"]
        self._template = self._prepare_base() if own_session else None
        if self._template is not None:
            # What Session.request would merge into each send, settled once (trust_env is off now).
            self._send_settings = session.merge_environment_settings(base, self._proxies, True, self._verify, None)

    def get(self, path: str, params: dict, timeout: float) -> requests.Response:
        if self._template is None or self.session.cookies:
            return self.session.get(self._base + path, params=params, auth=self._auth, timeout=timeout,
                                    verify=self._verify, proxies=self._proxies, stream=True)
        return self.session.send(self.prepared(path, params), timeout=timeout, allow_redirects=True,
                                 **self._send_settings)

    def prepared(self, path: str, params: dict) -> requests.PreparedRequest:
        """The request ``Session.get`` would prepare for ``path`` and ``params`` (str and int values), made
        from the template: the path (written with ``quote``) and the query (``urlencode``, as requests
        encodes them) need none of the requoting requests does."""
        request = requests.PreparedRequest()
        request.method = "GET"
        request.url = f"{self._template.url}{path}?{urlencode(params)}" if params else self._template.url + path
        request.headers = self._template.headers.copy()
        request._cookies = self._template._cookies  # empty; a redirect copies it before use
        request.hooks = self._template.hooks
        return request

    def _prepare_base(self) -> requests.PreparedRequest | None:
        """The base URL's request as requests prepares it (headers, the key's Authorization, hooks);
        None if requests cannot (a host it refuses): then every GET takes ``Session.get``, which
        reports that as it always has, request by request."""
        try:
            return self.session.prepare_request(requests.Request("GET", self._base, auth=self._auth))
        except (requests.RequestException, ValueError):
            return None
