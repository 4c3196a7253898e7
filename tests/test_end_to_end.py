"""The whole forwarder over loopback: the emulator as OpenWhisk, the receiver as Logstash."""

import json
import os
import random
import subprocess
import sys
import uuid

import pytest

from logfwd.entries.openwhisk import main as action_main
from logfwd_dev.emulator.server import Emulator
from logfwd_dev.receiver.server import Receiver
from logfwd.retry import NO_WAIT, RetryPolicy
from logfwd.runner import run_once
from logfwd.settings import load_settings
from logfwd.sinks.tls import server_context

from fakes import T0
from tlsutil import make_pki






def params(emulator, receiver, tmp_path, **extra):
    return {"apihost": emulator.url, "api_key": emulator.api_key, "actions": "*",
            "logstash_hosts": "127.0.0.1:%d" % receiver.address[1], "logstash_tls": "false",
            "checkpoint": f"file:{tmp_path / 'checkpoint.json'}", "initial_lookback": "7200", **extra}


def forward(emulator, receiver, tmp_path, clock, environ=None, retry=NO_WAIT, **extra):
    settings = load_settings(params(emulator, receiver, tmp_path, **extra), environ or {}, None)
    return run_once(settings, clock=clock, retry=retry)


def ids(receiver) -> list[str]:
    return [event["@metadata"]["_id"] for event in receiver.events]


def produced_ids(emulator, names=None) -> set[str]:
    return {f"guest/{a['activationId']}:{i}" for a in emulator.produced()
            if names is None or a["name"] in names for i in range(a["lines"])}


def test_backlog_over_200_per_action_then_nothing_twice(emulator, receiver, tmp_path, clock):
    for i in range(450):
        emulator.add_activation("hello", start_ms=int((T0 - 3000) * 1000) + i * 1000, lines=3)
    for i in range(230):
        emulator.add_activation("shop/cart", start_ms=int((T0 - 200) * 1000) + i * 10, lines=2)
    clock.now += 5
    summary = forward(emulator, receiver, tmp_path, clock)
    assert summary["ok"], summary
    assert summary["records"] == 680 and summary["events"] == 450 * 3 + 230 * 2
    assert sorted(ids(receiver)) == sorted(produced_ids(emulator))
    again = forward(emulator, receiver, tmp_path, clock)
    assert again["ok"] and again["records"] == 0 and len(receiver.events) == 1810


def test_activation_visible_only_after_a_later_run_passed_its_start(emulator, receiver, tmp_path, clock):
    emulator.add_activation("hello", start_ms=int((T0 - 10) * 1000), lines=2)
    slow = emulator.add_activation("hello", start_ms=int((T0 - 20) * 1000), duration_ms=150_000, lines=4)
    clock.now += 5
    assert forward(emulator, receiver, tmp_path, clock)["records"] == 1
    clock.now += 60  # a run whose range covers the slow one's start, before it ended
    assert forward(emulator, receiver, tmp_path, clock)["records"] == 0
    clock.now += 120
    late = forward(emulator, receiver, tmp_path, clock)
    assert late["records"] == 1
    assert {e["faas"]["execution"] for e in receiver.events[-4:]} == {slow["activationId"]}
    assert sorted(ids(receiver)) == sorted(produced_ids(emulator))


def test_lagging_list_view(clock, receiver, tmp_path):
    with Emulator(clock=clock, list_lag=30, rng=random.Random(1)) as emulator:
        emulator.add_activation("hello", start_ms=int((T0 - 5) * 1000), lines=2)
        clock.now += 1
        assert forward(emulator, receiver, tmp_path, clock)["records"] == 0
        clock.now += 40
        assert forward(emulator, receiver, tmp_path, clock)["records"] == 1


def test_identical_start_milliseconds(emulator, receiver, tmp_path, clock):
    start = int((T0 - 30) * 1000)
    for _ in range(5):
        emulator.add_activation("hello", start_ms=start, lines=2)
    clock.now += 5
    assert forward(emulator, receiver, tmp_path, clock)["records"] == 5
    assert forward(emulator, receiver, tmp_path, clock)["records"] == 0
    assert sorted(ids(receiver)) == sorted(produced_ids(emulator))


def test_receiver_dropping_before_the_ack_loses_nothing(emulator, tmp_path, clock):
    for i in range(40):
        emulator.add_activation("hello", start_ms=int((T0 - 1000) * 1000) + i, lines=5)
    clock.now += 5
    with Receiver(drop_before_ack=1.0) as dropping:
        failed = forward(emulator, dropping, tmp_path, clock, retry=RetryPolicy(attempts=2, initial=0, maximum=0))
        assert not failed["ok"] and failed["records"] == 0 and failed["more"]
        assert dropping.events  # it received events, but never acknowledged them
    document = json.loads((tmp_path / "checkpoint.json").read_text())
    cursor = document["source"]["actions"]["hello"]
    assert cursor["seen"] == "" and cursor["since"] == int((T0 + 5 - 7200) * 1000)  # did not move
    with Receiver() as good:
        assert forward(emulator, good, tmp_path, clock)["records"] == 40
        assert sorted(ids(good)) == sorted(produced_ids(emulator))


