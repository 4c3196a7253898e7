"""Sources and sinks chosen by name through their declarations, and the entries of each platform.

The toy sink and toy source live in the tests only (``toy_sink.py``, ``toy_source.py``): adding them
takes one registry line each, which these tests add at run time.
"""

import json
import time
from pathlib import Path

import pytest

from logfwd import plugs
from logfwd.cli import main as cli_main
from logfwd.entries import aws_lambda, web
from logfwd.errors import ConfigError
from logfwd.runner import run_once
from logfwd.settings import load_settings

from fakes import T0

OPENWHISK = {"apihost": "https://ow.invalid", "api_key": "u:k", "actions": "hello"}


@pytest.fixture(autouse=True)
def toys(monkeypatch):
    monkeypatch.setitem(plugs.SINKS, "toy", "toy_sink")
    monkeypatch.setitem(plugs.SOURCES, "toylines", "toy_source")


def test_the_default_pipeline_is_openwhisk_to_lumberjack():
    settings = load_settings({**OPENWHISK, "logstash_hosts": "l:1"}, {}, None)
    assert (settings.source, settings.sink) == ("openwhisk", "lumberjack")


def test_a_toy_sink_is_chosen_by_name_and_gets_the_events(emulator, clock, tmp_path):
    for i in range(3):
        emulator.add_activation("hello", start_ms=int(T0 * 1000) - 60_000 + i, lines=["2026-11-30T05:00:00.000Z stdout: hi"])
    out = tmp_path / "toy.out"
    settings = load_settings({"apihost": emulator.url, "api_key": emulator.api_key, "actions": "hello",
                              "sink": "toy", "toy_path": str(out), "checkpoint": f"file:{tmp_path / 'c.json'}",
                              "initial_lookback": "7200"}, {}, None)
    summary = run_once(settings, clock=clock)
    assert summary["ok"] and summary["records"] == 3 and summary["guarantee"] == "written"
    assert out.read_text().splitlines() == ["hi"] * 3
    assert run_once(settings, clock=clock)["records"] == 0  # the checkpoint moved


def test_unknown_source_or_sink_names_the_choices():
    with pytest.raises(ConfigError) as err:
        load_settings({**OPENWHISK, "sink": "kafka"}, {}, None)
    assert err.value.parameter == "sink" and "lumberjack" in str(err.value) and "toy" in str(err.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        load_settings({"apihost": "h", "overlap": "soon", "batch_size": "0"}, {}, None)
    text = str(err.value)
    for name in ("api_key", "actions", "overlap", "logstash_hosts", "batch_size"):
        assert f"'{name}'" in text, (name, text)
    assert text.startswith("5 problems with the parameters:")


def test_a_misspelled_required_parameter_gets_a_did_you_mean():
    with pytest.raises(ConfigError) as err:
        load_settings({**OPENWHISK, "logstash_host": "l:1"}, {}, None)
    assert "'logstash_host' was given: did you mean 'logstash_hosts'" in str(err.value)


def test_a_parameter_of_another_component_is_a_warning():
    settings = load_settings({**OPENWHISK, "logstash_hosts": "l:1", "toy_path": "x"}, {}, None)
    assert settings.warnings == ("parameter 'toy_path' belongs to sink 'toy', not to source 'openwhisk' and "
                                 "sink 'lumberjack': ignored",)


def test_an_unknown_logfwd_variable_gets_a_did_you_mean():
    settings = load_settings(OPENWHISK, {"LOGFWD_LOGSTASH_HOST": "l:1", "LOGFWD_LOGSTASH_HOSTS": "l:1"}, None)
    assert settings.warnings == ("unknown variable LOGFWD_LOGSTASH_HOST ignored; did you mean LOGFWD_LOGSTASH_HOSTS?",)


def test_secrets_of_a_plug_are_masked_in_repr():
    settings = load_settings({**OPENWHISK, "sink": "toy", "toy_path": "x", "toy_token": "hunter2"}, {}, None)
    assert "hunter2" not in repr(settings) and settings.toy_token.reveal() == "hunter2"


def toy_event(*records):
    return {"records": [{"id": rid, "lines": lines} for rid, lines in records]}


def test_a_pushed_source_answers_only_for_what_the_sink_delivered(tmp_path):
    out = tmp_path / "toy.out"
    settings = load_settings({"source": "toylines", "sink": "toy", "toy_path": str(out), "toy_fail_after": "3"},
                             {}, None)
    summary = run_once(settings, event=toy_event(("a", ["1", "2"]), ("b", ["3", "4"]), ("c", ["5"])))
    # 3 payloads were written: record a whole, half of b. b and c are not confirmed.
    assert out.read_text().splitlines() == ["1", "2", "3"]
    assert summary["answer"] == {"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "c"}]}
    assert not summary["ok"] and summary["records"] == 1 and "checkpoint" not in summary


def test_a_pushed_source_needs_an_event():
    settings = load_settings({"source": "toylines", "sink": "toy", "toy_path": "x"}, {}, None)
    with pytest.raises(ConfigError, match="logfwd invoke --event FILE"):
        run_once(settings)


class FakeLambdaContext:
    def __init__(self, remaining_ms):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


def test_the_lambda_handler_reads_its_settings_from_the_environment(tmp_path, monkeypatch, capsys):
    out = tmp_path / "toy.out"
    for name, value in {"SOURCE": "toylines", "SINK": "toy", "TOY_PATH": str(out), "TOY_FAIL_AFTER": "2"}.items():
        monkeypatch.setenv(f"LOGFWD_{name}", value)
    answer = aws_lambda.handler(toy_event(("a", ["1", "2"]), ("b", ["3"])), FakeLambdaContext(60_000))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "b"}]}
    logged = json.loads(capsys.readouterr().out)
    assert logged["records"] == 1 and "answer" not in logged


