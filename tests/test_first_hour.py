"""A newcomer's everyday mistakes, through the real ``logfwd`` command: each gets an answer that names
what is wrong and what to do, never a traceback, and loses nothing.

The emulator (OpenWhisk) and the receiver (Logstash) run in this process on real time; the command
runs as a subprocess, as a user runs it.
"""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from logfwd.checkpoints.file import FileStore
from logfwd.codecs.lumberjack import encode_ack
from logfwd.errors import CheckpointError
from logfwd.sinks.tls import server_context
from logfwd_dev.receiver.server import Receiver

from clirun import assert_no_traceback, environment, logfwd
from test_bad_input import ScriptedPeer
from tlsutil import make_pki


def params(emulator, logstash, tmp_path, **extra) -> dict:
    host, port = logstash if isinstance(logstash, tuple) else logstash.address
    return {"apihost": emulator.url, "api_key": emulator.api_key, "actions": "hello,shop/cart",
            "logstash_hosts": f"{host}:{port}", "logstash_tls": "false", "initial_lookback": "600",
            "checkpoint": f"file:{tmp_path / 'checkpoint.json'}", **extra}


def run(emulator, logstash, tmp_path, *flags, **extra):
    outcome = logfwd("run", "--quiet", *flags, params=params(emulator, logstash, tmp_path, **extra))
    assert_no_traceback(outcome)
    return outcome


# --- the checkpoint ------------------------------------------------------------------------------


@contextlib.contextmanager
def immutable(folder: Path):
    """A folder that not even root may write into (chattr +i), as a read-only folder is to a user."""
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_checkpoint_under_a_file_is_refused_before_anything_is_sent(live_emulator, receiver, tmp_path):
    (tmp_path / "state").write_text("a file, not a folder")
    where = tmp_path / "state" / "checkpoint.json"
    outcome = run(live_emulator, receiver, tmp_path, "--json", checkpoint=f"file:{where}")
    assert outcome.code == 1
    summary = outcome.summary()  # the summary, with the error in it
    assert not summary["ok"] and summary["events"] == 0
    error = " ".join(summary["errors"])
    assert str(where) in error and f"{tmp_path / 'state'} is not a folder" in error
    assert "checkpoint=file:PATH" in error
    assert receiver.events == []  # nothing sent that the next run would have to send again


def test_a_read_only_checkpoint_folder_is_refused_before_anything_is_sent(live_emulator, receiver, tmp_path):
    folder = tmp_path / "state"
    folder.mkdir()
    with immutable(folder):
        outcome = run(live_emulator, receiver, tmp_path, "--json", checkpoint=f"file:{folder / 'checkpoint.json'}")
    assert outcome.code == 1
    error = " ".join(outcome.summary()["errors"])
    assert f"the folder {folder} is not writable" in error and "checkpoint=file:PATH" in error
    assert receiver.events == []


def test_a_checkpoint_folder_that_turns_read_only_mid_run_is_a_checkpoint_error(tmp_path):
    store = FileStore(tmp_path / "checkpoint.json")
    assert store.load() is None
    with immutable(tmp_path), pytest.raises(CheckpointError) as failure:
        store.save({"format": 1})
    assert str(tmp_path / "checkpoint.json") in str(failure.value)
    assert "Operation not permitted" in str(failure.value) and "checkpoint=file:PATH" in str(failure.value)


def test_a_position_in_the_future_is_reported_and_not_trusted(live_emulator, receiver, tmp_path):
    future = int((time.time() + 86400) * 1000)
    document = {"format": 1, "source": {"type": "openwhisk", "namespace": "_",
                                        "actions": {"hello": {"since": future, "seen": ""}}}}
    (tmp_path / "checkpoint.json").write_text(json.dumps(document))
    outcome = run(live_emulator, receiver, tmp_path, "--json", actions="hello")
    summary = outcome.summary()
    assert any("'hello' lies in the future" in w and "not trusted" in w for w in summary["warnings"]), summary
    assert summary["actions"]["hello"]["events"] == 6 and len(receiver.events) == 6  # read from the lookback


# --- the monitored actions -----------------------------------------------------------------------


def test_actions_given_as_a_json_list(live_emulator, receiver, tmp_path):
    outcome = run(live_emulator, receiver, tmp_path, "--json", actions='["hello","shop/cart"]')
    assert outcome.code == 0, outcome.said
    actions = outcome.summary()["actions"]
    assert {name: counts["events"] for name, counts in actions.items()} == {"hello": 6, "shop/cart": 6}


def test_a_broken_json_list_of_actions_says_so(live_emulator, receiver, tmp_path):
    outcome = run(live_emulator, receiver, tmp_path, actions='["hello","shop/cart"')
    assert outcome.code == 2 and "parameter 'actions'" in outcome.err and "not valid JSON" in outcome.err


