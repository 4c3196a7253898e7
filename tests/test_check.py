"""``logfwd check`` through the real command, against the emulator, the receiver (plain, TLS, mutual
TLS) and each checkpoint store, including each failure it reports; and ``check=true`` in the action.

Nothing is ever forwarded: the receiver gets an event only with ``--send-test-event``, and the
checkpoint is only read.
"""

import contextlib
import http.server
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest

from logfwd.sinks.tls import server_context
from logfwd_dev.receiver.server import Receiver

from clirun import assert_no_traceback, environment, logfwd
from servers import free_port
from tlsutil import make_pki


def params(emulator, receiver, tmp_path, **extra) -> dict:
    host, port = receiver if isinstance(receiver, tuple) else receiver.address
    return {"apihost": emulator.url, "api_key": emulator.api_key, "actions": "hello,shop/*",
            "logstash_hosts": f"{host}:{port}", "logstash_tls": "false",
            "checkpoint": f"file:{tmp_path / 'checkpoint.json'}", **extra}


def check(*flags, **given):
    outcome = logfwd("check", "--json", *flags, params=given)
    assert_no_traceback(outcome)
    return outcome.code, outcome.summary()["checks"]


def lines(checks, area=None, status=None) -> list[str]:
    return [c["found"] for c in checks if (area is None or c["area"].startswith(area))
            and (status is None or c["status"] == status)]


def statuses(checks) -> set[str]:
    return {c["status"] for c in checks}


def test_a_good_configuration_is_all_ok_and_forwards_nothing(live_emulator, receiver, tmp_path):
    code, checks = check(**params(live_emulator, receiver, tmp_path))
    assert code == 0, checks
    assert lines(checks, "openwhisk api", "ok")[0] == f"{live_emulator.url} answers"
    assert "the key is accepted; namespace _ is its default (guest)" in lines(checks, "openwhisk key", "ok")[0]
    assert lines(checks, "monitored actions") == ["'hello' matches 1 action: hello",
                                                  "'shop/*' matches 3 actions: shop/order-flow, shop/cart, shop/checkout"]
    assert lines(checks, "overlap", "ok") and lines(checks, "logstash", "ok") == ["TCP connection accepted"]
    assert lines(checks, "logstash", "skipped") == ["speaks Lumberjack: not tested, nothing was sent"]
    assert "is readable and empty" in lines(checks, "checkpoint", "ok")[0]
    assert any("a stale write is refused" in line for line in lines(checks, "checkpoint", "ok"))
    assert receiver.events == [] and not (tmp_path / "checkpoint.json").exists()
    assert not (tmp_path / "checkpoint.json.check").exists()  # the scratch file is cleaned up


def test_the_text_checklist_has_one_line_per_item_with_the_fix(live_emulator, receiver, tmp_path):
    outcome = logfwd("check", params=params(live_emulator, receiver, tmp_path, actions="hello,helo"))
    assert outcome.code == 0
    text = outcome.out.splitlines()
    assert text[0] == "ok    parameters: source openwhisk, sink lumberjack: every parameter is valid"
    warned = text.index(next(line for line in text if line.startswith("warn  monitored actions: no action 'helo'")))
    assert "did you mean 'hello'" in text[warned] and text[warned + 1].startswith("      -> ")
    assert text[-1] == "0 errors, 2 warnings; nothing was forwarded"  # 'helo', and plain TCP to Logstash


def test_every_parameter_problem_at_once_exit_2(tmp_path):
    code, checks = check(apihost="h", actions="", logstash_hosts="nohost:port", batch_size="0")
    assert code == 2 and statuses(checks) == {"error"}
    problems = " | ".join(lines(checks))
    for name in ("api_key", "actions", "logstash_hosts", "batch_size"):
        assert f"parameter '{name}'" in problems, problems


def test_an_unreachable_api_stops_the_source_checks(receiver, tmp_path):
    code, checks = check(apihost=f"http://127.0.0.1:{free_port()}", api_key="u:k", actions="*",
                         logstash_hosts=f"127.0.0.1:{receiver.address[1]}", logstash_tls="false",
                         checkpoint=f"file:{tmp_path / 'c.json'}")
    assert code == 1
    assert "ConnectionError" in lines(checks, "openwhisk api", "error")[0] and not lines(checks, "openwhisk key")
    assert lines(checks, "logstash", "ok")  # the rest is still checked


