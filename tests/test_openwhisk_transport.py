"""The OpenWhisk client's transport against a real loopback server: the proxy and CA variables are
followed as requests follows them (looked up once, when the client is built: once a run), a page's body
is read whole in one read on a kept-alive connection, and a body cut off is a transient error. The
requests it prepares from its template are those ``Session.get`` prepares; redirects and cookies are
followed as ``Session.get`` follows them."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import responses

from logfwd import https
from logfwd.errors import SourceTransientError
from logfwd.retry import RetryPolicy
from logfwd.sources.openwhisk.api import OpenWhiskAPI
from logfwd.sources.openwhisk.transport import Transport

KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:S3cr3t"
PAGE = [{"activationId": f"{n:032x}", "logs": ["x" * 1000] * 10} for n in range(30)]  # ~300 KB


class _Server:
    """Answers every GET with ``PAGE`` (or a cut-off body); remembers request lines, client ports and
    Cookie headers. ``/moved/...`` is redirected to ``/...``; ``cookie`` is set on every answer."""

    def __init__(self, cut: bool = False, cookie: str | None = None):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def do_GET(self):
                server.paths.append(self.path)
                server.ports.add(self.client_address[1])
                server.cookies.append(self.headers.get("Cookie"))
                if self.path.startswith("/moved/"):
                    self.send_response(307)
                    self.send_header("Location", self.path[len("/moved"):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(PAGE).encode()
                self.send_response(200)
                if cookie:
                    self.send_header("Set-Cookie", cookie)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if cut:
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                else:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.paths, self.ports, self.cookies = [], set(), []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


@pytest.fixture
def dead_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once closed


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_pages_are_read_whole_on_one_kept_alive_connection(server):
    api = OpenWhiskAPI(server.url, KEY)
    assert [api.list_activations("hello") for _ in range(3)] == [PAGE] * 3
    assert len(server.ports) == 1 and api.requests_made == 3


def test_a_body_cut_off_is_retried_and_then_a_transient_error():
    cut = _Server(cut=True)
    try:
        api = OpenWhiskAPI(cut.url, KEY, retry=RetryPolicy(attempts=2, initial=0, maximum=0, jitter=0))
        with pytest.raises(SourceTransientError, match="gave up after 2 attempts"):
            api.list_activations("hello")
        assert len(cut.paths) == 2
    finally:
        cut.close()


def test_the_proxy_variable_is_followed(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server.url)  # the loopback server plays the proxy
    api = OpenWhiskAPI("http://openwhisk.invalid", KEY)
    assert api.list_activations("hello") == PAGE
    assert server.paths[0].startswith("http://openwhisk.invalid/api/v1/namespaces/_/activations?")


def test_no_proxy_sends_the_host_direct(server, monkeypatch, dead_port):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead_port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    api = OpenWhiskAPI(server.url, KEY)
    assert api.list_activations("hello") == PAGE
    assert server.paths[0].startswith("/api/v1/namespaces/_/activations?")


def test_the_variables_are_read_once_when_the_client_is_built(server, monkeypatch, dead_port):
    api = OpenWhiskAPI(server.url, KEY)  # built without a proxy: a run's client keeps that for the run
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead_port}")
    assert api.list_activations("hello") == PAGE
    later = OpenWhiskAPI(server.url, KEY, retry=RetryPolicy(attempts=1))  # the next run's client sees it
    with pytest.raises(SourceTransientError, match="ProxyError|ConnectionError"):
        later.list_activations("hello")


@responses.activate
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_ca_bundle_variables_are_followed_unless_verification_is_off(variable, monkeypatch):
    monkeypatch.setenv(variable, "/etc/our-ca.pem")
    responses.get("https://openwhisk.example.com/api/v1/namespaces/_/activations", json=[])
    OpenWhiskAPI("openwhisk.example.com", KEY).list_activations()
    OpenWhiskAPI("openwhisk.example.com", KEY, verify="/etc/given.pem").list_activations()
    OpenWhiskAPI("openwhisk.example.com", KEY, verify=False).list_activations()
    assert [call.request.req_kwargs["verify"] for call in responses.calls] == [
        "/etc/our-ca.pem", "/etc/given.pem", False]


def test_a_body_a_response_hook_read_first_is_still_read_whole(server):

    def reads_the_body(response, *args, **kwargs):
        assert response.content  # e.g. a hook that logs or counts what was read

    session = requests.Session()
    session.hooks["response"].append(reads_the_body)
    assert OpenWhiskAPI(server.url, KEY, session=session).list_activations("hello") == PAGE


AUTH = tuple(KEY.split(":", 1))


@pytest.mark.parametrize("base", ["http://127.0.0.1:3233/api/v1", "https://OpenWhisk.Example.com/api/v1",
                                  "https://example.com/a path/api/v1", "https://bücher.example/api/v1"])
@pytest.mark.parametrize("path, params", [
    ("", {}),
    ("/namespaces/_/activations", {"name": "hello", "since": 1700000000000, "upto": 1700000000999,
                                   "limit": 200, "skip": 400, "docs": "true"}),
    ("/namespaces/a%40b.c/activations", {"name": "pkg/a b+c&d=é%~", "count": "true"}),
    ("/namespaces/_/actions/pkg/%C3%A9t%C3%A9", {"code": "false"}),
])
def test_a_prepared_request_is_the_one_session_get_prepares(base, path, params):
    session = https.session()
    transport = Transport(session, base, AUTH, True, own_session=True)
    ours = transport.prepared(path, params)
    theirs = session.prepare_request(requests.Request("GET", base + path, params=params, auth=AUTH))
    assert (ours.method, ours.url, ours.body, ours.hooks) == (theirs.method, theirs.url, theirs.body, theirs.hooks)
    assert dict(ours.headers) == dict(theirs.headers) and "Authorization" in ours.headers
    assert ours.headers is not transport.prepared(path, params).headers  # each request its own


def test_a_redirect_is_followed(server):
    api = OpenWhiskAPI(server.url + "/moved", KEY)
    assert api.list_activations("hello") == PAGE
    assert server.paths[0].startswith("/moved/api/v1/namespaces/_/activations?name=hello&")
    assert server.paths[1] == server.paths[0][len("/moved"):]


def test_a_cookie_the_server_sets_is_sent_back_as_session_get_sends_it():
    server = _Server(cookie="route=b7")
    try:
        api = OpenWhiskAPI(server.url, KEY)
        assert [api.list_activations("hello") for _ in range(3)] == [PAGE] * 3
        plain = OpenWhiskAPI(server.url, KEY, session=requests.Session())  # Session.get on every request
        assert [plain.list_activations("hello") for _ in range(3)] == [PAGE] * 3
        assert server.cookies == [None, "route=b7", "route=b7"] * 2
    finally:
        server.close()


def test_a_host_requests_refuses_is_reported_on_each_request_as_before():
    api = OpenWhiskAPI("http://example.com:99999", KEY, retry=RetryPolicy(attempts=1))
    assert api._transport._template is None  # no template: each request takes Session.get, which refuses it
    for _ in range(2):
        with pytest.raises(SourceTransientError, match="InvalidURL"):
            api.list_activations("hello")


@responses.activate
def test_the_send_settings_are_those_session_get_gives(monkeypatch):
    # stream, verify, proxies, cert and timeout reach the adapter as Session.get hands them over.
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "elsewhere.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/our-ca.pem")
    responses.get("https://openwhisk.example.com/api/v1/namespaces/_/activations", json=[])
    own = OpenWhiskAPI("openwhisk.example.com", KEY)  # the template, Session.send
    given = OpenWhiskAPI("openwhisk.example.com", KEY, session=requests.Session())  # Session.get every time
    assert own._transport._template is not None and given._transport._template is None
    own.list_activations("hello")
    given.list_activations("hello")
    fast, plain = (call.request.req_kwargs for call in responses.calls)
    assert fast == plain
    assert fast["stream"] is True and fast["verify"] == "/etc/our-ca.pem"
    assert fast["proxies"]["https"] == "http://proxy.example:3128"
