"""HTTPS clients read their CA bundle once a process (``logfwd.https``), against a real TLS loopback
server: every run's new connections reuse it, and what is verified is what requests verifies."""

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from logfwd import https
from logfwd.checkpoints.couchdb import CouchDBStore
from logfwd.errors import CheckpointError, SourceError
from logfwd.retry import RetryPolicy
from logfwd.sources.openwhisk.api import OpenWhiskAPI
from tlsutil import make_pki

KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:S3cr3t"
PAGE = [{"activationId": f"{n:032x}", "logs": ["hello"]} for n in range(3)]


class _TlsServer:
    def __init__(self, pki, folder):
        paths = pki.write(folder)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = json.dumps(PAGE).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(paths["server_cert"], paths["server_key"])
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.paths = paths
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def pki():
    return make_pki()


@pytest.fixture
def server(pki, tmp_path):
    s = _TlsServer(pki, tmp_path / "pki")
    yield s
    s.close()


@pytest.fixture
def loads(monkeypatch):
    """Counts the CA bundles read into TLS contexts (each test's bundles are new files: never read before)."""
    counted = []
    original = ssl.SSLContext.load_verify_locations

    def counting(self, *args, **kwargs):
        counted.append(args or kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    for name in ("HTTPS_PROXY", "ALL_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    yield counted


def _runs(url, verify, count=3):
    """``count`` runs, each with its own client; each reads pages on two connections at once."""
    for _ in range(count):
        api = OpenWhiskAPI(url, KEY, verify=verify)
        results = []
        threads = [threading.Thread(target=lambda: results.append(api.list_activations("hello"))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [PAGE, PAGE]
        api.close()


def test_the_bundle_is_read_once_over_every_run_and_connection(server, loads):
    _runs(server.url, server.paths["ca"])
    assert loads == [{"cafile": server.paths["ca"]}]


def test_a_plain_requests_session_reads_it_for_every_connection(server, loads):
    # What the adapter saves: the same runs through requests' own session read the bundle each time.
    for _ in range(3):
        with requests.Session() as plain:
            assert plain.get(server.url, verify=server.paths["ca"], timeout=10).json() == PAGE
    assert len(loads) == 3


def test_the_default_bundle_is_requests_own(loads):
    context = https.trust_context(requests.utils.DEFAULT_CA_BUNDLE_PATH)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.get_ca_certs()
    assert https.trust_context(requests.utils.DEFAULT_CA_BUNDLE_PATH) is context


def test_an_untrusted_server_is_refused_every_time(server, loads, tmp_path):
    other = tmp_path / "other.pem"
    other.write_text(make_pki().ca)
    for _ in range(2):  # the cached context does not let a second connection through either
        api = OpenWhiskAPI(server.url, KEY, verify=str(other), retry=RetryPolicy(attempts=1))
        with pytest.raises(SourceError, match="TLS verification failed"):
            api.list_activations("hello")


def test_a_host_name_the_certificate_does_not_name_is_refused(loads, tmp_path):
    elsewhere = _TlsServer(make_pki(server_names=("api.example.org",)), tmp_path / "elsewhere")
    try:
        api = OpenWhiskAPI(elsewhere.url, KEY, verify=elsewhere.paths["ca"], retry=RetryPolicy(attempts=1))
        with pytest.raises(SourceError, match="TLS verification failed"):
            api.list_activations("hello")
    finally:
        elsewhere.close()


def test_a_bundle_that_is_not_pem_is_a_clear_error_on_every_run_and_is_not_kept(server, loads, tmp_path):
    bad = tmp_path / "not-a-bundle.pem"
    bad.write_text("this is not a certificate\n")
    for _ in range(2):  # the second run fails the same way: nothing empty was kept for the bundle
        api = OpenWhiskAPI(server.url, KEY, verify=str(bad), retry=RetryPolicy(attempts=1))
        with pytest.raises(SourceError, match="TLS verification failed"):
            api.list_activations("hello")
    assert https.trust_context(str(bad)) is None
    assert OpenWhiskAPI(server.url, KEY, verify=server.paths["ca"]).list_activations("hello") == PAGE


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # verify=False on purpose
def test_verification_off_takes_requests_own_way(server, loads):
    assert OpenWhiskAPI(server.url, KEY, verify=False).list_activations("hello") == PAGE
    assert loads == []


def test_a_bundle_path_that_does_not_exist_is_a_clear_error_not_retried(server, loads, tmp_path, monkeypatch):
    # requests' own error is a bare OSError, which took the whole run down.
    missing = str(tmp_path / "no-such-ca.pem")
    retry = RetryPolicy(attempts=3, initial=0, maximum=0, jitter=0)
    given = OpenWhiskAPI(server.url, KEY, verify=missing, retry=retry)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", missing)
    named = OpenWhiskAPI(server.url, KEY, retry=retry)
    for api in (given, named):
        with pytest.raises(SourceError, match=r"cannot verify https://127\.0\.0\.1:\d+: the CA bundle "
                                              r".*no-such-ca\.pem does not exist: point REQUESTS_CA_BUNDLE") as error:
            api.list_activations("hello")
        assert "api_verify" not in str(error.value)  # a missing file is no reason to turn verification off
        assert api.requests_made == 1  # not retried
    store = CouchDBStore(server.url, "logfwd", retry=retry)
    with pytest.raises(CheckpointError, match=r"cannot verify CouchDB at 127\.0\.0\.1:\d+: the CA bundle "
                                              r".*no-such-ca\.pem does not exist"):
        store.load()
    with https.session() as session, pytest.raises(requests.exceptions.SSLError, match="no-such-ca.pem"):
        session.get(server.url, verify=missing, timeout=10)
    assert loads == []


def test_the_bundle_the_environment_names_is_the_one_verified_against(server, loads, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.paths["ca"])
    assert OpenWhiskAPI(server.url, KEY).list_activations("hello") == PAGE
    other = tmp_path / "other.pem"
    other.write_text(make_pki().ca)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    with pytest.raises(SourceError, match="TLS verification failed"):
        OpenWhiskAPI(server.url, KEY, retry=RetryPolicy(attempts=1)).list_activations("hello")
    assert loads == [{"cafile": server.paths["ca"]}, {"cafile": str(other)}]
