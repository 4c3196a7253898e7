"""The whole pipeline, Kinesis (or CloudWatch Logs) event -> syslog over TLS -> a real rsyslogd, through
``logfwd invoke`` and the AWS Lambda entry, for every payload shape in tests/events/."""

import json
from pathlib import Path

import pytest

from logfwd.cli import main as cli_main
from logfwd.entries import aws_lambda

from kinesis_events import kinesis_event

EVENTS = Path(__file__).parent / "events" / "kinesis"
# event file -> (messages rsyslog gets, the answer, problems reported)
SHAPES = {
    "plain.json": (4, {"batchItemFailures": []}, 0),
    "json_lines.json": (3, {"batchItemFailures": []}, 0),
    "cloudwatch.json": (5, {"batchItemFailures": []}, 0),
    "control_message.json": (1, {"batchItemFailures": []}, 0),
    "awslogs_direct.json": (4, {}, 0),
    "bad_records.json": (6, {"batchItemFailures": []}, 4),
}


class FakeLambdaContext:
    def __init__(self, remaining_ms: int):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_logfwd_invoke_every_payload_shape(name, rsyslog_tls, tmp_path, capsys):
    count, answer, problems = SHAPES[name]
    ca = tmp_path / "ca.pem"
    ca.write_text(rsyslog_tls.pki.ca)
    rc = cli_main(["invoke", "--event", str(EVENTS / name), "-p", "source=kinesis", "-p", "sink=syslog",
                   "-p", f"syslog_host=127.0.0.1:{rsyslog_tls.port}", "-p", f"syslog_ca={ca}"])
    out, err = capsys.readouterr()
    assert json.loads(out) == answer
    assert rc == (1 if problems else 0), err
    got = rsyslog_tls.wait_for(count)
    assert len(rsyslog_tls.settle(quiet=0.2)) == count
    assert all(m["version"] == "1" and m["structured_data"].startswith("[logfwd@32473 ") for m in got)
    if problems:
        assert err.count("record 49590668435772834867384701968912358023909117360707174") == problems
        flagged = [m for m in got if "bad_record=" in m["structured_data"] or "bad_json=" in m["structured_data"]]
        assert len(flagged) == problems


def lambda_env(monkeypatch, server, **more):
    values = {"SOURCE": "kinesis", "SINK": "syslog", "SYSLOG_HOST": f"127.0.0.1:{server.port}",
              "SYSLOG_CA": server.pki.ca, **more}
    for name, value in values.items():
        monkeypatch.setenv(f"LOGFWD_{name}", value)


def big_event(count: int) -> dict:
    return kinesis_event([b"web:R1/0123456789ab line %d" % n for n in range(count)], first=10_000_000)


def test_lambda_handler_forwards_a_batch(rsyslog_tls, monkeypatch, capsys):
    lambda_env(monkeypatch, rsyslog_tls)
    assert aws_lambda.handler(big_event(3000), FakeLambdaContext(60_000)) == {"batchItemFailures": []}
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] and summary["records"] == 3000 and summary["guarantee"] == "written"
    assert len(rsyslog_tls.wait_for(3000)) == 3000


def test_lambda_handler_with_the_receiver_down_reports_every_record(rsyslog_tls, monkeypatch):
    lambda_env(monkeypatch, rsyslog_tls)
    rsyslog_tls.stop()
    answer = aws_lambda.handler(big_event(5), FakeLambdaContext(60_000))
    assert answer == {"batchItemFailures": [{"itemIdentifier": str(10_000_000 + n)} for n in range(5)]}


def test_lambda_handler_without_partial_answers_fails_the_invocation(rsyslog_tls, monkeypatch):
    lambda_env(monkeypatch, rsyslog_tls, KINESIS_REPORT_BATCH_ITEM_FAILURES="false")
    rsyslog_tls.stop()
    with pytest.raises(aws_lambda.InvocationFailed, match="5 of 5 record"):
        aws_lambda.handler(big_event(5), FakeLambdaContext(60_000))


def test_the_kinesis_syslog_benchmark_runs(tmp_path):
    """``python -m tests.bench.kinesis_syslog`` at a tiny size: every figure is there (no timing asserted)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "tests.bench.kinesis_syslog", "--records", "300", "--repeats", "1",
                           "--out", str(out)], cwd=root, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["records"] == 300 and result["rounds"][0]["connections"] == 1
    assert result["lines_per_s"] > 0 and result["client_cpu_s"] > 0
    assert "lines/s, event to rsyslog's file" in done.stdout


def test_lambda_handler_near_its_deadline_forwards_nothing_and_reports_every_record(rsyslog_tls, monkeypatch):
    lambda_env(monkeypatch, rsyslog_tls, DEADLINE_GRACE="10")
    answer = aws_lambda.handler(big_event(3), FakeLambdaContext(5_000))  # 5 s left, stop 10 s before the end
    assert answer == {"batchItemFailures": [{"itemIdentifier": str(10_000_000 + n)} for n in range(3)]}
    assert rsyslog_tls.settle(quiet=0.3) == []