@pytest.mark.parametrize("name, advice", [
    ("nosuch", "the namespace has: "),
    ("pkg/nosuch", "the namespace has: "),
    ("shop", "did you mean 'shop/*'"),
    ("shop/", "did you mean 'shop/*'"),
    ("helo", "did you mean 'hello'"),
])
def test_a_name_that_no_action_has_is_reported_with_the_closest_names(live_emulator, receiver, tmp_path,
                                                                       name, advice):
    for attempt in range(2):  # the next run says it again: such a name is not taken into the checkpoint
        outcome = run(live_emulator, receiver, tmp_path, "--json", actions=f"hello,{name}")
        summary = outcome.summary()
        warnings = " | ".join(summary.get("warnings", []))
        assert f"no action {name!r} exists" in warnings and advice in warnings, warnings
        assert list(summary["actions"]) == ["hello"]
    assert len(receiver.events) == 6


def test_an_action_is_looked_up_only_while_it_is_new_and_shows_nothing(live_emulator, receiver, tmp_path):
    lookups = lambda: live_emulator.stats()["requests"].get("actions.get", 0)  # noqa: E731
    run(live_emulator, receiver, tmp_path, actions="hello,etl/ingest,nosuch,shop/")
    assert lookups() == 2  # hello has activations: it exists; "shop/" names no action: no need to ask
    run(live_emulator, receiver, tmp_path, actions="hello,etl/ingest,nosuch,shop/")
    assert lookups() == 3  # etl/ingest is known now; nosuch is asked about again


# --- the OpenWhisk API ---------------------------------------------------------------------------


def test_an_api_host_without_a_scheme_that_speaks_plain_http(live_emulator, receiver, tmp_path):
    host = live_emulator.url.removeprefix("http://")
    outcome = run(live_emulator, receiver, tmp_path, "--json", apihost=host)
    error = " ".join(outcome.summary()["errors"])
    assert "answers plain HTTP, not HTTPS" in error and "https was assumed" in error, error
    assert f"apihost=http://{host}" in error and "api_verify" not in error


# --- Logstash ------------------------------------------------------------------------------------