def test_the_lambda_deadline_comes_from_the_context(tmp_path, monkeypatch):
    for name, value in {"SOURCE": "toylines", "SINK": "toy", "TOY_PATH": str(tmp_path / "o")}.items():
        monkeypatch.setenv(f"LOGFWD_{name}", value)
    seen = {}
    original = aws_lambda.replace

    def spy(settings, **changes):
        seen.update(changes)
        return original(settings, **changes)

    monkeypatch.setattr(aws_lambda, "replace", spy)
    aws_lambda.handler(toy_event(("a", ["1"])), FakeLambdaContext(30_000))
    assert abs(seen["deadline"] - (time.time() + 30)) < 5


def test_the_web_action_turns_the_request_into_the_event(tmp_path):
    out = tmp_path / "toy.out"
    body = json.dumps(toy_event(("a", ["x"])))
    params = {"source": "toylines", "sink": "toy", "toy_path": str(out), "__ow_method": "post",
              "__ow_path": "/app/logs", "__ow_headers": {"Content-Type": "application/json"}, "__ow_body": body}
    request = web.request_of(params)
    assert request == {"method": "POST", "path": "/app/logs", "headers": {"content-type": "application/json"},
                       "body": body.encode()}


def test_the_web_action_hides_configuration_errors_from_the_sender():
    answer = web.main({"source": "toylines", "sink": "toy", "__ow_method": "post", "__ow_body": ""})
    assert answer["statusCode"] == 500 and "toy_path" not in answer["body"]


def test_logfwd_invoke_prints_the_platform_answer(tmp_path, capsys):
    event = tmp_path / "event.json"
    event.write_text(json.dumps(toy_event(("a", ["1"]), ("b", "not a list"))))
    rc = cli_main(["invoke", "--event", str(event), "-p", "source=toylines", "-p", "sink=toy",
                   "-p", f"toy_path={tmp_path / 'o'}"])
    out, err = capsys.readouterr()
    assert json.loads(out) == {"batchItemFailures": []}
    assert rc == 1 and "record 'b': 'lines' is not a list" in err  # reported, not fatal


def test_logfwd_invoke_names_a_missing_event_file(tmp_path, capsys):
    assert cli_main(["invoke", "--event", str(tmp_path / "none.json"), "-p", "source=toylines"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_run_help_lists_every_plug_and_its_parameters(capsys):
    with pytest.raises(SystemExit):
        cli_main(["run", "--help"])
    out = capsys.readouterr().out
    for name in ("source openwhisk (pulled)", "sink lumberjack (acknowledged)", "sink toy (written)", "toy_path"):
        assert name in out