def test_an_api_host_without_a_scheme_that_speaks_plain_http(live_emulator, receiver, tmp_path):
    host = live_emulator.url.removeprefix("http://")
    code, checks = check(**params(live_emulator, receiver, tmp_path, apihost=host))
    assert code == 1 and "answers plain HTTP, not HTTPS" in lines(checks, "openwhisk api", "error")[0]


@pytest.mark.parametrize("given, complaint", [
    ({"api_key": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d:NotTheRightKey"}, "refused the API key (HTTP 401)"),
    ({"namespace": "someone-else"}, "(HTTP 403)"),
])
def test_a_refused_key_or_namespace(live_emulator, receiver, tmp_path, given, complaint):
    code, checks = check(**params(live_emulator, receiver, tmp_path, **given))
    assert code == 1 and complaint in lines(checks, "openwhisk key", "error")[0]
    assert "NotTheRightKey" not in json.dumps(checks)


def test_the_monitored_list_says_what_matches_nothing_and_what_is_excluded(live_emulator, receiver, tmp_path):
    code, checks = check(**params(live_emulator, receiver, tmp_path, actions="shop/*,!shop/cart,nosuch,etl/x*"))
    assert code == 0
    assert "'shop/*' matches 2 actions: shop/order-flow, shop/checkout (1 excluded)" in lines(checks, "monitored")
    assert any(line.startswith("no action 'nosuch' exists") for line in lines(checks, "monitored", "warning"))
    assert "'etl/x*' matches no action in the namespace" in lines(checks, "monitored", "warning")


def test_a_list_that_selects_no_existing_action_is_an_error(live_emulator, receiver, tmp_path):
    code, checks = check(**params(live_emulator, receiver, tmp_path, actions="nosuch"))
    assert code == 1 and "nothing to forward" in lines(checks, "monitored", "error")[0]


def test_an_overlap_shorter_than_a_time_limit(live_emulator, receiver, tmp_path):
    code, checks = check(**params(live_emulator, receiver, tmp_path, actions="etl/ingest,hello", overlap="300"))
    warned = [c for c in checks if c["area"] == "overlap"][0]
    assert code == 0 and warned["status"] == "warning"  # 2 x 300 s + 30 s + 2 x 60 s; hello needs 270 s
    assert "etl/ingest (750 s)" in warned["found"] and "hello" not in warned["found"]
    assert "Set overlap to auto, or to at least 750" in warned["fix"]
    code, checks = check(**params(live_emulator, receiver, tmp_path, actions="etl/ingest,hello"))
    [auto] = [c for c in checks if c["area"] == "overlap"]
    assert auto["status"] == "ok" and "etl/ingest 750 s, hello 270 s" in auto["found"]


# --- Logstash ------------------------------------------------------------------------------------


def test_nothing_listens_where_logstash_should_be(live_emulator, tmp_path):
    code, checks = check(**params(live_emulator, ("127.0.0.1", free_port()), tmp_path))
    assert code == 1 and lines(checks, "logstash", "error") == ["connection refused: nothing listens there"]


def test_a_test_event_is_sent_only_when_asked(live_emulator, receiver, tmp_path):
    code, checks = check("--send-test-event", **params(live_emulator, receiver, tmp_path))
    assert code == 0 and len(receiver.events) == 1
    event = receiver.events[0]
    assert event["message"] == "logfwd check: test event" and event["logfwd"] == {"check": True}
    assert f"the test event {event['@metadata']['_id']} was acknowledged" in lines(checks, "logstash", "ok")[-1]


@pytest.fixture
def line_reading_http_server():
    """Python's HTTP server, which (as Go's) reads a whole request line before it answers anything."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def test_a_port_that_speaks_http_fails_the_test_event(live_emulator, line_reading_http_server, tmp_path):
    # One uncompressed event has no line end: the HTTP server waits for the rest of its request line.
    code, checks = check("--send-test-event", **params(live_emulator, line_reading_http_server, tmp_path,
                                                        window_timeout="1", compression_level="0"))
    assert code == 1 and "not a byte came back, is it a Beats input?" in lines(checks, "logstash", "error")[0]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = make_pki()
    return pki, pki.write(tmp_path_factory.mktemp("pki"))


def test_tls_verified_against_the_ca(live_emulator, tmp_path, pki):
    pki, files = pki
    with Receiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as tls_receiver:
        code, checks = check("--send-test-event", **params(live_emulator, tls_receiver, tmp_path, logstash_tls="true",
                                                            logstash_ca=files["ca"]))
        assert len(tls_receiver.events) == 1
    assert code == 0
    assert any(line.startswith("TLS handshake (TLSv1.3): certificate verified for '127.0.0.1'")
               for line in lines(checks, "logstash", "ok")), checks


def test_tls_against_a_ca_that_did_not_sign_the_receiver(live_emulator, tmp_path, pki):
    pki, files = pki
    with Receiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as tls_receiver:
        code, checks = check(**params(live_emulator, tls_receiver, tmp_path, logstash_tls="true",
                                      logstash_ca=files["other_ca"]))
    assert code == 1 and "certificate verify failed" in lines(checks, "logstash", "error")[0]
    assert "check logstash_ca" in lines(checks, "logstash", "error")[0]


def test_plain_tcp_against_a_tls_port_fails_the_test_event(live_emulator, tmp_path, pki):
    pki, files = pki
    with Receiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as tls_receiver:
        code, checks = check("--send-test-event", **params(live_emulator, tls_receiver, tmp_path))
    assert code == 1 and "TLS expected" in lines(checks, "logstash", "error")[0]


def test_mutual_tls_with_and_without_the_client_certificate(live_emulator, tmp_path, pki):
    pki, files = pki
    mutual = server_context(pki.server_cert, pki.server_key, pki.ca, require_client_cert=True)
    with Receiver(ssl_context=mutual) as tls_receiver:
        code, checks = check(**params(live_emulator, tls_receiver, tmp_path, logstash_tls="true",
                                      logstash_ca=files["ca"]))
        assert code == 1 and "rejected our TLS client certificate" in lines(checks, "logstash", "error")[0]
        code, checks = check("--send-test-event", **params(
            live_emulator, tls_receiver, tmp_path, logstash_tls="true", logstash_ca=files["ca"],
            logstash_cert=files["client_cert"], logstash_key=files["client_key"]))
        assert code == 0 and len(tls_receiver.events) == 1
    assert any(line.endswith("client certificate accepted") for line in lines(checks, "logstash", "ok"))


# --- checkpoint stores ---------------------------------------------------------------------------


def test_the_saved_positions_and_one_in_the_future(live_emulator, receiver, tmp_path):
    now_ms = int(time.time() * 1000)
    document = {"format": 1, "saved_at": "2026-01-01T00:00:00.000+00:00",
                "source": {"type": "openwhisk", "namespace": "_", "actions": {
                    "hello": {"since": now_ms - 400_000, "seen": ""},
                    "shop/cart": {"since": now_ms + 86_400_000, "seen": ""}}}}
    (tmp_path / "checkpoint.json").write_text(json.dumps(document))
    code, checks = check(**params(live_emulator, receiver, tmp_path))
    assert code == 0
    assert "saved at 2026-01-01T00:00:00.000+00:00" in lines(checks, "checkpoint", "ok")[0]
    assert any(line.startswith("hello: the next run reads from ") for line in lines(checks, "checkpoint", "ok"))
    assert any("shop/cart: the saved position" in line and "lies in the future" in line
               for line in lines(checks, "checkpoint", "warning"))
    assert json.loads((tmp_path / "checkpoint.json").read_text()) == document  # only read


@pytest.mark.parametrize("content, complaint", [
    ("{nope", "is not valid JSON"),
    ('{"format": 2}', "holds a checkpoint of format 2; this logfwd reads format 1"),
])
def test_a_checkpoint_that_cannot_be_used(live_emulator, receiver, tmp_path, content, complaint):
    (tmp_path / "checkpoint.json").write_text(content)
    code, checks = check(**params(live_emulator, receiver, tmp_path))
    assert code == 1 and complaint in lines(checks, "checkpoint", "error")[0]


def test_a_checkpoint_under_a_file(live_emulator, receiver, tmp_path):
    (tmp_path / "state").write_text("")
    code, checks = check(**params(live_emulator, receiver, tmp_path,
                                  checkpoint=f"file:{tmp_path / 'state' / 'checkpoint.json'}"))
    assert code == 1 and f"{tmp_path / 'state'} is not a folder" in lines(checks, "checkpoint", "error")[0]


@pytest.fixture(params=["couchdb", "redis"])
def durable_store(request):
    """(checkpoint URL, the same with a wrong password, the scratch key's name, the server's password)."""
    if request.param == "couchdb":
        server = request.getfixturevalue("couchdb_server")
        urls = [server.url("couchdb+http", "/logfwd-check-test", **wrong) for wrong in ({}, {"password": "wrong"})]
        return *urls, "logfwd-checkpoint-check", server.password
    server = request.getfixturevalue("redis_server")
    urls = [server.url("redis", "/0?key=check-test", **wrong) for wrong in ({}, {"password": "wrong"})]
    return *urls, "key=check-test:check", server.password


def test_a_durable_store_with_its_lease(live_emulator, receiver, tmp_path, durable_store):
    url, _, scratch, password = durable_store
    code, checks = check(**params(live_emulator, receiver, tmp_path, checkpoint=url))
    assert code == 0, checks
    found = lines(checks, "checkpoint", "ok")
    assert any("a stale write is refused" in line and scratch in line for line in found)
    assert "the lease holds off a second run, and is free again once released" in found
    assert password not in json.dumps(checks)


def test_a_durable_store_with_a_wrong_password(live_emulator, receiver, tmp_path, durable_store):
    _, wrong, _, password = durable_store
    code, checks = check(**params(live_emulator, receiver, tmp_path, checkpoint=wrong))
    assert code == 1 and "cannot be read" in lines(checks, "checkpoint", "error")[0]
    assert "wrong" not in json.dumps(checks) and password not in json.dumps(checks)


# --- inside the deployed action ------------------------------------------------------------------


def invoke_action(action_params: dict, environ: dict) -> dict:
    """The action's entry as OpenWhisk calls it: main(params) in a fresh process with __OW_* variables."""
    code = "import json, sys; from logfwd.entries.openwhisk import main; print(json.dumps(main(json.load(sys.stdin))))"
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(action_params), capture_output=True,
                          text=True, timeout=120, env=environment(**environ))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def test_check_true_in_the_deployed_action(live_emulator, receiver):
    environ = {"__OW_API_HOST": live_emulator.url, "__OW_API_KEY": live_emulator.api_key,
               "__OW_NAMESPACE": "guest", "__OW_ACTION_NAME": "/guest/logfwd/forward",
               "__OW_DEADLINE": str(int(time.time() * 1000) + 60_000), "__OW_ACTIVATION_ID": "a" * 32}
    action_params = {"actions": "*", "logstash_hosts": f"127.0.0.1:{receiver.address[1]}", "logstash_tls": "false",
                     "namespace": "guest", "check": "true"}
    result = invoke_action(action_params, environ)
    assert result["ok"] and "error" not in result, result
    checkpoint = [c for c in result["checks"] if c["area"] == "checkpoint"]
    assert "activation" in checkpoint[0]["found"] and "readable and empty" in checkpoint[0]["found"]
    assert receiver.events == []

    result = invoke_action({**action_params, "logstash_hosts": f"127.0.0.1:{free_port()}"}, environ)
    assert not result["ok"] and "connection refused" in result["error"]


class TlsFront:
    """TLS in front of the emulator (which speaks plain HTTP): each connection is decrypted and passed on."""

    def __init__(self, upstream: tuple[str, int], context: ssl.SSLContext):
        self.upstream, self.context = upstream, context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = "https://localhost:%d" % self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), self.context.wrap_socket(conn, server_side=True) as tls, \
                socket.create_connection(self.upstream) as plain:
            threading.Thread(target=self._pipe, args=(plain, tls), daemon=True).start()
            self._pipe(tls, plain)

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def tls_api(live_emulator, pki):
    pki, files = pki
    address = urlsplit(live_emulator.url)
    front = TlsFront((address.hostname, address.port), server_context(pki.server_cert, pki.server_key))
    yield front, files
    front.close()


def test_an_api_behind_tls_is_verified(live_emulator, receiver, tmp_path, tls_api):
    front, files = tls_api
    given = params(live_emulator, receiver, tmp_path, apihost=front.url)
    outcome = logfwd("check", "--json", params=given, env=environment(REQUESTS_CA_BUNDLE=files["ca"]))
    checks = outcome.summary()["checks"]
    assert outcome.code == 0 and "TLS certificate verified" in lines(checks, "openwhisk api", "ok"), checks

    outcome = logfwd("check", "--json", params=given, env=environment(REQUESTS_CA_BUNDLE=files["other_ca"]))
    failed = lines(outcome.summary()["checks"], "openwhisk api", "error")
    assert outcome.code == 1 and "TLS verification failed" in failed[0], failed

    outcome = logfwd("check", "--json", params={**given, "api_verify": "false"})
    warned = [c for c in outcome.summary()["checks"] if c["area"] == "openwhisk api" and c["status"] == "warning"]
    assert outcome.code == 0 and warned[0]["found"] == "api_verify=false: the API's certificate is not checked"
