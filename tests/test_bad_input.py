"""Bad input, end to end: each case is either forwarded (flagged and counted) or answered with an error
that names the record, parameter or host and what to do. In every case the rest of the run is delivered,
the checkpoint stays true, and no secret shows up in what the forwarder says.

The emulator plays OpenWhisk and the receiver plays Logstash. What the emulator cannot produce (missing
fields, bytes that are not UTF-8, HTML pages, cut bodies) comes from ``TamperingProxy``, a loopback HTTP
server between the forwarder and the emulator; what the receiver cannot do (garbage, impossible ACKs)
comes from ``ScriptedPeer``.
"""

import json
import logging
import random
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import pytest
import requests

from logfwd.codecs.lumberjack import Event, FrameDecoder, Window, encode_ack
from logfwd_dev.emulator.server import Emulator
from logfwd.errors import ConfigError, LogfwdError
from logfwd_dev.receiver.server import Receiver
from logfwd.retry import NO_WAIT, RetryPolicy
from logfwd.runner import run_once
from logfwd.settings import load_settings
from logfwd.sinks.tls import server_context

from fakes import T0
from tlsutil import make_pki

SETTLED = int((T0 - 1000) * 1000)  # older than the overlap window: read oldest first, `since` moves past it
LIVE = int((T0 - 100) * 1000)  # inside the overlap window: re-read by every run
API_KEY = "6e1c5a52-9f0b-4c8e-a1f2-3d4b5c6d7e8f:KeY0fTheTestNamespace4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
WRONG_KEY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d:NotTheRightKey7f6e5d4c3b2a1908f7e6d5c4b3a2919f8e7d6c5b4a3f2e1d"
FIELD_TOKEN = "logzio-token-Qm9vWmFwU2VjcmV0VG9rZW4"
THREE_TRIES = RetryPolicy(attempts=3, initial=0, maximum=0, jitter=0)


# --- the world ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def every_log_record(caplog):
    caplog.set_level(logging.DEBUG)  # secrets must stay out of the debug log too



@pytest.fixture
def emulator(clock):
    with Emulator(clock=clock, api_key=API_KEY, rng=random.Random(7)) as emu:
        yield emu



def params(api_url: str, logstash: tuple, tmp_path, **extra) -> dict:
    return {"apihost": api_url, "api_key": API_KEY, "actions": "*", "logstash_tls": "false",
            "logstash_hosts": f"{logstash[0]}:{logstash[1]}", "fields": {"token": FIELD_TOKEN},
            "checkpoint": f"file:{tmp_path / 'checkpoint.json'}", "initial_lookback": "7200", **extra}


def forward(api_url: str, logstash: tuple, tmp_path, clock, retry=NO_WAIT, **extra) -> dict:
    settings = load_settings(params(api_url, logstash, tmp_path, **extra), {}, None)
    return run_once(settings, clock=clock, retry=retry)


def attempt(api_url: str, logstash: tuple, tmp_path, clock, retry=NO_WAIT, **extra) -> tuple[dict | None, str]:
    """A pass that is expected to fail: its summary (None if it stopped with an error) and what it said."""
    try:
        summary = forward(api_url, logstash, tmp_path, clock, retry, **extra)
    except LogfwdError as exc:
        return None, str(exc)
    assert not summary["ok"], summary
    return summary, " | ".join(summary.get("errors", []))


def assert_no_secrets(*texts: str, extra: tuple[str, ...] = ()) -> None:
    secrets = (API_KEY, API_KEY.partition(":")[2], WRONG_KEY, WRONG_KEY.partition(":")[2], FIELD_TOKEN, *extra)
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:300]}"


def say(summary: dict | None, caplog) -> str:
    """Everything the forwarder told the user: the summary and its log."""
    return json.dumps(summary) + "\n" + caplog.text


def log_line(i: int, text: str) -> str:
    return f"2023-11-14T22:13:20.{i:09d}Z stdout: {text}"


def ids(events: list[dict]) -> list[str]:
    return [event["@metadata"]["_id"] for event in events]