@pytest.fixture
def http_server():
    """An HTTP server that answers as soon as it sees a request it cannot parse, as nginx and Node do:
    "2W..." is no HTTP method."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    conn.recv(1024)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[:2]
    listener.close()


def test_a_logstash_port_that_speaks_http(live_emulator, http_server, tmp_path):
    outcome = run(live_emulator, http_server, tmp_path, "--json")
    error = " ".join(outcome.summary()["errors"])
    assert "answered with HTTP: it is not a Beats (Lumberjack) input" in error, error
    assert "after 1 attempt(s)" in error  # a wrong port does not get better by retrying


def test_plain_tcp_against_a_tls_port(live_emulator, tmp_path):
    pki = make_pki()
    with Receiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as tls_receiver:
        outcome = run(live_emulator, tls_receiver, tmp_path, "--json")
    error = " ".join(outcome.summary()["errors"])
    assert "TLS expected" in error and "set logstash_tls=true" in error, error


def test_a_receiver_that_only_sends_keepalives_is_given_up_after_one_window_timeout(live_emulator, tmp_path):
    with Receiver(ack_delay=300, keepalive_interval=0.1) as blocked:
        outcome = run(live_emulator, blocked, tmp_path, "--json", window_timeout="1")
        connections = blocked.connections
    summary = outcome.summary()
    error = " ".join(summary["errors"])
    assert "after 1 attempt(s)" in error and "timed out waiting for the ACK" in error, error
    assert connections == 1 and summary["events"] == 0


def test_a_send_that_fails_midway_counts_one_truth(live_emulator, tmp_path):
    now_ms = int(time.time() * 1000)
    for i in range(20):
        live_emulator.add_activation("hello", start_ms=now_ms - 120_000 + i, lines=2)
    acked = []

    def ack_the_first_window_only(count: int) -> bytes:  # then a blocked pipeline: keepalives only
        acked.append(count)
        return encode_ack(count if len(acked) == 1 else 0)

    with ScriptedPeer(ack_the_first_window_only) as peer:
        outcome = run(live_emulator, peer.address, tmp_path, "--json", actions="hello", batch_size="10",
                      window_timeout="1")
    summary = outcome.summary()
    assert not summary["ok"] and "10 of 20 events acknowledged" in " ".join(summary["errors"])
    per_action = sum(counts["events"] for counts in summary["actions"].values())
    assert summary["events"] == per_action == 10
    assert summary["records"] == summary["actions"]["hello"]["activations"] == 5


# --- output --------------------------------------------------------------------------------------


def test_a_reader_that_goes_away_early_gets_no_traceback(live_emulator, receiver, tmp_path):
    argv = [sys.executable, "-m", "logfwd", "run", "--quiet",
            *[f"--param={k}={v}" for k, v in params(live_emulator, receiver, tmp_path).items()]]
    reader, writer = os.pipe()  # `| head` that has read what it wanted and is gone
    os.close(reader)
    try:
        done = subprocess.run(argv, stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120, env=environment())
    finally:
        os.close(writer)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 141
    assert len(receiver.events) == 12  # the run itself went through


def test_a_checkpoint_of_another_format_is_neither_trusted_nor_replaced(live_emulator, receiver, tmp_path):
    written = json.dumps({"format": 2, "source": {"cursor": "something newer"}})
    (tmp_path / "checkpoint.json").write_text(written)
    outcome = run(live_emulator, receiver, tmp_path)
    assert outcome.code == 1
    assert "has format 2, and this logfwd reads format 1" in outcome.out and "move the checkpoint away" in outcome.out
    assert (tmp_path / "checkpoint.json").read_text() == written and receiver.events == []


def test_a_list_that_selects_nothing_is_a_configuration_error(live_emulator, receiver, tmp_path):
    outcome = run(live_emulator, receiver, tmp_path, actions="!hello")
    assert outcome.code == 2 and "parameter 'actions': names no action to monitor" in outcome.err


@pytest.mark.parametrize("case", ["wrong key", "corrupt checkpoint", "checkpoint under a file"])
def test_a_run_that_fails_before_sending_prints_its_whole_summary_as_text(live_emulator, receiver, tmp_path, case):
    extra = {"actions": "*"}
    if case == "wrong key":
        extra["api_key"] = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d:NotTheRightKey"
        reason = "refused the API key (HTTP 401)"
    elif case == "corrupt checkpoint":
        (tmp_path / "checkpoint.json").write_text("{nope")
        reason = "is not valid JSON"
    else:
        (tmp_path / "state").write_text("")
        extra["checkpoint"] = f"file:{tmp_path / 'state' / 'checkpoint.json'}"
        reason = "is not a folder"
    outcome = run(live_emulator, receiver, tmp_path, **extra)
    assert outcome.code == 1
    lines = outcome.out.splitlines()
    assert lines[0].startswith("forwarded 0 events from 0 records (0 bytes, 0 on the wire, 0 batches)"), outcome.out
    assert any(line.startswith("  error: ") and reason in line for line in lines), outcome.out
    assert "NotTheRightKey" not in outcome.said


def test_one_batch_is_one_batch(live_emulator, receiver, tmp_path):
    outcome = run(live_emulator, receiver, tmp_path)
    first = outcome.out.splitlines()[0]
    assert outcome.code == 0 and first.startswith("forwarded 12 events from 6 records") and ", 1 batch) in " in first


def test_verbose_says_what_was_read_of_each_action_and_the_bytes_on_the_wire(live_emulator, receiver, tmp_path):
    outcome = run(live_emulator, receiver, tmp_path, "--verbose")
    lines = outcome.out.splitlines()
    sent, wire = re.search(r"\((\d+) bytes, (\d+) on the wire, 1 batch\)", lines[0]).groups()
    assert 0 < int(wire) < int(sent)  # compressed
    for name in ("hello", "shop/cart"):
        detail = lines[lines.index(f"  {name}: 3 activations, 6 events (newly monitored)") + 1]
        assert re.fullmatch(r"    read \S+T\S+ \.\. \S+T\S+ in 1 request, overlap \d+ s", detail), detail
    quiet = run(live_emulator, receiver, tmp_path)
    assert "    read " not in quiet.out


def test_ids_the_checkpoint_has_no_room_for_are_counted_and_said(tmp_path):
    from fakes import FakeAPI, FakeClock, FakeSink, MemoryStore, T0
    from logfwd.pipeline import forward
    from logfwd.sources.openwhisk.source import OpenWhiskSource

    clock = FakeClock(T0)
    api = FakeAPI(clock)
    for i in range(150):  # all live: each delivered id must be remembered until the range settles
        api.add("hello", int((T0 - 100) * 1000) + i)
    clock.now += 5
    source = OpenWhiskSource(api, ["hello"], clock=clock, max_seen=100)
    summary = forward(source, FakeSink(), MemoryStore(), clock=clock)
    assert summary["actions"]["hello"]["read"]["ids_forgotten"] == 50
    assert any("hello: 50 delivered activations did not fit" in w and "same _id" in w for w in summary["warnings"])


def test_a_failed_run_has_the_same_summary_shape_as_a_good_one(live_emulator, receiver, tmp_path):
    good = run(live_emulator, receiver, tmp_path, "--json").summary()
    (tmp_path / "broken.json").write_text("{nope")
    failed = run(live_emulator, receiver, tmp_path, "--json", checkpoint=f"file:{tmp_path / 'broken.json'}").summary()
    assert set(failed) - {"errors"} == set(good) - {"warnings"}
    assert (tmp_path / "broken.json").read_text() == "{nope"  # not replaced


def test_an_unreachable_checkpoint_store_still_gives_the_summary(live_emulator, receiver, tmp_path):
    from servers import free_port

    store = f"redis://127.0.0.1:{free_port()}/0"
    text = run(live_emulator, receiver, tmp_path, checkpoint=store)
    assert text.code == 1 and text.out.startswith("forwarded 0 events from 0 records")
    assert "  error: cannot connect to Redis at 127.0.0.1" in text.out
    summary = run(live_emulator, receiver, tmp_path, "--json", checkpoint=store).summary()
    assert not summary["ok"] and summary["checkpoint"].startswith("redis://127.0.0.1")
    assert receiver.events == []  # no lease, nothing forwarded