def test_receiver_dropping_now_and_then_still_gets_everything(emulator, tmp_path, clock):
    for i in range(300):
        emulator.add_activation("hello", start_ms=int((T0 - 1000) * 1000) + i, lines=3)
    clock.now += 5
    with Receiver(drop_before_ack=0.3, partial_ack=0.3, rng=random.Random(5)) as flaky:
        summary = forward(emulator, flaky, tmp_path, clock, batch_size="50",
                          retry=RetryPolicy(attempts=50, initial=0, maximum=0))
        assert summary["ok"], summary
        assert set(ids(flaky)) == produced_ids(emulator)


@pytest.fixture(scope="module")
def pki():
    return make_pki()


def test_tls_with_a_generated_ca(emulator, tmp_path, clock, pki):
    emulator.add_activation("hello", start_ms=int((T0 - 10) * 1000), lines=2)
    clock.now += 5
    with Receiver(ssl_context=server_context(pki.server_cert, pki.server_key)) as rec:
        summary = forward(emulator, rec, tmp_path, clock, logstash_tls="true", logstash_ca=pki.ca,
                          logstash_hosts=f"localhost:{rec.address[1]}")
        assert summary["ok"] and len(rec.events) == 2
        wrong = forward(emulator, rec, tmp_path / "other", clock, logstash_tls="true", logstash_ca=pki.other_ca,
                        logstash_hosts=f"localhost:{rec.address[1]}", retry=RetryPolicy(attempts=1))
        assert not wrong["ok"] and "certificate" in " ".join(wrong["errors"])


def test_mutual_tls(emulator, tmp_path, clock, pki):
    emulator.add_activation("hello", start_ms=int((T0 - 10) * 1000), lines=2)
    clock.now += 5
    files = pki.write(tmp_path)
    context = server_context(pki.server_cert, pki.server_key, pki.ca, require_client_cert=True)
    with Receiver(ssl_context=context) as rec:
        host = f"127.0.0.1:{rec.address[1]}"
        without = forward(emulator, rec, tmp_path / "a", clock, logstash_tls="true", logstash_ca=files["ca"],
                          logstash_hosts=host, retry=RetryPolicy(attempts=1))
        assert not without["ok"] and not rec.events
        summary = forward(emulator, rec, tmp_path / "b", clock, logstash_tls="true", logstash_ca=files["ca"],
                          logstash_cert=files["client_cert"], logstash_key=files["client_key"], logstash_hosts=host)
        assert summary["ok"] and len(rec.events) == 2


@pytest.fixture
def real_time_emulator():
    # main() reads the clock itself, as on OpenWhisk: the emulator must use real time too.
    with Emulator(rng=random.Random(4)) as emu:
        yield emu


def test_openwhisk_entry_with_platform_variables_keeps_its_checkpoint_in_the_result(
        real_time_emulator, receiver, tmp_path, monkeypatch):
    import time
    emulator = real_time_emulator
    now_ms = int(time.time() * 1000)
    for i in range(5):
        emulator.add_activation("hello", start_ms=now_ms - 60_000 + i, lines=2)
    environ = {"__OW_API_HOST": emulator.url, "__OW_API_KEY": emulator.api_key, "__OW_NAMESPACE": "guest",
               "__OW_ACTION_NAME": "/guest/logfwd/forward", "__OW_DEADLINE": str(now_ms + 60_000)}
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    action_params = {"actions": "*", "logstash_hosts": "127.0.0.1:%d" % receiver.address[1],
                     "logstash_tls": "false", "namespace": "guest"}

    def invoke():
        activation_id = uuid.uuid4().hex
        monkeypatch.setenv("__OW_ACTIVATION_ID", activation_id)
        result = action_main(dict(action_params))
        # what the platform does after main returns: store the record with its result
        emulator.add_activation("logfwd/forward", start_ms=int(time.time() * 1000) - 50, duration_ms=10,
                                lines=0, result=result, activation_id=activation_id)
        return result

    first = invoke()
    assert "error" not in first and first["records"] == 5 and first["checkpoint"]["source"]["actions"]["hello"]
    assert "logfwd/forward" not in first["actions"]  # never forwards its own logs
    second = invoke()
    assert second["records"] == 0 and len(receiver.events) == 10
    json.dumps(second)  # the result is JSON

    # The CLI runs the same pass with the same parameters.
    cli = subprocess.run([sys.executable, "-m", "logfwd", "run", "--json",
                          *[f"--param={k}={v}" for k, v in action_params.items()],
                          f"--param=checkpoint=file:{tmp_path / 'cli.json'}"],
                         env={k: v for k, v in os.environ.items() if not k.startswith("__OW_ACTION")},
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["actions"]["hello"].items() >= {"activations": 5, "events": 10, "new": True,
                                                                  "overlap_seconds": 270.0}.items()


def test_entry_reports_bad_parameters_as_an_error_result(monkeypatch):
    monkeypatch.delenv("__OW_API_KEY", raising=False)
    result = action_main({"apihost": "h", "actions": "a", "logstash_hosts": "l:1"})
    assert set(result) == {"error"} and "api_key" in result["error"] and "provide-api-key" in result["error"]