def produced_ids(emulator, skip: set[str] = frozenset()) -> set[str]:
    return {f"guest/{a['activationId']}:{i}" for a in emulator.produced() if a["activationId"] not in skip
            for i in range(a["lines"])}


def cursors(tmp_path) -> dict:
    return json.loads((tmp_path / "checkpoint.json").read_text())["source"]["actions"]


def unmoved(actions: dict, clock, names=("hello", "shop/cart")) -> bool:
    """True if the cursors of ``names`` are still where a first run starts (actions without records
    may move on: they had nothing to deliver)."""
    first = {"since": int((clock.now - 7200) * 1000), "seen": ""}
    return all(actions[name] == first for name in names)


def add_normal(emulator, count: int = 3, start: int = SETTLED, names=("hello", "shop/cart")) -> None:
    for i in range(count):
        for name in names:
            emulator.add_activation(name, start_ms=start + i * 1000, lines=2)


# --- a broken front between the forwarder and the API -------------------------------------------


@dataclass
class Answer:
    body: bytes
    status: int = 200
    content_type: str = "application/json"
    length: int | None = None  # a Content-Length larger than the body: the connection is cut mid-body


class TamperingProxy:
    """Forwards GETs to ``upstream`` and lets ``tamper(path, status, body)`` replace the answer.

    ``tamper`` returns an ``Answer`` to send instead, or None to pass the upstream answer through.
    """

    def __init__(self, upstream: str, tamper: Callable[[str, int, bytes], Answer | None]):
        self.upstream, self.tamper = upstream, tamper
        self.paths: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                proxy.paths.append(self.path)
                reply = requests.get(proxy.upstream + self.path, timeout=30,
                                     headers={"Authorization": self.headers.get("Authorization", "")})
                answer = proxy.tamper(self.path, reply.status_code, reply.content)
                answer = answer or Answer(reply.content, reply.status_code, reply.headers["Content-Type"])
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(answer.length or len(answer.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer.body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def __enter__(self) -> "TamperingProxy":
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def rewrite_records(change: Callable[[list], list]) -> Callable[[str, int, bytes], Answer | None]:
    """A tamper function that edits the records of every full activations listing."""
    def tamper(path: str, status: int, body: bytes) -> Answer | None:
        if status != 200 or "/activations?" not in path or "docs=true" not in path:
            return None
        return Answer(json.dumps(change(json.loads(body))).encode())
    return tamper


# --- records with missing or wrongly typed fields -----------------------------------------------


def test_records_without_activation_id_or_start_are_reported_and_the_rest_is_forwarded(
        emulator, receiver, tmp_path, clock, caplog):
    add_normal(emulator)
    no_id = emulator.add_activation("hello", start_ms=SETTLED + 500, lines=2)["activationId"]
    no_start = emulator.add_activation("hello", start_ms=LIVE, lines=2)["activationId"]

    def strip(records: list) -> list:
        for record in records:
            if record["activationId"] == no_start:
                del record["start"]
            if record["activationId"] == no_id:
                del record["activationId"]
        return records

    clock.now += 5
    with TamperingProxy(emulator.url, rewrite_records(strip)) as proxy:
        summary, said = attempt(proxy.url, receiver.address, tmp_path, clock)
    assert "hello" in said and "has no 'activationId'; it was not forwarded" in said
    assert f"activationId='{no_start}'" in said and "no usable 'start'" in said
    assert sorted(ids(receiver.events)) == sorted(produced_ids(emulator, skip={no_id, no_start}))
    assert summary["events"] == 12
    assert_no_secrets(say(summary, caplog))

    # The same records again: nothing forwarded twice, nothing else lost.
    clock.now += 5
    with TamperingProxy(emulator.url, rewrite_records(strip)) as proxy:
        again = forward(proxy.url, receiver.address, tmp_path, clock)
    assert again["events"] == 0 and len(receiver.events) == 12
    assert_no_secrets(json.dumps(again))


@pytest.mark.parametrize("field, value", [
    ("start", "1699999900000"),
    ("start", None),
    ("start", True),
    ("start", -5),
])
def test_a_start_that_is_not_epoch_milliseconds_is_reported_with_the_record(
        emulator, receiver, tmp_path, clock, field, value, caplog):
    add_normal(emulator)
    bad = emulator.add_activation("shop/cart", start_ms=SETTLED + 1500, lines=3, **{field: value})["activationId"]
    clock.now += 5
    summary, said = attempt(emulator.url, receiver.address, tmp_path, clock)
    assert "action 'shop/cart'" in said and f"activationId='{bad}'" in said and "'start'" in said
    assert repr(value) in said  # says what it got
    assert set(ids(receiver.events)) == produced_ids(emulator, skip={bad})
    assert_no_secrets(say(summary, caplog))
    clock.now += 60
    assert forward(emulator.url, receiver.address, tmp_path, clock)["events"] == 0  # nothing left behind


def events_of(receiver, activation_id: str) -> list[dict]:
    return sorted((e for e in receiver.events if e["faas"]["execution"] == activation_id),
                  key=lambda e: e["log"]["offset"])


def test_oddly_shaped_logs_are_forwarded_as_text_and_flagged(emulator, receiver, tmp_path, clock):
    logs_dict = emulator.add_activation("hello", start_ms=SETTLED, logs={"level": "info", "msg": "hi"})
    logs_text = emulator.add_activation("hello", start_ms=SETTLED + 1,
                                        logs=log_line(1, "first") + "\n" + log_line(2, "second"))
    not_strings = emulator.add_activation("hello", start_ms=SETTLED + 2,
                                          lines=[7, None, {"k": [1, 2]}, log_line(3, "a real line")])
    clock.now += 5
    summary = forward(emulator.url, receiver.address, tmp_path, clock)
    assert summary["ok"] and summary["records"] == 3 and summary["events"] == 7, summary
    assert summary["lines_unparsed"] == 4

    [one] = events_of(receiver, logs_dict["activationId"])
    assert json.loads(one["message"]) == {"level": "info", "msg": "hi"} and one["logfwd"] == {"unparsed": True}
    assert [e["message"] for e in events_of(receiver, logs_text["activationId"])] == ["first", "second"]
    assert [e["message"] for e in events_of(receiver, not_strings["activationId"])] == [
        "7", "null", '{"k": [1, 2]}', "a real line"]
    assert set(ids(receiver.events)) == {f"guest/{r['activationId']}:{i}" for r, n in
                                        ((logs_dict, 1), (logs_text, 2), (not_strings, 4)) for i in range(n)}


@pytest.mark.parametrize("field, value", [
    ("annotations", {"key": "kind", "value": "python:3.11"}),
    ("annotations", "path=guest/hello"),
    ("annotations", [None, 5, {"key": 3}, {"value": "no key"}]),
    ("response", None),
    ("response", "success"),
    ("duration", "12ms"),
    ("namespace", 42),
])
def test_other_odd_fields_are_left_out_and_the_lines_forwarded(emulator, receiver, tmp_path, clock, field, value):
    add_normal(emulator, count=1)
    odd = emulator.add_activation("hello", start_ms=SETTLED + 5000, lines=2, **{field: value})["activationId"]
    clock.now += 5
    summary = forward(emulator.url, receiver.address, tmp_path, clock)
    assert summary["ok"], summary
    assert set(ids(receiver.events)) == produced_ids(emulator)
    assert [e["log"]["offset"] for e in events_of(receiver, odd)] == [0, 1]


def test_list_entries_that_are_not_objects_are_reported_and_skipped(emulator, receiver, tmp_path, clock, caplog):
    add_normal(emulator)
    clock.now += 5
    with TamperingProxy(emulator.url, rewrite_records(lambda records: records + ["oops", 17, None, [1]])) as proxy:
        summary, said = attempt(proxy.url, receiver.address, tmp_path, clock)
    assert "record that is not an object: 'oops'" in said and "'17'" in said
    assert set(ids(receiver.events)) == produced_ids(emulator)
    assert_no_secrets(say(summary, caplog))


# --- text that is not valid Unicode -------------------------------------------------------------


def test_bytes_that_are_not_utf8_are_replaced_and_the_line_forwarded(emulator, receiver, tmp_path, clock):
    bad = emulator.add_activation("hello", start_ms=SETTLED, lines=[
        log_line(1, "before MARK after"), log_line(2, "café → menu")])["activationId"]
    add_normal(emulator)
    clock.now += 5
    breaks_utf8 = lambda path, status, body: (  # noqa: E731
        Answer(body.replace(b"MARK", b"\xff\xc3(\xed\xa0\x80")) if b"MARK" in body else None)
    with TamperingProxy(emulator.url, breaks_utf8) as proxy:
        summary = forward(proxy.url, receiver.address, tmp_path, clock)
    assert summary["ok"], summary
    first, second = events_of(receiver, bad)
    assert first["message"].startswith("before ") and first["message"].endswith(" after")
    assert "\ufffd" in first["message"]
    assert second["message"] == "café → menu"  # the valid text of the same answer is intact
    assert set(ids(receiver.events)) == produced_ids(emulator)


def test_a_lone_surrogate_escape_does_not_poison_the_window(emulator, receiver, tmp_path, clock):
    bad = emulator.add_activation("hello", start_ms=SETTLED, lines=[log_line(1, "x MARK y")])["activationId"]
    add_normal(emulator)
    clock.now += 5
    surrogate = lambda path, status, body: (  # noqa: E731
        Answer(body.replace(b"MARK", rb"\ud800 and \udfff")) if b"MARK" in body else None)
    with TamperingProxy(emulator.url, surrogate) as proxy:
        summary = forward(proxy.url, receiver.address, tmp_path, clock)
    assert summary["ok"], summary
    [event] = events_of(receiver, bad)
    assert event["message"].startswith("x ") and event["message"].endswith(" and ? y")
    assert set(ids(receiver.events)) == produced_ids(emulator)


# --- sizes ---------------------------------------------------------------------------------------


def test_a_10_mb_line_is_truncated_flagged_and_counted(emulator, receiver, tmp_path, clock):
    huge = "é" + "x" * (10 * 1024 * 1024)
    big = emulator.add_activation("hello", start_ms=SETTLED, lines=[log_line(0, "small"), log_line(1, huge)])
    add_normal(emulator)
    clock.now += 5
    summary = forward(emulator.url, receiver.address, tmp_path, clock)
    assert summary["ok"] and summary["lines_truncated"] == 1, summary
    small, cut = events_of(receiver, big["activationId"])
    assert small["message"] == "small" and "logfwd" not in small
    kept = cut["message"].encode()
    assert len(kept) <= 1024 * 1024 and huge.encode().startswith(kept)
    assert cut["logfwd"]["truncated_bytes"] == len(huge.encode()) - len(kept)
    assert cut["@timestamp"] == "2023-11-14T22:13:20.000000001Z"  # still parsed: only the message was cut
    assert set(ids(receiver.events)) == produced_ids(emulator)


def test_an_activation_with_100000_lines_is_delivered_whole_in_several_windows(emulator, receiver, tmp_path, clock):
    busy = emulator.add_activation("etl/ingest", start_ms=SETTLED, lines=100_000)["activationId"]
    add_normal(emulator, count=2)
    clock.now += 5
    # Plain frames: the emulator, the forwarder and the receiver share this process, so spare them zlib.
    summary = forward(emulator.url, receiver.address, tmp_path, clock, compression_level="0")
    assert summary["ok"] and summary["events"] == 100_008, summary
    assert summary["batches"] >= 100_000 // 2048
    offsets = [e["log"]["offset"] for e in receiver.events if e["faas"]["execution"] == busy]
    assert sorted(offsets) == list(range(100_000))
    assert sorted(ids(receiver.events)) == sorted(produced_ids(emulator))
    assert forward(emulator.url, receiver.address, tmp_path, clock)["events"] == 0


# --- an API that answers something unusable ------------------------------------------------------


HTML = b"<html><head><title>Sign in</title></head><body>Please sign in to continue</body></html>"


def break_action(name: str, answer: Callable[[bytes], Answer]) -> Callable[[str, int, bytes], Answer | None]:
    quoted = requests.utils.quote(name, safe="")
    return lambda path, status, body: answer(body) if f"name={quoted}&" in path + "&" else None


@pytest.mark.parametrize("answer", [
    pytest.param(lambda body: Answer(HTML, content_type="text/html"), id="html"),
    pytest.param(lambda body: Answer(body[: len(body) // 2]), id="truncated-json"),
    pytest.param(lambda body: Answer(body[: len(body) // 2], length=len(body)), id="cut-connection"),
])
def test_an_api_answering_garbage_for_one_action_leaves_its_checkpoint_and_the_others_go_on(
        emulator, receiver, tmp_path, clock, caplog, answer):
    add_normal(emulator)
    clock.now += 5
    assert forward(emulator.url, receiver.address, tmp_path, clock)["ok"]
    before = cursors(tmp_path)

    add_normal(emulator, start=LIVE + 5000)
    clock.now += 5
    with TamperingProxy(emulator.url, break_action("shop/cart", answer)) as proxy:
        summary, said = attempt(proxy.url, receiver.address, tmp_path, clock, retry=THREE_TRIES)
        broken_calls = [p for p in proxy.paths if "name=shop%2Fcart" in p]
    assert summary is not None, said  # the pass went on: it did not stop at the broken action
    assert "action 'shop/cart'" in said and f"GET {proxy.url}/api/v1/namespaces/_/activations" in said
    assert "gave up after 3 attempts" in said and len(broken_calls) == 3
    after = cursors(tmp_path)
    assert after["shop/cart"] == before["shop/cart"]
    assert after["hello"] != before["hello"] and summary["actions"]["hello"]["activations"] == 3
    assert_no_secrets(say(summary, caplog))

    clock.now += 5
    assert forward(emulator.url, receiver.address, tmp_path, clock)["ok"]
    assert sorted(ids(receiver.events)) == sorted(produced_ids(emulator))


def test_an_actions_listing_with_entries_that_are_not_actions_is_answered_not_a_crash(
        emulator, receiver, tmp_path, clock, caplog):
    add_normal(emulator)
    clock.now += 5

    def odd_listing(path: str, status: int, body: bytes) -> Answer | None:
        if "/actions?" not in path:
            return None
        return Answer(json.dumps(json.loads(body) + [{"namespace": "guest"}, "x"]).encode())

    with TamperingProxy(emulator.url, odd_listing) as proxy:
        try:
            summary = forward(proxy.url, receiver.address, tmp_path, clock)
        except LogfwdError as exc:  # stopping with a clear error is one fair answer...
            summary, said = None, str(exc)
        else:  # ...skipping the odd entries with a word about them is another
            said = json.dumps(summary.get("errors", []) + summary.get("warnings", []))
            assert set(ids(receiver.events)) == produced_ids(emulator)
    assert f"{proxy.url}/api/v1/namespaces/_/actions" in said
    assert_no_secrets(said, say(summary, caplog))


@pytest.mark.parametrize("answer", [
    pytest.param(Answer(b'{"error":"The requested resource does not exist.","code":"4b1d"}', status=404), id="404"),
    pytest.param(Answer(b'{"logs":"the log store answered in a shape nobody expected"}'), id="logs-not-a-list"),
])
def test_one_activation_whose_separate_logs_are_unusable_does_not_hold_back_the_others(
        clock, receiver, tmp_path, caplog, answer):
    # Deployments with an external log store keep logs out of the records: each is read from /logs.
    with Emulator(clock=clock, api_key=API_KEY, external_logs=True, rng=random.Random(8)) as emulator:
        add_normal(emulator, count=2, names=("hello",))
        bad = emulator.add_activation("hello", start_ms=SETTLED + 1500, lines=2)["activationId"]
        add_normal(emulator, count=2, start=SETTLED + 3000, names=("hello",))
        add_normal(emulator, count=2, start=LIVE, names=("hello",))
        clock.now += 5
        unusable = lambda path, status, body: answer if f"/activations/{bad}/logs" in path else None  # noqa: E731
        with TamperingProxy(emulator.url, unusable) as proxy:
            summary, said = attempt(proxy.url, receiver.address, tmp_path, clock)
            clock.now += 60
            later = forward(proxy.url, receiver.address, tmp_path, clock)  # at the latest by the next run
        assert bad in said and "action 'hello'" in said
        assert set(ids(receiver.events)) == produced_ids(emulator, skip={bad})
        assert_no_secrets(say(summary, caplog), json.dumps(later))


# --- a receiver that breaks the protocol ---------------------------------------------------------


class ScriptedPeer:
    """A Lumberjack server that answers every complete window with ``reply(count)``; keeps nothing."""

    def __init__(self, reply: Callable[[int], bytes]):
        self.reply = reply
        self.windows = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = self.listener.getsockname()[:2]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        decoder, expected, seen = FrameDecoder(), 0, 0
        with conn:
            try:
                while data := conn.recv(65536):
                    for frame in decoder.feed(data):
                        if isinstance(frame, Window):
                            expected, seen = frame.count, 0
                        elif isinstance(frame, Event):
                            seen += 1
                            if seen == expected:
                                self.windows += 1
                                conn.sendall(self.reply(expected))
            except OSError:
                return

    def __enter__(self) -> "ScriptedPeer":
        return self

    def __exit__(self, *exc) -> None:
        self.listener.close()


@pytest.mark.parametrize("reply, complaint, attempts", [
    # HTTP is not Lumberjack, and retrying will not make it so: one attempt, and the cause named.
    pytest.param(lambda count: b"HTTP/1.1 400 Bad Request\r\n\r\n",
                 r"answered with HTTP: it is not a Beats \(Lumberjack\) input.*version byte 'H'", 1, id="http"),
    pytest.param(lambda count: encode_ack(count + 1), r"protocol error from .*\b4\b.* window of 3\b", 3,
                 id="ack-above-window"),
    pytest.param(lambda count: b"2W\x00\x00\x00\x01", r"protocol error from .*'W'", 3, id="client-frame"),
])
def test_a_receiver_breaking_the_protocol_moves_nothing_and_a_good_one_gets_everything(
        emulator, tmp_path, clock, caplog, reply, complaint, attempts):
    add_normal(emulator, count=3)
    emulator.add_activation("hello", start_ms=LIVE, lines=2)
    clock.now += 5
    with ScriptedPeer(reply) as peer:
        summary, said = attempt(emulator.url, peer.address, tmp_path, clock, retry=THREE_TRIES, batch_size="3")
        assert peer.windows == attempts * 2  # every attempt got as far as the first ACK, two windows in flight
    host = "127.0.0.1:%d" % peer.address[1]
    assert f"{host}" in said and re.search(complaint, said), said
    assert "0 of 6 events acknowledged" in said
    assert summary["records"] == 0 and summary["more"]
    assert unmoved(cursors(tmp_path), clock)
    assert_no_secrets(say(summary, caplog))

    with Receiver() as good:
        assert forward(emulator.url, good.address, tmp_path, clock)["ok"]
        assert sorted(ids(good.events)) == sorted(produced_ids(emulator))


# --- TLS and credentials -------------------------------------------------------------------------


def test_a_certificate_for_another_host_is_refused_and_nothing_moves(emulator, tmp_path, clock, caplog):
    add_normal(emulator)
    clock.now += 5
    other = make_pki(server_names=("other.example",))
    files = other.write(tmp_path)
    mutual = dict(logstash_tls="true", logstash_ca=other.ca, logstash_cert=files["client_cert"],
                  logstash_key=files["client_key"])
    key_body = other.client_key.splitlines()[1]  # a line of the key itself, not its armour
    with Receiver(ssl_context=server_context(other.server_cert, other.server_key)) as wrong:
        summary, said = attempt(emulator.url, wrong.address, tmp_path, clock, retry=THREE_TRIES, **mutual)
        assert wrong.events == []
    assert f"127.0.0.1:{wrong.address[1]}" in said and "after 1 attempt(s)" in said
    assert "not valid for the name '127.0.0.1'" in said
    assert unmoved(cursors(tmp_path), clock)
    assert_no_secrets(say(summary, caplog), extra=(key_body,))

    right = make_pki()
    with Receiver(ssl_context=server_context(right.server_cert, right.server_key)) as good:
        assert forward(emulator.url, good.address, tmp_path, clock, logstash_tls="true", logstash_ca=right.ca)["ok"]
        assert sorted(ids(good.events)) == sorted(produced_ids(emulator))


@pytest.mark.parametrize("actions", ["*", "hello,shop/cart"])
def test_wrong_api_credentials_name_host_and_namespace_but_never_the_key(
        emulator, receiver, tmp_path, clock, caplog, actions):
    add_normal(emulator)
    clock.now += 5
    (tmp_path / "checkpoint.json").write_text('{"format": 1, "source": null}')
    summary, said = attempt(emulator.url, receiver.address, tmp_path, clock, api_key=WRONG_KEY, actions=actions,
                            namespace="guest")
    assert f"OpenWhisk at {emulator.url}, namespace 'guest' refused the API key (HTTP 401)" in said
    assert "provide-api-key" in said and "wsk property get --auth" in said
    assert receiver.events == []
    source = json.loads((tmp_path / "checkpoint.json").read_text())["source"]
    assert source is None or unmoved(source["actions"], clock)
    assert_no_secrets(said, say(summary, caplog))


# --- checkpoint parameter and file ---------------------------------------------------------------


@pytest.mark.parametrize("spec, shown", [
    ("s3://bucket/logfwd.json", "scheme 's3'"),
    ("mongodb://admin:Pa55w0rd-secret@db.example/logfwd", "scheme 'mongodb'"),
    ("state/checkpoint.json", "'state/checkpoint.json'"),
])
def test_an_unknown_checkpoint_store_is_a_config_error_naming_checkpoint(emulator, receiver, tmp_path, clock,
                                                                         spec, shown):
    add_normal(emulator)
    clock.now += 5
    with pytest.raises(ConfigError) as failure:
        forward(emulator.url, receiver.address, tmp_path, clock, checkpoint=spec)
    message = str(failure.value)
    assert failure.value.parameter == "checkpoint" and message.startswith("parameter 'checkpoint': unknown store")
    assert shown in message and "file:PATH" in message and "redis://" in message
    assert receiver.events == []
    assert_no_secrets(message, extra=("Pa55w0rd-secret",))


@pytest.mark.parametrize("content, problem", [
    (b'{"format": 1, "source": {"type": "openwh', "is not valid JSON"),
    (b"", "is not valid JSON"),
    (b"\xff\xfe{}", "is not valid JSON"),
    (b'["a list"]', "does not hold a JSON object"),
])
def test_a_corrupt_checkpoint_file_stops_the_run_and_says_what_to_do(emulator, receiver, tmp_path, clock,
                                                                     content, problem):
    add_normal(emulator)
    clock.now += 5
    path = tmp_path / "checkpoint.json"
    path.write_bytes(content)
    summary, said = attempt(emulator.url, receiver.address, tmp_path, clock)
    assert (summary is None or summary["records"] == 0) and f"checkpoint file {path} {problem}" in said and "move it away" in said
    assert path.read_bytes() == content and receiver.events == []  # left for the user to inspect
    assert_no_secrets(said)

    path.rename(tmp_path / "checkpoint.json.broken")  # what the message says to do
    assert forward(emulator.url, receiver.address, tmp_path, clock)["ok"]
    assert sorted(ids(receiver.events)) == sorted(produced_ids(emulator))


def test_a_checkpoint_of_the_wrong_shape_starts_over_with_a_warning(emulator, receiver, tmp_path, clock):
    add_normal(emulator)
    clock.now += 5
    (tmp_path / "checkpoint.json").write_text(json.dumps(
        {"format": 1, "source": {"type": "openwhisk", "namespace": "_", "actions": {"hello": {"since": "yesterday"}}}}))
    summary = forward(emulator.url, receiver.address, tmp_path, clock)
    assert summary["ok"], summary
    assert any("checkpoint unreadable" in w and "'since' of 'hello'" in w and "initial lookback" in w
               for w in summary["warnings"])
    assert sorted(ids(receiver.events)) == sorted(produced_ids(emulator))
